"""Figures and cells shown both on the Markdown pages and in the console summaries of `rag eval` / `rag bench`."""

from __future__ import annotations

from typing import Any

EVAL_METRICS = ("hit@1", "hit@5", "mrr@10", "evidence_recall@10")
BENCH_METRICS = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@100")


def systems_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every retriever measured: our modes, then the reference pipelines."""
    ours = report["retrieval"] if report.get("kind") == "eval" else report["modes"]
    return {**ours, **(report.get("compare") or {}).get("systems", {})}


def fmt(v: Any, digits: int = 3) -> str:
    """A table cell: floats to `digits` places, None as a dash."""
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def ms(v: float) -> str:
    """A latency in milliseconds: two decimals below 10 ms, one above."""
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


SPLIT_RETRIEVAL = ("hit@1", "hit@5", "mrr@10")


SPLIT_ANSWERS = (
    ("answer_accuracy", "answer accuracy"),
    ("unanswerable_refused", "unanswerable refused"),
    ("false_refusal", "false refusals"),
    ("citation_support", "citation support"),
)


def split_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Every figure for all items and per part (dev, test, test's independent items): headers and rows."""
    cols = {
        "all": {"n": report["n"], "retrieval": report["retrieval"], "answers": report.get("answers")},
        **report.get("by_split", {}),
    }
    heads = ["measure", *[f"{k} ({v['n']})" for k, v in cols.items()]]
    rows: list[list[Any]] = []
    for mode in report["retrieval"]:
        for m in SPLIT_RETRIEVAL:
            rows.append([f"{mode} {m}", *[c["retrieval"][mode].get(m) for c in cols.values()]])
        if any(c["retrieval"][mode].get("n_multi") for c in cols.values()):
            rows.append(
                [
                    f"{mode} evidence recall@10",
                    *[
                        c["retrieval"][mode]["evidence_recall@10"] if c["retrieval"][mode].get("n_multi") else None
                        for c in cols.values()
                    ],
                ]
            )
    if report.get("answers"):
        gen = report.get("generator")
        for key, label in SPLIT_ANSWERS:
            rows.append([f"{gen}: {label}", *[(c.get("answers") or {}).get(key) for c in cols.values()]])
        rows.append([f"{gen}: items answerable / unanswerable", *[_counts(c.get("answers")) for c in cols.values()]])
    return heads, rows


def _counts(a: dict[str, Any] | None) -> str:
    if not a:
        return "—"
    n_un = a.get("n_by_type", {}).get("unanswerable", 0)
    return f"{a['n'] - n_un} / {n_un}"


def origin_cells(x: dict[str, Any]) -> list[Any]:
    """Answer accuracy, unanswerable refused, false refusals, citation support of one origin; "—" where no item
    stands behind the figure."""
    n_answerable = x["n"] - x["n_unanswerable"]
    return [
        x["answer_accuracy"] if x.get("n_accuracy", 1) else "—",
        x["unanswerable_refused"] if x["n_unanswerable"] else "—",
        x["false_refusal"] if n_answerable else "—",
        x["citation_support"] if n_answerable else "—",
    ]


def fusion_margins(retrieval: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per origin: hybrid's hit@1 against the better of dense and BM25 alone (`margin` in items; issue 14 asks for no
    set where it is below). Empty unless the three modes ran with the by-origin breakdown."""
    if not all("by_origin" in retrieval.get(m, {}) for m in ("hybrid", "dense", "bm25")):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for o, h in retrieval["hybrid"]["by_origin"].items():
        singles = {m: retrieval[m]["by_origin"].get(o, {}).get("hit@1", 0.0) for m in ("bm25", "dense")}
        if not h.get("n"):
            continue
        best = max(singles, key=lambda m: singles[m])
        out[o] = {
            "n": h["n"],
            "hybrid": h["hit@1"],
            "best": best,
            "best_hit@1": singles[best],
            "margin": round((h["hit@1"] - singles[best]) * h["n"]),
        }
    return out


def margin_line(o: str, x: dict[str, Any]) -> str:
    """One origin's fusion margin (fusion_margins) in words."""
    return f"{o} {x['margin']:+d} of {x['n']} ({x['hybrid']:.3f} vs {x['best']} {x['best_hit@1']:.3f})"
