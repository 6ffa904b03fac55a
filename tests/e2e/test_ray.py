"""`rag index --engine ray` on a real local Ray instance with 2 workers reading the files (the real model; vectors
from the shared embedding cache): the same index as the in-process engine, into FAISS through the CLI and into
Milvus Lite."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.ingest import load_paths
from tests.helpers import SEEDS, SHARED_CACHE, settings_for

pytestmark = pytest.mark.model
pytest.importorskip("ray")

DOCS = [SEEDS / "001_1671bd4fc93f4603.txt", SEEDS / "004_50c721a1e63a8171.txt"]


@pytest.fixture(scope="module")
def ray_local():
    import ray

    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_index(tmp_path_factory):
    """The same documents indexed by the in-process engine."""
    from rag.factory import Components

    d = tmp_path_factory.mktemp("local")
    c = Components(settings_for(d))
    c.indexer.update("r", add=load_paths(DOCS))
    return c.store.load("r")


def test_cli_ray_engine_builds_the_same_index(ray_local, local_index, tmp_path, monkeypatch, capsys) -> None:
    from rag.cli import main
    from rag.config import get_settings
    from rag.factory import Components

    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path))
    monkeypatch.setenv("RAG_EMBED_CACHE", str(SHARED_CACHE))
    get_settings.cache_clear()
    try:
        rc = main(["index", *map(str, DOCS), "--collection", "r", "--engine", "ray", "--workers", "2", "--json"])
        report = json.loads(capsys.readouterr().out)
    finally:
        get_settings.cache_clear()
    assert rc == 0 and report["added"] == ["001_1671bd4fc93f4603", "004_50c721a1e63a8171"]
    assert report["n_chunks"] == report["embedded"] + report["cached"] == len(local_index.chunks)
    data = Components(settings_for(tmp_path)).store.load("r")
    assert [c.chunk_id for c in data.chunks] == [c.chunk_id for c in local_index.chunks]
    assert data.tokens == local_index.tokens
    assert np.allclose(data.raw_vectors(), local_index.raw_vectors(), atol=1e-5)
    hits = Components(settings_for(tmp_path)).pipeline.search("2021年南昌规模以上工业增加值增长了多少", 3, "r").hits
    assert any("11.4%" in h.chunk.text for h in hits)


def test_ray_engine_streams_into_milvus(ray_local, local_index, tmp_path) -> None:
    pytest.importorskip("pymilvus")
    from rag.factory import Components

    s = settings_for(tmp_path / "index", store="milvus", milvus_uri=str(tmp_path / "milvus.db"), index_engine="ray")
    c = Components(s)
    engine = c.ray_engine
    assert c.indexer.engine is engine and engine.workers == 2  # RAG_RAY_WORKERS' default
    scanned = engine.scan(DOCS)  # the workers read the files: the driver holds ids and content hashes only
    assert [d.doc_id for d in scanned] == sorted(local_index.documents) and all(not d.text for d in scanned)
    r = c.indexer.update("r", add=scanned)
    assert r.n_chunks == len(local_index.chunks) and r.n_documents == 2
    data = c.store.load("r")
    assert sorted(ch.chunk_id for ch in data.chunks) == sorted(ch.chunk_id for ch in local_index.chunks)
    for did, d in local_index.documents.items():  # the text came back from the workers with the passages
        assert data.documents[did].text == d.text and data.documents[did].content_hash == d.content_hash
    again = c.indexer.update("r", add=engine.scan(DOCS))
    assert again.version == "" and again.unchanged == sorted(local_index.documents)
    hits = c.pipeline.search("2021年南昌规模以上工业增加值增长了多少", 3, "r").hits
    assert any("11.4%" in h.chunk.text for h in hits)
