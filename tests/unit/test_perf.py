"""The bench's own pieces on small inputs: synthetic corpora, scale runs, the load generator, the report."""

from __future__ import annotations

import threading

import numpy as np

from bench.load import percentiles, run_load
from bench.report import markdown, targets
from bench.scale import bm25_runs, faiss_runs
from bench.synth import clustered_vectors, queries_like, zh_queries, zh_token_ids, zh_vocabulary


def test_synthetic_vectors_are_unit_and_queries_are_new() -> None:
    x = clustered_vectors(3000, 64, seed=3)
    q = queries_like(x, 20, seed=4)
    assert x.dtype == np.float32 and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    nearest = (q @ x.T).max(axis=1)
    assert (nearest < 0.999).all() and (nearest > 0.7).all()  # near a stored vector, but not one of them


def test_synthetic_chinese_tokens() -> None:
    words, p = zh_vocabulary(5000)
    docs = zh_token_ids(50, p, seed=1, mean_len=40)
    assert len(docs) == 50 and all(10 <= len(d) <= 160 for d in docs) and abs(p.sum() - 1) < 1e-9
    assert all(len(w) >= 2 for w in words[:100])
    assert all(len(q) == 6 for q in zh_queries(5, words, p))


def test_scale_runs_report_every_kind_and_bm25() -> None:
    f = faiss_runs(3000, ["flat", "ivf", "hnsw"], hnsw_max=1000, dim=32, n_queries=20, budget_s=0, log=lambda m: None)
    assert f["kinds"]["flat"]["recall_at_10"] == 1.0 and f["kinds"]["ivf"]["recall_at_10"] >= 0.9
    assert "skipped" in f["kinds"]["hnsw"] and f["auto_kind"] == "flat"
    b = bm25_runs(500, n_queries=10, budget_s=0, rebuilt_max=500, log=lambda m: None)
    assert b["ms_p50"] is not None and b["rebuilt_per_query"]["ratio_p50"] > 1


def test_load_generator_counts_errors_and_statuses() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            ok = self.path == "/search"
            body = b'{"results": [{"rank": 1}], "timings_ms": {"embed": 1.5, "total": 2.0}}' if ok else b'{"error": {}}'
            self.send_response(200 if ok else 400)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        r = run_load(url, [("/search", {"query": "a"}), ("/other", {})], 4, requests=40)
    finally:
        srv.shutdown()
    s = r.summary()
    assert s["requests"] == 40 and s["statuses"] == {"200": 20, "400": 20} and s["failed"] == 20
    assert s["server_ms_p50"] == {"embed": 1.5, "total": 2.0}


def test_report_marks_targets() -> None:
    report = {
        "http": {
            "search": [{"concurrency": 1, "p50": 12.0, "p95": 50.0}, {"concurrency": 8, "rps": 160.0, "p95": 90.0}]
        },
        "index": {"reindex_ratio": 0.01, "add_one_touches_only_it": True},
        "scale": {
            "faiss": [
                {
                    "n": 1_000_000,
                    "auto_kind": "ivf",
                    "kinds": {"ivf": {"recall_at_10": 0.97, "ms_p95": 3.0, "mib_per_million": 1480.0}},
                }
            ]
        },
    }
    met = {t: ok for t, _, _, ok in targets(report)}
    assert met["/search p50, concurrency 1"] is True and met["/search p95, concurrency 1"] is False
    assert met["/search throughput, concurrency 8"] is True and met["1,000,000 chunks: recall@10 against exact"] is True
    assert met["LLM time to first token p50, 5 passages"] is None
    md = markdown({"http": report["http"]})  # sections the run skipped are left out
    assert "| /search p95, concurrency 1 | ≤ 40 ms | 50.0 ms | ❌ |" in md and "## Index" not in md
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None, "mean": None}
    seq = {
        "requests": 5,
        "answered_by_llm": 5,
        "ttft_ms_p50": 3900.0,
        "ttft_ms_p95": 4300.0,
        "total_ms_p50": 4800.0,
        "tokens_per_s_mean": 35.0,
        "prompt_tokens_mean": 828,
    }
    llm = {"llm": {"passages": 5, "sequential": seq, "after_unrelated": {"ttft_ms_p50": 4100.0, "ttft_ms_p95": 4200.0}}}
    met = {t.strip(): ok for t, _, _, ok in targets(llm)}
    assert met["LLM time to first token p50, 5 passages"] is True
    assert met["the same, each after an unrelated question (only the system prompt cached)"] is False
    assert "| 4,100.0 / 4,200.0 ms |" in markdown(llm)
    assert "| — |" in markdown({"llm": {"passages": 5, "sequential": seq}})  # a report from before the column


def test_bench_command_writes_json_and_markdown(tmp_path) -> None:
    import json

    from bench.run import main
    from tests.helpers import QA

    assert (
        main(
            [
                "--qa",
                str(QA),
                "--sections",
                "scale",
                "--sizes",
                "2000",
                "--kinds",
                "flat,ivf",
                "--out-dir",
                str(tmp_path),
                "--name",
                "t",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert [s["n"] for s in report["scale"]["faiss"]] == [2000] and report["scale"]["bm25"][0]["n"] == 2000
    assert "errors" not in report and report["environment"]["cpus"]
    assert {"commit", "dirty"} <= set(report["environment"])  # the commit helper rag eval's figures use too
    md = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert "## Targets" in md and "| 2,000 | **flat** (auto) |" in md
    assert (
        main(
            [
                "--qa",
                str(QA),
                "--sections",
                "scale",
                "--sizes",
                "1000",
                "--kinds",
                "flat",
                "--out-dir",
                str(tmp_path),
                "--name",
                "t",
                "--merge",
            ]
        )
        == 0
    )
    merged = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert merged["reruns"][0]["sections"] == ["scale"] and merged["scale"]["faiss"][0]["n"] == 1000
