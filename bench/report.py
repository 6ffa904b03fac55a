"""The bench report: the issue's targets against the measured figures, and every section as a Markdown table."""

from __future__ import annotations

from typing import Any

# the targets, the CPU line and the number format are shared with docs/performance.md's generated blocks
from rag.evaluate.perf_targets import SERVER_STAGES, cpu_line, fmt, get, table, targets
from rag.evaluate.provenance import commit_text

__all__ = ["cpu_line", "markdown", "targets"]


def _ingest(ing: dict[str, Any]) -> list[str]:
    enc = ing.get("encoders", {})
    lines = [
        f"## Ingestion: passage encoders and cold builds ({cpu_line(ing.get('cpu'))})",
        "",
        f"Both encoders on the seeds' {enc.get('passages')} passages (mean {enc.get('chars_mean')} characters, "
        f"{fmt(enc.get('tokens'))} tokens) in the same run; cosine of the int8 vectors to the C engine's: "
        f"min {get(enc, 'cosine_to_c_engine', 'min')}, mean {get(enc, 'cosine_to_c_engine', 'mean')}.",
        "",
    ]
    lines += table(
        ["encoder", "seconds", "passages/s", "tokens/s", "CPU seconds", "passages/s per 2 cores of CPU"],
        [
            [
                k,
                v["seconds"],
                v["passages_per_s"],
                v["tokens_per_s"],
                v.get("cpu_seconds"),
                v.get("passages_per_2_cpu_s"),
            ]
            for k, v in enc.get("encoders", {}).items()
        ],
    )
    stages = ("read", "clean", "chunk", "tokenize", "embed", "write")
    rows = [
        [
            k,
            v["documents"],
            v["chunks"],
            f"{v['seconds']} s",
            v["chunks_per_s"],
            f"{v['model_load_s']} s",
            *(f"{100 * v['shares'][st]:.0f}% ({v['stages_s'][st]:.2f} s)" for st in stages),
        ]
        for k, v in (ing.get("cold") or {}).items()
    ]
    lines += [
        "Cold builds, each into a fresh folder with an empty embedding cache (models loaded before the clock; "
        "tokenize is jieba for BM25, once per passage; write is BM25, FAISS, SQLite and the publish):",
        "",
    ]
    lines += table(["corpus", "documents", "chunks", "cold build", "chunks/s", "model load", *stages], rows)
    return lines


