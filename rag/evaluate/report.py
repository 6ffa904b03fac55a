"""Reports of `rag eval` and `rag bench`: JSON, a Markdown page and a PNG chart side by side, and console summaries."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rag.evaluate.machine import cpu_line
from rag.evaluate.markdown import bench_markdown, eval_markdown
from rag.evaluate.tables import (
    BENCH_METRICS,
    EVAL_METRICS,
    fmt,
    fusion_margins,
    margin_line,
    origin_cells,
    split_table,
    systems_of,
)


def write_reports(report: dict[str, Any], out: Path) -> dict[str, Path]:
    """`out` (the JSON) and, beside it with the same stem, the Markdown report and the PNG chart."""
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {"json": out, "md": out.with_suffix(".md"), "png": out.with_suffix(".png")}
    chart(report, paths["png"])
    md = (
        eval_markdown(report, paths["png"].name)
        if report.get("kind") == "eval"
        else bench_markdown(report, paths["png"].name)
    )
    paths["md"].write_text(md, encoding="utf-8")
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return paths


def chart(report: dict[str, Any], path: Path) -> None:
    """Metrics by mode (grouped bars) and the per-query latency distribution (box plot, log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = systems_of(report)
    metrics = EVAL_METRICS if report.get("kind") == "eval" else BENCH_METRICS
    metrics = tuple(m for m in metrics if any(m in s for s in systems.values()))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / max(len(systems), 1)
    values = [float(s[m]) for s in systems.values() for m in metrics if s.get(m) is not None]
    bottom = max(0.0, math.floor((min(values, default=0.0) - 0.05) * 10) / 10)
    for i, (name, s) in enumerate(systems.items()):
        xs = [j + i * width for j in range(len(metrics))]
        vals = [float(s.get(m, float("nan"))) for m in metrics]
        bars = ax1.bar(xs, [v - bottom for v in vals], width, bottom=bottom, label=name)
        for b, v in zip(bars, vals, strict=True):
            if v == v:  # not NaN
                ax1.text(
                    b.get_x() + b.get_width() / 2,
                    v + 0.005,
                    f"{v:.3f}",
                    ha="center",
                    va="bottom",
                    fontsize=6,
                    rotation=90 if len(systems) > 3 else 0,
                )
    ax1.set_xticks([j + width * (len(systems) - 1) / 2 for j in range(len(metrics))], list(metrics))
    ax1.set_ylim(bottom, 1.0 + (1.0 - bottom) * 0.12)
    ax1.set_title("retrieval quality by mode" + (f" (y axis from {bottom:.1f})" if bottom else ""))
    ax1.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(len(systems), 5), frameon=False)
    lat = {n: s.get("latencies_ms") or [0.0] for n, s in systems.items()}
    ax2.boxplot(
        [[max(x, 0.01) for x in v] for v in lat.values()],
        orientation="horizontal",
        showfliers=True,
        flierprops={"markersize": 2},
    )
    ax2.set_yticks(range(1, len(lat) + 1), list(lat))
    ax2.set_xscale("log")
    ax2.set_xlabel("ms per query (log scale)")
    ax2.set_title("query latency")
    ttl = f"rag eval {report.get('qa')}" if report.get("kind") == "eval" else f"rag bench {report.get('name')}"
    fig.suptitle(ttl, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def eval_summary(report: dict[str, Any]) -> str:
    lines = [f"QA set {report['qa']} ({report['n']} items), generator {report.get('generator') or '(retrieval only)'}"]
    rows = list(report["retrieval"].items()) + list((report.get("compare") or {}).get("systems", {}).items())
    for m, r in rows:
        lines.append(
            f"  {m:<18} hit@1 {r['hit@1']:.3f}  hit@5 {r['hit@5']:.3f}  MRR@10 {r['mrr@10']:.3f}  "
            f"evidence recall@10 {r['evidence_recall@10']:.3f}  p50 {r['latency_ms_p50']:.1f} ms"
        )
    margins = fusion_margins(report["retrieval"])
    if margins:
        each = "; ".join(margin_line(o, x) for o, x in margins.items())
        lines.append(f"  hybrid hit@1 vs the better single retriever by origin (items): {each}")
    a = report.get("answers")
    if a:
        lines.append(
            f"  answers: accuracy {a['answer_accuracy']:.3f} {a['by_type']}  unanswerable refused "
            f"{a['unanswerable_refused']:.3f}  false refusals {a['false_refusal']:.3f}  citation support "
            f"{a['citation_support']:.3f}  p50 {a['latency_ms_p50']:.0f} ms  p95 {a['latency_ms_p95']:.0f} ms"
        )
        for o, x in (a.get("by_origin") or {}).items():
            acc, refused, false_ref, support = (fmt(c) for c in origin_cells(x))
            lines.append(
                f"    origin {o} ({x['n']} items): accuracy {acc}  unanswerable refused {refused}  "
                f"false refusals {false_ref}  citation support {support}"
            )
    if report.get("by_split"):
        heads, rows = split_table(report)
        widths = [max(len(str(h)), *(len(fmt(r[i])) for r in rows)) for i, h in enumerate(heads)]
        lines.append(
            "  "
            + "  ".join(
                str(h).ljust(w) if i == 0 else str(h).rjust(w)
                for i, (h, w) in enumerate(zip(heads, widths, strict=True))
            )
        )
        for r in rows:
            lines.append(
                "  "
                + "  ".join(
                    fmt(c).ljust(w) if i == 0 else fmt(c).rjust(w)
                    for i, (c, w) in enumerate(zip(r, widths, strict=True))
                )
            )
    lines.append(f"  measured on {cpu_line(report.get('environment', {}))}")
    lines.append(
        f"  {len(report.get('failures', []))} failures; reports: {', '.join(report.get('reports', {}).values())}"
    )
    return "\n".join(lines)


def bench_summary(report: dict[str, Any]) -> str:
    lines = [
        f"BEIR {report['dataset']} ({report['n_queries']} queries, {report['n_documents']} docs, "
        f"{report['n_passages']} passages; indexed in {report['index_seconds']} s, {report['embedded']} embedded)"
    ]
    rows = list(report["modes"].items()) + list((report.get("compare") or {}).get("systems", {}).items())
    for m, r in rows:
        rec = f"  recall@100 {r['recall@100']:.3f}" if "recall@100" in r else ""
        lines.append(
            f"  {m:<18} hit@1 {r['hit@1']:.3f}  hit@5 {r['hit@5']:.3f}  hit@10 {r['hit@10']:.3f}  "
            f"MRR@10 {r['mrr@10']:.3f}  nDCG@10 {r['ndcg@10']:.3f}{rec}  "
            f"p50 {r['latency_ms_p50']:.1f} ms  p95 {r['latency_ms_p95']:.1f} ms"
        )
    for g, a in (report.get("answers") or {}).items():
        lines.append(
            f"  answers {g:<10} ({a['n']} queries) accuracy {a['accuracy']:.3f} (≤150 chars {a['accuracy_150']:.3f})  "
            f"refused {a['refused']:.3f}  citation support {a['citation_support']:.3f} "
            f"(holds the evidence {a['citation_evidence']:.3f})  p50 {a['latency_ms_p50']:.0f} ms"
        )
    lines.append(f"  measured on {cpu_line(report.get('environment', {}))}")
    lines.append(f"  reports: {', '.join(report.get('reports', {}).values())}")
    return "\n".join(lines)
