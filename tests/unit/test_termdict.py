"""The collection's own dictionary: mined at index time, stored with the version, used by its tokenizer."""

from __future__ import annotations

import pytest

from rag import termdict
from rag.chunk import ChunkParams
from rag.indexer import Indexer, read_dictionary
from rag.ingest import read_bytes
from rag.library import Library
from rag.retrieve import FusionParams
from rag.store import faiss_store as store

# An invented company and project: no dictionary knows them, so only the collection can teach them.
CORPUS = [
    "瑞澜芯科年产百万片晶圆项目在临江新区开工，瑞澜芯科董事长出席仪式。",
    "临江新区管委会表示，瑞澜芯科年产百万片晶圆项目总投资八十亿元。",
    "去年瑞澜芯科营业收入增长两成，瑞澜芯科计划扩建研发中心。",
    "记者从临江新区获悉，瑞澜芯科年产百万片晶圆项目预计明年投产。",
    "多家企业落户临江新区，其中瑞澜芯科最受关注。",
]


def _doc(name: str, text: str):
    return read_bytes(text.encode(), name)[0]


def test_mining_finds_the_collections_names_whole_and_not_their_fragments(tokenizer) -> None:
    terms = {t.word: t for t in termdict.mine(CORPUS, tokenizer)}
    assert "瑞澜芯科" in terms and terms["瑞澜芯科"].tag == "nz"
    assert "临江新区" in terms and terms["临江新区"].tag == "ns"
    assert not [w for w in terms if w in "瑞澜芯科" and w != "瑞澜芯科"]  # no piece of the name on its own
    assert all(not tokenizer.known(w) for w in terms)  # only what jieba does not already know
    tok = tokenizer.with_terms((t.word, t.freq, t.tag) for t in terms.values())
    assert "瑞澜芯科" in tok.tokens("瑞澜芯科的营业收入是多少？")
    assert "瑞澜芯科" in tok.entities("瑞澜芯科的营业收入是多少？")


def test_dictionary_text_round_trips() -> None:
    terms = [termdict.Term("瑞澜芯科", 12, "nz"), termdict.Term("临江新区", 9, "ns")]
    assert termdict.parse(termdict.to_text(terms)) == terms


def test_general_tokenizer_no_longer_knows_the_seeds_names(tokenizer) -> None:
    assert not tokenizer.known("华勤千亿产业基地") and not tokenizer.known("江铃集团")
    assert "规模以上工业增加值" in tokenizer.tokens("南昌规模以上工业增加值")  # general terms stay


@pytest.fixture
def indexer(tmp_path, fake_embedder, tokenizer):
    return Indexer(tmp_path / "index", fake_embedder, tokenizer, ChunkParams(120, 200, 20))


def _stored_tokens_match(data, tok, docs) -> bool:
    from rag.indexer import passage_tokens

    return all(
        t == passage_tokens(c.index_text(docs[c.doc_id].title), tok)
        for c, t in zip(data.chunks, data.tokens, strict=True)
    )


def test_index_stores_the_dictionary_and_the_collection_tokenizer_uses_it(indexer, fake_embedder, tokenizer) -> None:
    docs = [_doc(f"n{i}.txt", t) for i, t in enumerate(CORPUS)]
    indexer.update("c", add=docs)
    data = store.load(indexer.index_dir, "c")
    meta = data.manifest["dictionary"]
    assert (data.path / meta["file"]).is_file() and "files" not in data.manifest and meta["terms"] >= 2
    terms = read_dictionary(data)
    assert "瑞澜芯科" in {t.word for t in terms}
    r = Library(indexer.index_dir, fake_embedder, tokenizer, FusionParams()).retriever("c")
    assert r.tokenizer is not tokenizer and r.tokenizer.n_terms == len(terms)
    assert "瑞澜芯科" in r.search("瑞澜芯科投资多少", 3, "bm25").query_tokens
    assert any("瑞澜芯科" in t for t in data.tokens)  # passages were tokenized with it at index time
    assert _stored_tokens_match(data, r.tokenizer, data.documents)


def test_small_update_keeps_the_dictionary_large_one_mines_again_and_retokenizes(indexer, fake_embedder) -> None:
    indexer.update("c", add=[_doc(f"n{i}.txt", t) for i, t in enumerate(CORPUS)])
    sha = store.load(indexer.index_dir, "c").manifest["dictionary"]["sha256"]
    indexer.update("c", add=[_doc("x.txt", "天气晴。")])
    assert store.load(indexer.index_dir, "c").manifest["dictionary"]["sha256"] == sha
    verbs = ("投产", "扩产", "招聘", "上市", "签约", "获奖")
    big = "。".join(
        f"{y}年澄湖光电第{i}条产线{v}，澄湖光电{w}"
        for i, (y, v, w) in enumerate((2019 + i % 5, verbs[i % 6], verbs[(i + 2) % 6]) for i in range(14))
    )
    rep = indexer.update("c", add=[_doc("big.txt", big)])
    data = store.load(indexer.index_dir, "c")
    assert data.manifest["dictionary"]["sha256"] != sha and "澄湖光电" in {t.word for t in read_dictionary(data)}
    assert rep.added == ["big"] and set(data.documents) == {f"n{i}" for i in range(5)} | {"x", "big"}
    tok = Library(indexer.index_dir, fake_embedder, indexer.tokenizer, FusionParams()).retriever("c").tokenizer
    assert _stored_tokens_match(data, tok, data.documents)  # old passages too: one dictionary per version


def test_a_changed_dictionary_file_fails_loudly(indexer, fake_embedder, tokenizer) -> None:
    indexer.update("c", add=[_doc(f"n{i}.txt", t) for i, t in enumerate(CORPUS)])
    data = store.load(indexer.index_dir, "c")
    (data.path / data.manifest["dictionary"]["file"]).write_text("别的 5 n\n", encoding="utf-8")
    from rag.errors import IndexMismatch

    with pytest.raises(IndexMismatch, match="rebuild"):
        Library(indexer.index_dir, fake_embedder, tokenizer, FusionParams()).retriever("c")
