"""The indexer's per-passage stages done once and cheaply give what the full passes give: place names tagged only
where a place can be, on every seed passage."""

from __future__ import annotations

import pytest

from rag import termdict
from rag.chunk import ChunkParams, chunk_document
from rag.config import Settings
from rag.generate import subject
from rag.types import Chunk


@pytest.fixture(scope="module")
def seed_passages(seed_docs, tokenizer):
    """The seeds' passages (with their titles) and the collection's tokenizer, as an index build makes them."""
    s = Settings()
    params = ChunkParams(s.chunk_size, s.chunk_max, s.chunk_overlap)
    terms = termdict.mine((f"{d.title}\n{d.text}" for d in seed_docs), tokenizer)
    tok = tokenizer.with_terms(terms)
    passages = [(c, d.title) for d in seed_docs for c in chunk_document(d, params)]
    assert len(passages) > 300
    return passages, tok


def _full(chunk: Chunk, title: str, tok) -> tuple[str, ...]:
    """known_places over the whole text: every block tagged."""
    return tuple(sorted(subject.known_places.__wrapped__(chunk.heading + " " + title + "\n" + chunk.text, tok)))


def test_index_places_are_those_of_the_full_tagging_on_every_seed_passage(seed_passages) -> None:
    passages, tok = seed_passages
    got = [subject.index_places(c, t, tok) for c, t in passages]
    assert got == [_full(c, t, tok) for c, t in passages]
    assert sum(bool(p) for p in got) > 300  # the bulletins name places in nearly every passage


@pytest.mark.parametrize(
    "text",
    [
        "南昌市与赣州、新余高新区；吉安县和瑞金，2023年南康区增长。",
        "这一段没有地名，只有数字123和English words。",
        "龘靐齉爩麤灪" * 20 + "，赣州市。后来到了赣州和九江市。",  # past the HMM budget: the rest tagged without it
        "内蒙古自治区锡林郭勒盟正蓝旗、乌海市海勃湾区",
        "南昌市：培育“生力军”\n园区是主阵地，永宁工业园区：“园区”",  # a park word in a block after a place's
    ],
)
def test_index_places_on_hard_texts(text: str, tokenizer) -> None:
    c = Chunk(chunk_id="x", doc_id="d", text=text, start=0, end=len(text), heading="第一章 赣南")
    assert subject.index_places(c, "某市报告", tokenizer) == _full(c, "某市报告", tokenizer)


def test_a_question_is_tokenized_once_and_its_tokens_cannot_be_changed_by_a_caller() -> None:
    from rag.zh import Tokenizer

    tok = Tokenizer()
    seen: list[str] = []
    words = tok.words
    tok.words = lambda text: seen.append(text) or words(text)  # type: ignore[method-assign]
    q = "赣州市2023年地区生产总值是多少？"
    first = tok.tokens(q)
    first.append("改了")
    assert tok.tokens(q) == first[:-1] and "赣州市" in first and "是" not in first
    assert seen == [q]
    long = "南昌市工业投资同比增长。" * 40  # a passage: tokenized each time, not kept
    assert tok.tokens(long) == tok.tokens(long) and seen.count(long) == 2


def test_passage_tokens_line_by_line_are_the_whole_texts_tokens_on_every_seed_passage(seed_passages) -> None:
    from rag.indexer import passage_tokens

    passages, tok = seed_passages
    texts = [c.index_text(t) for c, t in passages]
    # the whole text in one jieba pass, nothing cached, each word followed by its parts
    whole = [[p for w in tok._tokens(x) for p in (w, *tok._subwords(w))] for x in texts]
    assert [passage_tokens(x, tok) for x in texts] == whole
    assert [passage_tokens(x, tok) for x in texts] == whole  # and again, from the cache
    assert sum(map(len, whole)) > 20_000


@pytest.mark.parametrize(
    "text",
    [
        "赣州市 \n 2023年GDP增长5.5%\r\n下一行\n\n",
        "ΟΔΟΣ\nΣ 希腊 \u0301字\n１２３％，全角",
        "标题\n" + "很长的一行，南昌市工业投资同比增长18.7%。" * 30,
    ],
)
def test_passage_tokens_at_line_breaks(text: str, tokenizer) -> None:
    from rag.indexer import passage_tokens

    assert passage_tokens(text, tokenizer) == [x for w in tokenizer._tokens(text) for x in (w, *tokenizer.subwords(w))]
