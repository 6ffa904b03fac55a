from __future__ import annotations

import json
import re
from collections import Counter

from rag.evaluate import answer_correct, beir_scores, hits, load_qa, score_retrieval
from tests.conftest import QA, SEEDS


def test_hit_definition_uses_80_percent_longest_common_substring() -> None:
    ev = "规模以上工业增加值同比增长11.4%"
    assert hits("2021年，规模以上工业增加值同比增长11.4%，排名第6位", ev)
    assert hits("<p>规模以上工业增加值 同比增长11.</p>", ev)  # 16 of 18 chars, tags and spaces ignored
    assert not hits("规模以上工业增加值同比增长", ev)  # 13 of 18 < ceil(14.4)
    assert not hits("规模以上工业增加值", ev)


def test_answer_scoring_by_type() -> None:
    item = {"type": "numeric", "answer": "11.4%", "answer_aliases": ["百分之十一点四"]}
    assert answer_correct(item, "同比增长11.4%[1]。") == 1.0
    assert answer_correct(item, "增长" + "很多" * 80 + "11.4%") == 0.0  # a pasted passage does not count
    assert answer_correct({"type": "list", "answer": "水、电、氢气"}, "主要是水和电") == 2 / 3
    assert answer_correct({"type": "summary", "answer_parts": ["甲", "乙"]}, "甲") == 0.5


def test_retrieval_scores() -> None:
    items = [{"id": "a", "type": "factoid", "doc": "x", "evidence": "南昌工业投资增长"},
             {"id": "b", "type": "factoid", "doc": "x", "evidence": "赣州地区生产总值"}]
    s = score_retrieval(items, {"a": ["无关", "南昌工业投资增长18.7%"], "b": ["别的"]})
    assert s.hit_at[1] == 0.0 and s.hit_at[5] == 0.5 and s.mrr10 == 0.25


def test_beir_scores() -> None:
    r = beir_scores({"q": ["d2", "d1"]}, {"q": {"d1": 1}}, 10)
    assert r["mrr@10"] == 0.5 and r["recall@10"] == 1.0 and r["hit@1"] == 0.0


def test_qa_set_is_complete_and_its_evidence_is_exact() -> None:
    items = load_qa(QA)
    raw = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    types = Counter(it["type"] for it in items)
    assert len(items) >= 100
    assert types["unanswerable"] >= 15 and types["paraphrase"] >= 15
    assert set(types) == {"factoid", "numeric", "list", "multi-doc", "unanswerable", "paraphrase", "summary"}
    assert {d for it in items for d in ([it["doc"]] if isinstance(it["doc"], str) else it["doc"] or [])} == set(raw)
    assert len({it["id"] for it in items}) == len(items)
    for it in items:
        docs = [it["doc"]] if isinstance(it["doc"], str) else it["doc"] or []
        evs = [it["evidence"]] if isinstance(it["evidence"], str) else it["evidence"] or []
        if it["type"] == "unanswerable":
            assert not docs and not evs and it["answerable" if False else "answer"] == ""
            continue
        assert evs, it["id"]
        for ev in evs:
            assert any(ev in raw[d] for d in docs), (it["id"], ev)


def test_paraphrases_share_no_key_phrase_with_evidence() -> None:
    generic = {"南昌市", "是多少", "多少个", "有多少", "什么", "哪些"}
    for it in load_qa(QA):
        if it["type"] != "paraphrase":
            continue
        q = re.sub(r"[^\u4e00-\u9fff]", "", it["question"])
        ev = it["evidence"]
        shared = {q[i : i + 3] for i in range(len(q) - 2) if q[i : i + 3] in ev} - generic
        assert not shared, (it["id"], shared, json.dumps(it, ensure_ascii=False))