def markdown(r: dict[str, Any]) -> str:
    env = r.get("environment", {})
    lines = [
        f"# Performance bench {r.get('date', '')}",
        "",
        f"CPU: {cpu_line(env.get('cpu'))}.",
        "",
        f"`{r.get('command', 'make bench')}` on {env.get('cpus')} CPUs, {commit_text(env)}; "
        f"load average {env.get('loadavg_start')} at the start, {env.get('loadavg_end')} at the end "
        "(other work on the machine inflates latencies).",
        "",
    ]
    for rr in r.get("reruns", []):
        lines += [
            f"Re-run later: {', '.join(rr['sections'])} at {rr['date']}, {commit_text(rr.get('environment'))} "
            f"(`{rr['command']}`, load average {get(rr, 'environment', 'loadavg_start')}).",
            "",
        ]
    for key, err in (r.get("errors") or {}).items():
        lines += [f"**Failed:** {key}: `{err}`", ""]
    lines += ["## Targets", ""]
    lines += table(
        ["target", "wanted", "measured", "met"],
        [[t, w, m, "—" if ok is None else ("✅" if ok else "❌")] for t, w, m, ok in targets(r)],
    )
    if ing := r.get("ingest"):
        lines += _ingest(ing)
    if ix := r.get("index"):
        lines += ["## Index (seeds)", ""]
        lines += table(
            [
                "documents",
                "chunks",
                "model load",
                "cold build",
                "chunks/s",
                "re-index unchanged",
                "ratio",
                "add one document",
                "its chunks",
                "embedded",
                "server start → /readyz",
            ],
            [
                [
                    ix["documents"],
                    ix["chunks"],
                    f"{ix['model_load_s']} s",
                    f"{ix['cold_build_s']} s",
                    ix["cold_chunks_per_s"],
                    f"{ix['reindex_unchanged_s']} s",
                    f"{100 * ix['reindex_ratio']:.2f}%",
                    f"{ix['add_one_s']} s",
                    ix["add_one_chunks"],
                    ix["add_one_embedded"],
                    f"{get(r, 'http', 'server_ready_s')} s",
                ]
            ],
        )
    if h := r.get("http"):
        lines += ["## HTTP over loopback (closed loop, httpx async clients on the same 2 cores)", ""]

        def server(x: dict[str, Any]) -> str:
            return " · ".join(f"{k} {v:g}" for k, v in (x.get("server_ms_p50") or {}).items() if k in SERVER_STAGES)

        def cells(x: dict[str, Any]) -> list[Any]:
            return [x.get(k) for k in ("concurrency", "requests", "rps", "p50", "p95", "p99", "failed")] + [server(x)]

        rows = [[k, *cells(x)] for k in ("search", "ask_extractive") for x in h.get(k, [])]
        rows += [["ask llm", *cells(x)] for x in get(r, "llm", "concurrent") or []]
        lines += table(
            [
                "endpoint",
                "concurrency",
                "requests",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "failed",
                "server's own timings, p50 ms",
            ],
            rows,
        )
        lines += [
            f"Server RSS after start {get(h, 'rss_after_start', 'rss_mb')} MiB, "
            f"peak {get(h, 'rss_after_load', 'peak_rss_mb')} MiB.",
            "",
        ]
    if llm := r.get("llm"):
        s = llm["sequential"]
        lines += ["## Local LLM (streamed /ask, one at a time)", ""]
        cold = llm.get("after_unrelated") or {}
        lines += table(
            [
                "passages",
                "requests",
                "answered by the LLM",
                "TTFT p50",
                "TTFT p95",
                "TTFT p50 / p95 after an unrelated question",
                "total p50",
                "tokens/s",
                "prompt tokens",
                "peak RSS",
            ],
            [
                [
                    llm["passages"],
                    s["requests"],
                    s["answered_by_llm"],
                    f"{fmt(s['ttft_ms_p50'])} ms",
                    f"{fmt(s['ttft_ms_p95'])} ms",
                    f"{fmt(cold['ttft_ms_p50'])} / {fmt(cold['ttft_ms_p95'])} ms" if cold else "—",
                    f"{fmt(s['total_ms_p50'])} ms",
                    s["tokens_per_s_mean"],
                    s["prompt_tokens_mean"],
                    f"{get(llm, 'peak_rss', 'peak_rss_mb')} MiB",
                ]
            ],
        )
    if soak := r.get("soak"):
        lines += ["## Soak (32 clients, /search and /ask alternating)", ""]
        lines += table(
            [
                "seconds",
                "requests",
                "failed",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "RSS before",
                "RSS after",
                "growth",
            ],
            [
                [
                    soak["seconds"],
                    soak["requests"],
                    soak["failed"],
                    soak["rps"],
                    soak["p50"],
                    soak["p95"],
                    soak["p99"],
                    f"{soak['rss_before_mb']} MiB",
                    f"{soak['rss_after_mb']} MiB",
                    f"{soak['rss_growth_mb']} MiB",
                ]
            ],
        )
    if sc := r.get("scale"):
        lines += ["## Scale: FAISS on synthetic clustered unit vectors (384-d), one query at a time", ""]
        rows = []
        for s in sc.get("faiss", []):
            for kind, k in s["kinds"].items():
                if "skipped" in k:
                    rows.append(
                        [
                            f"{s['n']:,d}",
                            kind + (" (auto)" if kind == s["auto_kind"] else ""),
                            "skipped",
                            "",
                            "",
                            "",
                            "",
                            "",
                            k["skipped"],
                        ]
                    )
                    continue
                rows.append(
                    [
                        f"{s['n']:,d}",
                        kind + (" (auto)" if kind == s["auto_kind"] else ""),
                        f"{k['build_s']} s",
                        k["mib_per_million"],
                        k["ms_p50"],
                        k["ms_p95"],
                        k["ms_p99"],
                        k["recall_at_10"],
                        ", ".join(f"{a}={b}" for a, b in k["params"].items()),
                    ]
                )
        lines += table(
            ["chunks", "index", "build", "MiB per million", "p50 ms", "p95 ms", "p99 ms", "recall@10", "parameters"],
            rows,
        )
        rows = [
            [
                f"{b['n']:,d}",
                f"{b['build_s']} s",
                b["mib_per_million"],
                b["ms_p50"],
                b["ms_p95"],
                b["ms_p99"],
                fmt(get(b, "rebuilt_per_query", "ms_p50"), " ms"),
                fmt(get(b, "rebuilt_per_query", "ratio_p50"), "×"),
            ]
            for b in sc.get("bm25", [])
        ]
        lines += ["## Scale: BM25 (bm25s, synthetic Chinese passages of jieba words)", ""]
        lines += table(
            [
                "chunks",
                "build",
                "MiB per million",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "rebuilt per query (Chatchat) p50",
                "ratio",
            ],
            rows,
        )
    if side := r.get("side_by_side"):
        lines += [f"## Side by side on the seeds ({side['questions']} questions, top {side['top_k']}, in process)", ""]
        lines += table(
            ["system", "passages", "p50 ms", "p95 ms", "p50 ratio to ours", "p95 ratio to ours"],
            [
                [
                    k,
                    v["passages"],
                    v["ms_p50"],
                    v["ms_p95"],
                    fmt(v.get("p50_ratio", 1.0), "×"),
                    fmt(v.get("p95_ratio", 1.0), "×"),
                ]
                for k, v in side["systems"].items()
            ],
        )
    if prof := r.get("profile"):
        lines += [f"## Profile (in process, {prof['questions']} questions): where a request's time goes", ""]
        lines += table(
            ["stage of /search", "p50 ms", "p95 ms"], [[k, v["p50"], v["p95"]] for k, v in prof["search_ms"].items()]
        )
        if emb := prof.get("embed_query_by_length"):
            lines += table(
                ["query embedding: characters", "tokens (with the query prefix)", "ms, best of 5"],
                [[e["chars"], e["tokens"], e["ms_best"]] for e in emb],
            )
        lines += table(
            ["stage of /ask (extractive)", "p50 ms", "p95 ms"],
            [[k, v["p50"], v["p95"]] for k, v in prof["ask_ms"].items()],
        )
        lines += table(
            ["function (by own time, extractive /ask)", "calls per ask", "own ms per ask", "cumulative ms per ask"],
            [
                [f"`{x['function']}`", x["calls_per_ask"], x["own_ms_per_ask"], x["cum_ms_per_ask"]]
                for x in prof["ask_top_functions"]
            ],
        )
    return "\n".join(lines)
