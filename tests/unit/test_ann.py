"""The dense index chosen by size: exact below the threshold, IVF (calibrated to recall@10 ≥ 0.95) above it."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from bench.synth import clustered_vectors, queries_like
from rag import ann
from rag.chunk import ChunkParams
from rag.errors import ConfigError
from rag.indexer import Indexer
from rag.ingest import read_bytes
from rag.library import Library
from rag.retrieve import FusionParams
from rag.store import faiss_store as store


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray]:
    x = clustered_vectors(20_000, 384, seed=1)
    return x, queries_like(x, 200, seed=2)


def test_choice_by_size_and_unknown_kind_lists_valid() -> None:
    p = ann.AnnParams(exact_below=10_000)
    assert ann.choose(9_999, p) == "flat" and ann.choose(10_000, p) == "ivf"
    assert ann.choose(10**6, ann.AnnParams(kind="hnsw")) == "hnsw"
    with pytest.raises(ConfigError, match="valid: auto, flat"):
        ann.choose(10, ann.AnnParams(kind="annoy"))


@pytest.mark.parametrize("kind", ["auto", "ivf_sq8", "hnsw"])
def test_approximate_index_reaches_recall_on_fresh_queries(corpus, kind) -> None:
    x, q = corpus
    index, info = ann.build(x, ann.AnnParams(kind=kind, exact_below=10_000))
    assert info.kind == ("ivf" if kind == "auto" else kind) and index.ntotal == len(x)
    assert info.calibrated_recall is not None and info.calibrated_recall >= 0.95
    exact = ann.exact_search(x, q, 10)
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    assert (flat.search(q, 10)[1] == exact).mean() > 0.99  # the blocked GEMM agrees with FAISS's exact search
    _, ids = index.search(q, 10)
    assert ann.recall_at_k(ids, exact, 10) >= 0.95


def test_below_threshold_is_exact(corpus) -> None:
    x, q = corpus
    index, info = ann.build(x[:5000])
    assert info.kind == "flat" and isinstance(index, faiss.IndexFlatIP)
    assert ann.recall_at_k(index.search(q, 10)[1], ann.exact_search(x[:5000], q, 10)) == 1.0


def test_store_with_approximate_index_updates_incrementally(tmp_path, fake_embedder, tokenizer) -> None:
    """An IVF version keeps its calibrated nprobe on disk, and the next version reuses its raw vectors."""
    idx = Indexer(
        tmp_path / "index", fake_embedder, tokenizer, ChunkParams(60, 100, 0), ann_params=ann.AnnParams(exact_below=20)
    )
    docs = [
        read_bytes(f"第{i}号文件。南昌市{i}年工业投资增长{i}.5%。赣州地区生产总值{i}亿元。".encode() * 4, f"d{i}.txt")[
            0
        ]
        for i in range(30)
    ]
    idx.update("c", add=docs)
    data = store.load(idx.index_dir, "c", fake_embedder.id)
    assert (
        data.manifest["ann"]["kind"] == "ivf"
        and faiss.extract_index_ivf(data.vectors).nprobe == data.manifest["ann"]["params"]["nprobe"]
    )
    assert data.raw_vectors().shape == (len(data.chunks), fake_embedder.dim)
    before = fake_embedder.embedded
    extra = read_bytes("新增文件：九江港口吞吐量增长7%。".encode(), "new.txt")[0]
    r = idx.update("c", add=[extra])
    assert r.added == ["new"] and fake_embedder.embedded - before == r.embedded == 1
    new = store.load(idx.index_dir, "c", fake_embedder.id)
    kept = {c.chunk_id: i for i, c in enumerate(data.chunks)}
    for i, c in enumerate(new.chunks):
        if c.chunk_id in kept:
            assert np.array_equal(new.raw_vectors()[i], data.raw_vectors()[kept[c.chunk_id]])
    hits = (
        Library(idx.index_dir, fake_embedder, tokenizer, FusionParams())
        .retriever("c")
        .search("九江港口吞吐量", 3, "dense")
        .hits
    )
    assert hits[0].chunk.doc_id == "new"
