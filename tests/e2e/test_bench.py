"""`rag bench` on the CMRC 2018 trial set (BEIR format, ../shared/bench) and `--compare` on the seeds QA set, with the
real default embedder. Quality floors only, never times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.evaluate import run_eval
from tests.helpers import QA, ROOT, SHARED_CACHE

pytestmark = pytest.mark.model

# BENCH_DATA (as in the Makefile) points elsewhere, e.g. from a worktree whose parent has no shared/
CMRC = Path(os.environ.get("BENCH_DATA") or ROOT.parent / "shared" / "bench" / "cmrc2018-trial").resolve()
LIMIT = 300  # of the 1,002 queries, at an even stride (the same every run)
# Full set, measured (docs/benchmarks.md): hit@5 / MRR@10 / nDCG@10 / recall@100 dense 0.982 / 0.963 / 0.970 / 0.996,
# bm25 0.987 / 0.978 / 0.981 / 0.995, hybrid 0.995 / 0.987 / 0.990 / 0.998. Floors sit about 0.03 below.
FLOORS = {
    "dense": {"hit@5": 0.95, "mrr@10": 0.93, "ndcg@10": 0.94, "recall@100": 0.97},
    "bm25": {"hit@5": 0.96, "mrr@10": 0.95, "ndcg@10": 0.95, "recall@100": 0.97},
    "hybrid": {"hit@5": 0.97, "mrr@10": 0.96, "ndcg@10": 0.96, "recall@100": 0.98},
}
# Issue 14: cmrc2018-trial hybrid nDCG@10 not below the value measured when the floor was set (these 300 queries,
# 2026-11-30, before the issue's retrieval changes): 0.9877 (1,002 queries: 0.9898).
ISSUE14_NDCG10 = 0.9877
# End-to-end extractive answers on the same 300 queries (`--answers`; no issue floor: regression floors about 0.03
# under the measured 0.455 accuracy (RGB rule), 0.064 refused, 0.906 citation support).
ANSWER_FLOORS = {"accuracy": 0.42, "citation_support": 0.87}
ANSWER_CEILING_REFUSED = 0.10


def _bench(index_dir, out, *extra: str) -> dict:
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_EMBED_CACHE": str(SHARED_CACHE),
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "bench",
            str(CMRC),
            "--limit",
            str(LIMIT),
            "--out",
            str(out),
            "--json",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)  # --json prints the report and nothing else


@pytest.fixture(scope="module")
def cmrc(tmp_path_factory) -> tuple[dict, object]:
    """The bench with extractive answers on the 300 queries, run once (its index folder and report path)."""
    if not CMRC.exists():
        pytest.skip(f"{CMRC} is absent")
    d = tmp_path_factory.mktemp("cmrc")
    return _bench(d / "index", d / "bench-cmrc.json", "--answers"), d


def test_bench_cmrc2018_trial_every_mode_cached(cmrc) -> None:
    r, d = cmrc
    out = d / "bench-cmrc.json"
    assert r["n_documents"] == 256 and r["n_queries"] == LIMIT and r["collection"] == "bench-cmrc2018-trial"
    for mode, floors in FLOORS.items():
        for k, floor in floors.items():
            assert r["modes"][mode][k] >= floor, (mode, k, r["modes"][mode][k])
    h, dn, b = (r["modes"][m] for m in ("hybrid", "dense", "bm25"))
    assert h["mrr@10"] >= max(dn["mrr@10"], b["mrr@10"]) - 0.01 and h["hit@5"] >= max(dn["hit@5"], b["hit@5"]) - 0.01
    assert json.loads(out.read_text(encoding="utf-8"))["modes"].keys() == r["modes"].keys()
    assert "## Retrieval (documents)" in out.with_suffix(".md").read_text(encoding="utf-8")
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    again = _bench(d / "index", d / "again.json")
    assert again["embedded"] == 0  # the collection is cached: nothing re-chunked or re-embedded
    assert {m: again["modes"][m]["mrr@10"] for m in FLOORS} == {m: r["modes"][m]["mrr@10"] for m in FLOORS}


def test_bench_cmrc2018_trial_answers(cmrc) -> None:
    r, d = cmrc
    a = r["answers"]["extractive"]
    assert a["n"] + a["skipped_blank"] == LIMIT and len(a["items"]) == a["n"]
    for k, floor in ANSWER_FLOORS.items():
        assert a[k] >= floor, (k, a[k])
    assert a["refused"] <= ANSWER_CEILING_REFUSED, a["refused"]
    assert "## Answers (end to end)" in (d / "bench-cmrc.md").read_text(encoding="utf-8")


def test_issue14_floor_cmrc2018_ndcg10_not_below_today(cmrc) -> None:
    got = cmrc[0]["modes"]["hybrid"]["ndcg@10"]
    assert got >= ISSUE14_NDCG10, got


def test_compare_on_the_seeds_qa_set(components, tmp_path) -> None:
    """Our hybrid retriever against the LangChain tutorial pipeline and Langchain-Chatchat's defaults, on the whole QA
    set (the margins below are the whole set's). Chatchat's BM25 is built once, not per query as Chatchat does: the
    same rankings, without the per-query jieba cost that only its latency (not asserted here) needs."""
    out = tmp_path / "eval-cmp.json"
    r = run_eval(
        components, QA, modes=("hybrid",), compare=True, compare_latency=False, answers=False, out=out, verbose=False
    )
    ours, systems = r["retrieval"]["hybrid"], r["compare"]["systems"]
    tutorial, chatchat = systems["langchain-tutorial"], systems["chatchat-defaults"]
    assert tutorial["n_passages"] > 0 and chatchat["n_passages"] > 0
    assert (
        chatchat["chunking"]["bm25_rebuilt_per_query"] is False
        and "latency_p50_ratio" not in r["compare"]["vs_ours"]["chatchat-defaults"]
    )
    # measured: ours 0.921 / 0.979 / 0.947, tutorial 0.729 / 0.921 / 0.812, chatchat 0.857 / 0.979 / 0.904
    assert ours["hit@1"] >= tutorial["hit@1"] + 0.10 and ours["mrr@10"] >= tutorial["mrr@10"] + 0.08
    assert ours["hit@1"] >= chatchat["hit@1"] + 0.03 and ours["mrr@10"] >= chatchat["mrr@10"] + 0.02
    assert (
        ours["hit@5"] >= tutorial["hit@5"] + 0.03 and ours["hit@5"] >= chatchat["hit@5"] - 0.01
    )  # a tie with Chatchat
    assert "## Compared with reference pipelines" in (tmp_path / "eval-cmp.md").read_text(encoding="utf-8")
