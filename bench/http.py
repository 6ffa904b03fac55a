"""Queries over loopback HTTP against a real `rag serve`: latency and throughput by concurrency, LLM time to first
token, memory, and a soak run (32 clients on /search and /ask for minutes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import ask_requests, mixed_requests, percentiles, run_load, search_requests, stream_ask
from bench.server import ServeProcess

Log = Callable[[str], None]


def _env(index_dir: Path, generator: str, **extra: str) -> dict[str, str]:
    return {
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_EMBED_CACHE": str(index_dir / "cache" / "embeddings.sqlite"),
        "RAG_GENERATOR": generator,
        **extra,
    }


def query_runs(
    index_dir: Path, questions: list[str], concurrencies: list[int], duration_s: float, log: Log = print
) -> dict[str, Any]:
    """/search and /ask (extractive) at each concurrency, `duration_s` each, after a short warm-up."""
    out: dict[str, Any] = {"search": [], "ask_extractive": []}
    with ServeProcess(_env(index_dir, "extractive")) as srv:
        out["server_ready_s"] = round(srv.ready_s, 2)
        out["rss_after_start"] = srv.memory()
        run_load(srv.url, search_requests(questions) + ask_requests(questions), 2, requests=40)  # warm-up
        for key, reqs in (("search", search_requests(questions)), ("ask_extractive", ask_requests(questions))):
            for c in concurrencies:
                r = run_load(srv.url, reqs, c, duration_s=duration_s).summary()
                log(
                    f"  {key:15s} c={c:<3d} {r['rps']:7.1f} req/s  p50 {r['p50']} ms  p95 {r['p95']} ms  "
                    f"p99 {r['p99']} ms  failed {r['failed']}"
                )
                out[key].append(r)
        out["rss_after_load"] = srv.memory()
    return out


def soak(
    index_dir: Path, questions: list[str], duration_s: float, concurrency: int = 32, log: Log = print
) -> dict[str, Any]:
    """`concurrency` clients alternating /search and /ask (extractive) for `duration_s`; memory before and after."""
    reqs = mixed_requests(questions)
    with ServeProcess(_env(index_dir, "extractive")) as srv:
        run_load(srv.url, reqs, 4, requests=len(reqs))  # every query once: caches and lazy imports settle
        before = srv.memory()
        r = run_load(srv.url, reqs, concurrency, duration_s=duration_s)
        after = srv.memory()
    s = r.summary()
    s.update(
        rss_before_mb=before["rss_mb"],
        rss_after_mb=after["rss_mb"],
        peak_rss_mb=after["peak_rss_mb"],
        rss_growth_mb=round(after["rss_mb"] - before["rss_mb"], 1),
    )
    log(
        f"  soak c={concurrency} {duration_s:.0f}s: {s['requests']} requests, {s['failed']} failed, "
        f"RSS {before['rss_mb']} -> {after['rss_mb']} MiB"
    )
    return s


def llm_runs(
    index_dir: Path, questions: list[str], requests: int, concurrencies: list[int], passages: int = 5, log: Log = print
) -> dict[str, Any]:
    """The local LLM: streamed answers one at a time (time to first token, tokens/s), then a short concurrent run.

    One 2-core machine runs one generation at a time, so at concurrency c a request waits for those before it;
    each concurrent run sends c requests, one per client."""
    out: dict[str, Any] = {"passages": passages}
    t = time.perf_counter()
    with ServeProcess(_env(index_dir, "llm", RAG_LLM_PASSAGES=str(passages)), ready_timeout_s=600) as srv:
        out["server_ready_s"] = round(srv.ready_s, 2)
        stream_ask(srv.url, {"question": questions[0]})  # warm: the system prompt's KV cache
        answered = questions[1 : requests + 1]
        runs = [{"question": q, **stream_ask(srv.url, {"question": q})} for q in answered]
        generated = [r for r in runs if r["tokens_per_s"]]
        out["sequential"] = {
            "requests": len(runs),
            "answered_by_llm": len(generated),
            **percentiles([r["ttft_ms"] for r in generated if r["ttft_ms"] is not None], "ttft_ms_"),
            **percentiles([r["total_ms"] for r in runs], "total_ms_"),
            "tokens_per_s_mean": round(sum(r["tokens_per_s"] for r in generated) / max(1, len(generated)), 1),
            "prompt_tokens_mean": round(sum(r["prompt_tokens"] or 0 for r in generated) / max(1, len(generated))),
            "runs": runs,
        }
        log(
            f"  llm c=1: TTFT p50 {out['sequential']['ttft_ms_p50']} ms, "
            f"{out['sequential']['tokens_per_s_mean']} tokens/s"
        )
        # Asked in a row, similar questions share the start of their passages, and llama.cpp reuses those tokens of
        # the previous prompt. A chat service's users rarely do: the same questions again, each after an unrelated
        # one (from the other end of the QA set, answered by the model), so only the system prompt is cached.
        reset = next(
            (
                q
                for q in reversed(questions[: len(questions) // 2])
                if q not in answered and stream_ask(srv.url, {"question": q})["tokens_per_s"]
            ),
            None,
        )
        if reset:
            cold = []
            for r in generated:
                stream_ask(srv.url, {"question": reset})
                cold.append(stream_ask(srv.url, {"question": r["question"]})["ttft_ms"])
            out["after_unrelated"] = {
                "reset_question": reset,
                **percentiles([t for t in cold if t is not None], "ttft_ms_"),
            }
            log(f"  llm c=1 after an unrelated question: TTFT p50 {out['after_unrelated']['ttft_ms_p50']} ms")
        out["concurrent"] = []
        for c in concurrencies:  # the same questions the model answered above, so none is refused before the model
            asked = [r["question"] for r in generated] or answered
            r = run_load(srv.url, ask_requests(asked, "llm"), c, requests=c, timeout_s=900).summary()
            log(f"  llm c={c}: p50 {r['p50']} ms  p95 {r['p95']} ms  {r['rps']} req/s  failed {r['failed']}")
            out["concurrent"].append(r)
        out["peak_rss"] = srv.memory()
    out["seconds"] = round(time.perf_counter() - t, 1)
    return out
