from __future__ import annotations

import json
import math
import re
from collections import Counter

import pytest

from rag.evaluate import answer_correct, beir_scores, hits, ir_scores, load_qa, score_retrieval
from rag.evaluate.compare import Passage
from rag.evaluate.qa import failures
from rag.evaluate.qa_answers import summarise_answers
from rag.evaluate.retrieval import RetrievalRun, retrieval_report
from tests.helpers import QA, SEEDS


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
    items = [
        {"id": "a", "type": "factoid", "doc": "x", "evidence": "南昌工业投资增长"},
        {"id": "b", "type": "factoid", "doc": "x", "evidence": "赣州地区生产总值"},
    ]
    s = score_retrieval(items, {"a": ["无关", "南昌工业投资增长18.7%"], "b": ["别的"]})
    assert s.hit_at[1] == 0.0 and s.hit_at[5] == 0.5 and s.mrr10 == 0.25


def test_beir_scores() -> None:
    r = beir_scores({"q": ["d2", "d1"]}, {"q": {"d1": 1}}, 10)
    assert r["mrr@10"] == 0.5 and r["recall@10"] == 1.0 and r["hit@1"] == 0.0


def test_ir_scores_match_hand_computed_values() -> None:
    """ranx on a toy run, against values worked out by hand."""
    qrels = {"q1": {"d1": 1}, "q2": {"d3": 1, "d4": 1}, "q3": {"d9": 1}, "q4": {"d0": 0}}
    run = {"q1": ["d2", "d1"], "q2": ["d4", "d5", "d3"], "q3": [f"x{i}" for i in range(10)] + ["d9"]}
    r = ir_scores(run, qrels, ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@10", "recall@100"))
    # q4 has no positive judgement: not scored. q1: first relevant at rank 2; q2: ranks 1 and 3; q3: rank 11.
    assert r["n_queries"] == 3
    assert r["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert r["hit@5"] == r["hit@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert r["mrr@10"] == pytest.approx((1 / 2 + 1 + 0) / 3, abs=1e-4)
    ndcg_q1 = 1 / math.log2(3)
    ndcg_q2 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert r["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3, abs=1e-4)
    assert r["recall@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert r["recall@100"] == pytest.approx(1.0, abs=1e-4)


def test_ir_scores_count_a_judged_query_without_results_as_zero() -> None:
    r = ir_scores({"q1": ["d1"]}, {"q1": {"d1": 1}, "q2": {"d2": 1}}, ("hit@1", "mrr@10"))
    assert r == {"hit@1": 0.5, "mrr@10": 0.5, "n_queries": 2}


ITEMS = [
    {
        "id": "a",
        "type": "factoid",
        "question": "南昌工业投资增长多少",
        "answer": "18.7%",
        "doc": "x.txt",
        "evidence": "南昌工业投资增长18.7%",
    },
    {
        "id": "b",
        "type": "numeric",
        "question": "赣州生产总值",
        "answer": "4606亿元",
        "doc": "y.txt",
        "evidence": "赣州地区生产总值4606亿元",
    },
    {
        "id": "c",
        "type": "multi-doc",
        "question": "两地",
        "answer": "",
        "answer_parts": ["甲", "乙"],
        "doc": ["x.txt", "y.txt"],
        "evidence": ["南昌工业投资增长18.7%", "赣州地区生产总值4606亿元"],
    },
    {"id": "d", "type": "unanswerable", "question": "九江", "answer": "", "doc": None, "evidence": None},
]


def _run() -> RetrievalRun:
    filler = [Passage(f"无关段落{i}", "z", "z.txt", 0.1) for i in range(6)]
    return RetrievalRun(
        {
            "a": [Passage("南昌工业投资增长18.7%，位居前列", "x", "x.txt", 0.9), *filler],
            "b": [*filler, Passage("赣州地区生产总值4606亿元", "y", "y.txt", 0.2)],  # found at rank 7: missed at 5
            "c": [Passage("南昌工业投资增长18.7%", "x", "x.txt", 0.8), *filler],
            "d": filler[:3],
        },
        [1.0, 2.0, 3.0, 4.0],
    )


def test_retrieval_report_breaks_down_by_type_and_document() -> None:
    r = retrieval_report(ITEMS, _run())
    assert r["n_single"] == 2 and r["n_multi"] == 1
    assert r["hit@1"] == 0.5 and r["hit@5"] == 0.5 and r["hit@10"] == 1.0
    assert r["by_type"]["factoid"] == {"hit@1": 1.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr@10": 1.0, "n": 1}
    assert r["by_type"]["numeric"]["hit@5"] == 0.0 and r["by_type"]["numeric"]["mrr@10"] == round(1 / 7, 4)
    assert r["by_type"]["multi-doc"]["evidence_recall@10"] == 0.5
    assert set(r["by_doc"]) == {"x.txt", "y.txt"} and r["by_doc"]["y.txt"]["hit@10"] == 1.0
    assert r["latency_ms_p50"] == 2.5 and len(r["latencies_ms"]) == 4


def test_retrieval_report_breaks_down_by_origin() -> None:
    items = [{**ITEMS[0], "origin": "fresh-dev2"}, *ITEMS[1:]]
    r = retrieval_report(items, _run())
    # answerable items only; an item without an origin is one of the set's original items
    assert set(r["by_origin"]) == {"fresh-dev2", "original"}
    assert r["by_origin"]["fresh-dev2"]["hit@1"] == 1.0 and r["by_origin"]["fresh-dev2"]["n"] == 1
    assert r["by_origin"]["original"]["hit@1"] == 0.0 and r["by_origin"]["original"]["hit@10"] == 1.0
    assert r["by_origin"]["original"]["evidence_recall@10"] == 0.5 and r["by_origin"]["original"]["n_multi"] == 1


def test_answer_summary_breaks_down_by_origin() -> None:
    def rec(i, kind, origin, score, answerable=True, supported=True):
        r = {"id": i, "type": kind, "doc": "x.txt", "origin": origin, "answerable": answerable, "score": score}
        r |= {"answer": "", "citations": [], "latency_ms": 1.0}
        return r if kind == "unanswerable" else r | {"false_refusal": not answerable, "supported": supported}

    records = [
        rec("h1", "numeric", "holdout2", 1.0),
        rec("h2", "factoid", "holdout2", 0.0, answerable=False, supported=False),
        rec("h3", "unanswerable", "holdout2", 1.0, answerable=False),
        rec("h4", "list", "holdout2", 0.5),  # not one of the accuracy types, but counts for refusals and citations
        rec("h5", "numeric", "holdout", 0.0, supported=False),
        rec("h6", "unanswerable", "holdout", 0.0),
        rec("q1", "numeric", None, 1.0),  # no origin: one of the set's original items
    ]
    a = summarise_answers(records)
    assert list(a["by_origin"]) == ["holdout", "holdout2", "original"]
    h2 = a["by_origin"]["holdout2"]
    assert h2 == {
        "answer_accuracy": 0.5,
        "unanswerable_refused": 1.0,
        "false_refusal": round(1 / 3, 4),
        "citation_support": round(2 / 3, 4),
        "n": 4,
        "n_accuracy": 2,
        "n_unanswerable": 1,
    }
    h1 = a["by_origin"]["holdout"]
    assert h1["answer_accuracy"] == 0.0 and h1["unanswerable_refused"] == 0.0 and h1["citation_support"] == 0.0
    assert a["by_origin"]["original"]["answer_accuracy"] == 1.0 and a["by_origin"]["original"]["n"] == 1
    assert sum(x["n"] for x in a["by_origin"].values()) == a["n"] == 7


def test_failures_list_retrieval_misses_at_5_and_answers_below_1() -> None:
    answers = {
        "items": [
            {"id": "a", "score": 1.0, "answerable": True, "answer": "增长18.7%[1]", "citations": []},
            {"id": "b", "score": 1.0, "answerable": True, "answer": "4606亿元[1]", "citations": []},
            {"id": "c", "score": 0.5, "answerable": True, "answer": "甲[1]", "citations": []},
            {"id": "d", "score": 0.0, "answerable": True, "answer": "九江增长很多[1]", "citations": []},
        ]
    }
    f = {x["id"]: x for x in failures(ITEMS, _run(), "hybrid", answers)}
    assert set(f) == {"b", "c", "d"}  # a: found at rank 1 and answered
    assert f["b"]["first_hit_rank"] == 7 and f["b"]["reasons"] == ["retrieval: evidence not in top 5"]
    assert f["b"]["expected_evidence"] == ["赣州地区生产总值4606亿元"] and f["b"]["answer"] == "4606亿元[1]"
    assert [p["source"] for p in f["b"]["top3"]] == ["z.txt"] * 3 and f["b"]["top3"][0]["score"] == 0.1
    assert f["c"]["reasons"] == ["retrieval: 1 of 2 evidence strings in top 5", "answer: scored 0.50"]
    assert f["d"]["reasons"] == ["answer: scored 0.00"] and f["d"]["first_hit_rank"] is None


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


def test_rgb_rule_needs_one_alternative_of_every_group() -> None:
    from rag.evaluate.answers import answer_groups, rgb_correct, score_answer

    groups = answer_groups({"metadata": {"answers": [["4分钟", "四分钟"], "踢爆"]}})
    assert groups == [["4分钟", "四分钟"], ["踢爆"]]
    assert rgb_correct("四分钟内不得配对，否则算踢爆[1]。", groups)
    assert not rgb_correct("四分钟内不得配对[1]。", groups)  # the second group is missing
    assert rgb_correct("４ 分钟，踢爆", groups)  # after norm(): NFKC, no spaces
    assert not rgb_correct("anything", []) and answer_groups({"metadata": {}}) == []
    cit = [{"doc_id": "d1", "text": "无关"}, {"doc_id": "d9", "text": "玩家4分钟内不得配对，踢爆"}]
    s = score_answer({"answerable": True, "answer": "4分钟，踢爆", "citations": cit}, groups, {"d1": 1})
    assert s["correct"] and s["supported"] and not s["evidence"] and s["citations_supporting"] == 2
    refused = score_answer({"answerable": False, "answer": "无法从文档中找到答案", "citations": cit}, groups, {"d9": 1})
    assert not refused["correct"] and not refused["supported"] and refused["citations"] == 0
    long = score_answer({"answerable": True, "answer": "4分钟踢爆" + "很长" * 80, "citations": []}, groups, {})
    assert long["correct"] and not long["correct_150"]


def test_stratified_sample_is_fixed_proportional_and_spread() -> None:
    from rag.evaluate.splits import parts, select, stratified

    items = [
        {
            "id": f"q{i:03d}",
            "type": "numeric" if i % 4 else "unanswerable",
            "split": "test" if i % 2 else "dev",
            **({"origin": "independent"} if i > 150 else {}),
        }
        for i in range(1, 201)
    ]
    a = stratified(items, 40)
    assert a == stratified(items, 40) and len(a) == 40
    assert sum(it["type"] == "unanswerable" for it in a) == 10  # a quarter of the items, a quarter of the sample
    assert a[0]["id"] < "q020" and a[-1]["id"] > "q180"  # spread over the whole file
    by_origin = stratified(items, 20, key=lambda it: (it["type"], it.get("origin", "")))
    assert any(it.get("origin") == "independent" for it in by_origin)
    assert len(stratified(items[:5], 10)) == 5
    got = parts(items)
    assert list(got) == ["dev", "test", "independent"] and len(got["dev"]) == len(got["test"]) == 100
    assert all(it["split"] == "test" for it in got["independent"]) and len(got["independent"]) == 25
    assert len(select(items, "all")) == 200 and select(items, "test") == got["test"]


def test_calibration_fits_dev_only_and_chooses_thresholds_within_budget() -> None:
    import numpy as np

    from rag.evaluate.calibrate import BUDGETS, calibrate, choose

    cv = [
        {"threshold": 0.1, "unanswerable_refused": 0.5, "false_refusal": 0.01},
        {"threshold": 0.2, "unanswerable_refused": 0.7, "false_refusal": 0.03},
        {"threshold": 0.3, "unanswerable_refused": 0.7, "false_refusal": 0.05},
        {"threshold": 0.4, "unanswerable_refused": 0.9, "false_refusal": 0.12},
    ]
    assert choose(cv, 0.08) == 0.2 and choose(cv, 0.02) == 0.1 and choose(cv, 0.0) == 0.1 and choose(cv, 0.2) == 0.4
    rng = np.random.default_rng(0)
    y = np.array([0] * 30 + [1] * 90)
    x = np.c_[rng.normal(y * 2.0, 1.0), rng.normal(0, 1, 120), rng.normal(0, 1, (120, 3))]
    splits = ["dev"] * 60 + ["test"] * 60
    order = rng.permutation(120)
    x, y = x[order], y[order]
    a = calibrate(x, y, splits)
    flipped = y.copy()
    flipped[60:] = 1 - flipped[60:]  # what the test part says must not change what is fitted or chosen
    b = calibrate(x, flipped, splits)
    assert a["weights"] == b["weights"] and a["thresholds"] == b["thresholds"] and a["C"] == b["C"]
    assert a["test"]["figures"] != b["test"]["figures"] and a["n"] == 60
    chosen = {f["threshold"]: f for f in a["cross_validated"]}
    for name, t in a["thresholds"].items():
        assert chosen[t]["false_refusal"] <= BUDGETS[name] or t == min(chosen)
    assert a["weights"]["numbers_missing"] > 0  # the informative feature (column 0) learned with its sign


def test_calibration_fits_made_up_questions_without_letting_them_drown_the_real_ones() -> None:
    import numpy as np

    from rag.evaluate.calibrate import balance, calibrate

    y = np.array([1] * 40 + [0] * 10 + [0] * 50)
    made = np.array([False] * 50 + [True] * 50)
    w = balance(y, made)
    assert w[y == 1].sum() == w[y == 0].sum() and w[:40].sum() == 2 * w[40:50].sum() == 2 * w[50:].sum()
    rng = np.random.default_rng(1)
    # column 1 tells the made-up questions apart, column 0 the real ones
    x = np.c_[rng.normal(np.r_[np.ones(40), np.zeros(60)] * 2.0, 1.0), rng.normal(made * -2.0, 1.0)]
    x = np.c_[x, rng.normal(0, 1, (100, 3))]
    groups = [f"q{i}" for i in range(50)] + [f"q{i % 40}" for i in range(50)]
    kinds = [""] * 50 + ["place"] * 50
    cal = calibrate(x, y, ["dev"] * 100, groups, kinds)
    assert cal["synthetic"] == {"used_in_fit": True, "n": 50, "by_kind": {"place": 50}}
    assert cal["n"] == 100 and cal["n_unanswerable"] == 60
    real = {f["threshold"]: f["unanswerable_refused"] for f in cal["cross_validated_real"]}
    assert real[cal["thresholds"]["refuse_below"]] > 0.5  # the real unanswerable items are still refused


def test_bench_answers_skips_blank_questions_and_counts_them() -> None:
    from rag.evaluate.answers import bench_answers

    queries = [
        {"_id": "a", "text": "玩家几分钟内不得配对？", "metadata": {"answers": [["4分钟"]]}},
        {"_id": "b", "text": "  ", "metadata": {"answers": [["那须盐原市"]]}},
        {"_id": "c", "text": "没有答案的问题", "metadata": {}},
        {"_id": "d", "text": "谁？", "metadata": {"answers": [["踢爆"]]}},
    ]
    asked: list[str] = []

    def ask(q: str) -> dict:
        asked.append(q)
        if q.startswith("谁"):
            return {"answerable": False, "answer": "无法从文档中找到答案", "citations": []}
        return {"answerable": True, "answer": "4分钟[1]", "citations": [{"doc_id": "d1", "text": "4分钟内不得配对"}]}

    r = bench_answers(ask, queries, {"a": {"d1": 1}})
    assert asked == ["玩家几分钟内不得配对？", "谁？"] and r["skipped_blank"] == 1 and r["n"] == 2
    assert (
        r["accuracy"] == 0.5 and r["refused"] == 0.5 and r["citation_support"] == 0.5 and r["citation_evidence"] == 0.5
    )
    assert r["accuracy_answered"] == 1.0 and r["citation_precision"] == 1.0
