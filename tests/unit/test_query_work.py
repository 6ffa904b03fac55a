"""The work a question costs, counted rather than timed: what is the same from one question to the next (a passage's
sentences, a text's normal form, a token's idf, the live index version) is found once and looked up after."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag import zh
from rag.generate import extractive
from rag.generate.extractive import ExtractiveGenerator
from rag.lexical import BM25Index
from rag.store import faiss_store
from rag.types import Chunk, Hit


def _hit(i: int, text: str) -> Hit:
    return Hit(Chunk(f"c{i}", f"d{i}", text, 0, len(text), "", "", "text"), 1.0, f"d{i}.txt", "", i + 1)


def test_a_passages_sentences_are_split_once_across_questions(tokenizer) -> None:
    first, second = "2023年，赣州规模以上工业增加值增长8.1%。", "赣州规模以上工业营业收入达3000亿元，居全省前列。"
    hits = [_hit(0, first + second)]
    gen = ExtractiveGenerator(tokenizer)
    gen.generate("2023年赣州规模以上工业营业收入是多少？", hits)
    before = extractive._chunk_units.cache_info()
    d = gen.generate("2023年赣州规模以上工业增加值增长了多少？", hits)
    after = extractive._chunk_units.cache_info()
    assert d.answerable and "8.1%" in d.text
    assert after.hits > before.hits and after.misses == before.misses  # the second question split nothing again
    n = len(first)
    assert extractive._units(hits[0]) == [(0, n, first), (n, n + len(second), second)]


def test_norm_and_numbers_of_a_short_text_are_computed_once() -> None:
    text = "２０２１年南昌 规模以上工业增加值<b>增长</b>了11.4％？"
    assert zh.norm(text) == zh._norm(text) == "2021年南昌规模以上工业增加值增长了11.4%?"
    before = zh._norm_cached.cache_info()
    assert zh.norm(text) == zh._norm(text)
    assert zh._norm_cached.cache_info().hits == before.hits + 1
    long = "增长" * zh.NORM_CACHE_CHARS  # a long text is normalised, not kept
    size = zh._norm_cached.cache_info().currsize
    assert zh.norm(long) == long and zh._norm_cached.cache_info().currsize == size
    found = zh.numbers(text)
    assert found == {"2021", "11.4%"}
    found.add("x")  # a caller's set is its own: the cached one is unchanged
    assert zh.numbers(text) == {"2021", "11.4%"}


def test_idf_is_read_from_the_index_once_per_token() -> None:
    bm25 = BM25Index.build([["南昌", "工业"], ["南昌", "增长"], ["赣州"]])
    first = bm25.idf("工业")
    calls = []
    real = bm25._idf_uncached
    bm25._idf_uncached = lambda t: calls.append(t) or real(t)  # type: ignore[method-assign]
    assert bm25.idf("工业") == first and calls == []
    assert bm25.idf("南昌") < first and bm25.idf("无此词") == 0.0 and calls == ["南昌", "无此词"]
    assert np.isclose(first, np.log(1 + (3 - 1 + 0.5) / 1.5))


def test_the_live_version_is_read_again_only_when_current_is_replaced(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "default"
    for v in ("v-1", "v-2"):
        (root / v).mkdir(parents=True)
        (root / v / "manifest.json").write_text("{}", encoding="utf-8")
    (root / "CURRENT").write_text("v-1", encoding="utf-8")
    reads = []
    real = faiss_store.current_version
    monkeypatch.setattr(faiss_store, "current_version", lambda d, c: reads.append(c) or real(d, c))
    store = faiss_store.FaissStore(tmp_path)
    assert [store.current_version("default") for _ in range(5)] == ["v-1"] * 5 and len(reads) == 1
    tmp = root / ".CURRENT-v-2"
    tmp.write_text("v-2", encoding="utf-8")
    os.replace(tmp, root / "CURRENT")  # how a build publishes
    assert store.current_version("default") == "v-2" and len(reads) == 2
    (root / "v-2" / "manifest.json").unlink()  # a version without its manifest is no version
    assert store.current_version("default") is None
    (root / "CURRENT").unlink()
    assert store.current_version("default") is None and store.current_version("other") is None
