"""The real default embedder on the real seeds index: issue 14's floors on the QA set's held-out test part.

Floors hold on the test part only, never on dev (what weights, thresholds and rules are chosen on). Each floor is
its own test, named `test_issue14_floor_…[measure]`, so a run lists exactly which floors hold and which do not.
"""

from __future__ import annotations

import json
import operator

import pytest

from rag.evaluate import run_eval
from tests.helpers import ARTIFACTS, QA

pytestmark = pytest.mark.model

# Issue 14, "Floors": hybrid retrieval and extractive answers on the test part.
FLOORS_RETRIEVAL = {"hit@5": 0.97, "mrr@10": 0.93}
# The issue's extractive floors are accuracy >= 0.75, refused >= 0.75, false refusals <= 0.10. Measured on the test
# part (AMD EPYC, avx512_vnni + avx512_bf16, the default passage vectors of that class) with the committed fit:
# 0.816 / 0.855 / 0.084 (docs/figures/eval-extractive.json). Refusal rests mostly on the extractive generator's own
# checks (rag.generate.extractive.REFUSED_GAPS: an answer sentence that does not state the value, rank, change or
# amount asked is no answer), the judge's threshold adding little on dev; false refusals sit close to their floor.
# The judge reads BM25's ranking (the same on every host), but the extractive answers still read the hybrid one, whose
# near-ties move with the CPU class (AVX2-only hosts embed in fp32, VNNI hosts in int8), and CI runs on any class, so
# the floors keep about 0.02 of room below what was measured where they can.
FLOORS_EXTRACTIVE = {
    "answer_accuracy": (operator.ge, 0.795),
    "unanswerable_refused": (operator.ge, 0.81),
    "false_refusal": (operator.le, 0.095),
}


@pytest.fixture(scope="module")
def report(components):
    return run_eval(components, QA, split="test", out=ARTIFACTS / "eval-extractive-test.json", verbose=False)


@pytest.mark.parametrize("measure", list(FLOORS_RETRIEVAL))
def test_issue14_floor_hybrid_retrieval_on_test(report, measure: str) -> None:
    got = report["by_split"]["test"]["retrieval"]["hybrid"][measure]
    assert got >= FLOORS_RETRIEVAL[measure], (measure, got)


@pytest.mark.parametrize("measure", list(FLOORS_EXTRACTIVE))
def test_issue14_floor_extractive_answers_on_test(report, measure: str) -> None:
    op, bound = FLOORS_EXTRACTIVE[measure]
    got = report["by_split"]["test"]["answers"][measure]
    assert op(got, bound), (measure, got, bound)


def test_only_test_items_are_run_and_reported(report) -> None:
    items = [json.loads(x) for x in QA.read_text(encoding="utf-8").splitlines() if x.strip()]
    n_test = sum(it["split"] == "test" for it in items)
    assert report["n"] == report["by_split"]["test"]["n"] == n_test and "dev" not in report["by_split"]
    assert report["by_split"]["test"]["answers"]["answer_accuracy"] == report["answers"]["answer_accuracy"]
    assert report["failures"] == [] and report["failures_held_out"] >= 0  # test items are never listed one by one
    saved = json.loads((ARTIFACTS / "eval-extractive-test.json").read_text(encoding="utf-8"))
    assert saved["by_split"].keys() == report["by_split"].keys()


def test_issue14_hybrid_not_worse_than_either_retriever_on_test(report) -> None:
    r = report["by_split"]["test"]["retrieval"]
    for k in ("hit@5", "mrr@10"):
        assert r["hybrid"][k] >= max(r["dense"][k], r["bm25"][k]), (k, r)


def test_citations_are_exact_spans_of_the_cleaned_text(components) -> None:
    p = components.pipeline
    data = components.library.retriever("default").data
    for q in [
        "2021年南昌规模以上工业增加值增长了多少？",
        "华勤千亿产业基地项目投资多少",
        "赣州2023年地区生产总值是多少？",
        "新余高新区有多少个锂电新能源项目在建？",
    ]:
        a = p.ask(q)
        assert a.answerable and a.citations, q
        for c in a.citations:
            doc = data.documents[c.hit.chunk.doc_id]
            assert doc.text[c.quote_start : c.quote_end] == c.quote
            assert c.hit.chunk.start <= c.quote_start < c.quote_end <= c.hit.chunk.end
            assert f"[{c.n}]" in a.answer


def test_known_answers(components) -> None:
    p = components.pipeline
    assert "11.4%" in p.ask("2021年南昌规模以上工业增加值增长了多少？").answer
    a = p.ask("华勤千亿产业基地项目投资多少")
    assert "10000000" in a.answer and a.citations[0].hit.chunk.kind == "table_row"
    r = p.ask("2021年九江市规模以上工业增加值增长多少？")
    assert not r.answerable and r.answer.startswith("无法从文档中找到答案") and not r.citations


def test_answerability_model_is_what_dev_fits(components) -> None:
    """The committed weights and both refusal thresholds are what `python -m rag.evaluate.calibrate` chooses on the
    dev items of eval/qa.jsonl over this index (test items never change them), and the pipeline uses them."""
    from rag.answerable import FEATURES, calibration
    from rag.evaluate.calibrate import calibrate
    from rag.evaluate.judge_data import dataset

    d = dataset(components, QA, "default", synthetic="synthetic" in calibration())
    got = calibrate(d.x, d.y, d.splits, d.groups, d.synthetic, d.own_refusal)
    cal = calibration()
    refit = "retrieval or the judge changed: refit with `make calibrate` (python -m rag.evaluate.calibrate)"
    # The passage vectors depend on the CPU class (int8 with 8-bit activations on VNNI, fp32 on AVX2-only hosts; bf16
    # with RAG_PASSAGE_BF16): near-tied passages swap places and the fit moves with them. Measured on one host, int8 vs
    # bf16 passages: the largest weight moved 0.16, the bias 0.20, the LLM threshold one step (0.025). Beyond: stale.
    assert all(abs(got["weights"][f] - cal["weights"][f]) < 0.3 for f in FEATURES), (got["weights"], refit)
    assert abs(got["bias"] - cal["bias"]) < 0.3, refit
    assert got["n"] == cal["n"], refit
    for name, value in cal["thresholds"].items():
        assert abs(got["thresholds"][name] - value) <= 0.05 + 1e-9, (got["thresholds"], refit)
    limits = components.pipeline.limits
    assert (limits.refuse_below, limits.llm_refuse_below) == (
        cal["thresholds"]["refuse_below"],
        cal["thresholds"]["llm_refuse_below"],
    )
