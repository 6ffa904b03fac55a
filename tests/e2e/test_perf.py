"""Soak: 32 concurrent clients on /search and /ask (extractive) against a real `rag serve` on loopback for two minutes.

Asserts behaviour only (no errors, valid answers, bounded memory growth), never latency: the figures come from
`make bench`."""

from __future__ import annotations

import json

import pytest

from bench.load import mixed_requests, run_load
from bench.server import ServeProcess
from tests.helpers import QA, SHARED_CACHE

pytestmark = [pytest.mark.model, pytest.mark.slow]

SOAK_S = 120
CLIENTS = 32
QUESTION_STRIDE = (
    4  # every 4th question of the QA set (about 200): the warm-up pass asks each once, the soak cycles them
)
RSS_GROWTH_MIB = 300  # generous: the steady state after a warm-up pass should barely grow


def test_32_clients_for_two_minutes_no_errors_bounded_memory(index_copy) -> None:
    lines = [line for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [json.loads(line)["question"] for line in lines[::QUESTION_STRIDE]]
    reqs = mixed_requests(questions)
    env = {"RAG_INDEX_DIR": str(index_copy), "RAG_EMBED_CACHE": str(SHARED_CACHE), "RAG_GENERATOR": "extractive"}
    with ServeProcess(env) as srv:
        warm = run_load(srv.url, reqs, 4, requests=len(reqs))  # every query once, so caches and lazy imports settle
        assert warm.failed == 0, warm.errors[:3]
        before = srv.memory()["rss_mb"]
        res = run_load(srv.url, reqs, CLIENTS, duration_s=SOAK_S)
        after = srv.memory()
        assert srv.proc is not None and srv.proc.poll() is None  # still serving
    summary = res.summary()
    print(json.dumps({k: summary[k] for k in ("requests", "failed", "rps", "p50", "p95", "p99")}), before, after)
    assert res.failed == 0, summary["errors"]
    assert summary["statuses"] == {"200": res.n}
    assert res.n >= 2 * CLIENTS  # every client got answers, not just a connection
    assert {p for p, _ in reqs} == {"/search", "/ask"}
    assert after["rss_mb"] - before < RSS_GROWTH_MIB, (before, after)
