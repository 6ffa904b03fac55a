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


def test_ray_engine_reads_files_with_the_limits_of_the_entry_point(ray_local, tmp_path) -> None:
    """Both passes of a real 1-worker Ray run read under the limits `scan` was given; `rag index`'s default is the
    operator's (no upload limits), as the in-process engine reads the same files."""
    from dataclasses import replace

    from rag.distributed import RayEngine
    from rag.errors import BadInput
    from rag.ingest import IngestLimits

    f = tmp_path / "projects.csv"
    f.write_text("项目,年产值\n" + "".join(f"赣江{i}号项目,{i + 10}亿元\n" for i in range(5)), encoding="utf-8")
    engine = RayEngine(settings_for(tmp_path / "index"), workers=1)
    with pytest.raises(BadInput, match="RAG_MAX_TABLE_ROWS"):
        engine.scan([f], IngestLimits(max_table_rows=4))
    docs = engine.scan([f])
    assert [d.doc_id for d in docs] == [d.doc_id for d in load_paths([f])]
    assert docs[0].limits == IngestLimits.unlimited()
    with pytest.raises(Exception, match="RAG_MAX_TABLE_ROWS"):  # the workers' second read keeps the scan's limits
        list(engine([replace(d, limits=IngestLimits(max_table_rows=4)) for d in docs]))
    batches = list(engine(docs))
    assert sum(len(b.chunks) for b in batches) >= 5 and batches[0].documents[0].doc_id == docs[0].doc_id
