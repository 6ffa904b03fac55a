"""Reports of `rag eval` and `rag bench`: JSON, a Markdown page and a PNG chart side by side, and console summaries."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

from rag.evaluate.provenance import git_state

EVAL_METRICS = ("hit@1", "hit@5", "mrr@10", "evidence_recall@10")
BENCH_METRICS = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@100")


# The SIMD extensions the encoders and the local LLM choose their kernels by.
SIMD_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_int8",
    "amx_bf16",
)


def cpu() -> dict[str, Any]:
    """The CPU's model name, its SIMD_FLAGS and whether it has AVX-512 VNNI (the int8 kernels and the local LLM are
    2-3x slower without it), from /proc/cpuinfo; the platform's processor name elsewhere."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"model": platform.processor() or platform.machine(), "avx512_vnni": None, "simd": []}
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), platform.machine()
    )
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    return {"model": model, "avx512_vnni": "avx512_vnni" in flags, "simd": [f for f in SIMD_FLAGS if f in flags]}


def cpu_line(env: dict[str, Any]) -> str:
    c = env.get("cpu") or {}
    vnni = {True: "with AVX-512 VNNI", False: "AVX2 only, no AVX-512 VNNI"}.get(c.get("avx512_vnni"), "")
    return f"{c.get('model', '?')}, {env.get('cpus', '?')} cores" + (f", {vnni}" if vnni else "")


def environment() -> dict[str, Any]:
    """Where and with which code the figures were taken: latency depends on the machine and on what else it was
    running; the commit (and whether the tree differed from it) says which code measured."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu(),
        "load_average": load,
        "python": platform.python_version(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        **git_state(),
    }


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


def _systems(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every retriever measured: our modes, then the reference pipelines."""
    ours = report["retrieval"] if report.get("kind") == "eval" else report["modes"]
    return {**ours, **(report.get("compare") or {}).get("systems", {})}


def chart(report: dict[str, Any], path: Path) -> None:
    """Metrics by mode (grouped bars) and the per-query latency distribution (box plot, log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = _systems(report)
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


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ms(v: float) -> str:
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _cell(text: str, n: int = 160) -> str:
    t = " ".join(str(text).split()).replace("|", "\\|")
    return t if len(t) <= n else t[:n] + "…"


def _env_line(report: dict[str, Any]) -> str:
    e = report.get("environment", {})
    return (
        f"Measured {e.get('time', '')} on {cpu_line(e)} (load average {e.get('load_average')}); "
        "latencies are single-threaded wall-clock times per query."
    )


def _compare_section(report: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    c = report.get("compare")
    if not c:
        return []
    ours_name = c["ours"]
    ours = _systems(report)["hybrid" if "hybrid" in _systems(report) else next(iter(_systems(report)))]
    rows = [
        [
            ours_name,
            "our chunker",
            c.get("ours_n_passages", report.get("n_passages")),
            *[ours.get(k) for k in keys],
            _ms(ours["latency_ms_p50"]),
            _ms(ours["latency_ms_p95"]),
            "",
            "",
            "",
        ]
    ]
    for name, s in c["systems"].items():
        v = c["vs_ours"].get(name, {})
        rows.append(
            [
                name,
                s["description"],
                s["n_passages"],
                *[s.get(k) for k in keys],
                _ms(s["latency_ms_p50"]),
                _ms(s["latency_ms_p95"]),
                _f(v.get("hit@5_diff"), 3),
                _f(v.get("mrr@10_diff"), 3),
                f"{v['latency_p50_ratio']:.2f}×" if "latency_p50_ratio" in v else "—",
            ]
        )
    head = [
        "system",
        "pipeline",
        "passages",
        *keys,
        "p50 ms",
        "p95 ms",
        "ours − theirs hit@5",
        "ours − theirs MRR@10",
        "their p50 / ours",
    ]
    return [
        "## Compared with reference pipelines",
        "",
        "Same documents (the cleaned text), same embedder (query/passage prefixes), same queries, same process.",
        "",
        _table(head, rows),
        "",
    ]


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


def _origin_cells(x: dict[str, Any]) -> list[Any]:
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


def _margin_line(o: str, x: dict[str, Any]) -> str:
    return f"{o} {x['margin']:+d} of {x['n']} ({x['hybrid']:.3f} vs {x['best']} {x['best_hit@1']:.3f})"


def eval_markdown(report: dict[str, Any], png: str) -> str:
    r = report["retrieval"]
    lines = [
        f"# rag eval — {report['qa']}",
        "",
        f"{report['n']} items; collection `{report['collection']}`; embedder `{report['settings']['embedder']}`; "
        f"generator `{report.get('generator') or '(retrieval only)'}`.",
        _env_line(report),
        "",
        f"![metrics and latency]({png})",
        "",
        "## Dev and test",
        "",
        "Weights, thresholds and rules are chosen on dev only; test is held out (and its independent items were "
        "written by people who had not seen the pipeline's failures). Retrieval over answerable single-document "
        "items; answer accuracy over factoid, numeric and paraphrase items.",
        "",
        _table(*split_table(report)),
        "",
        "## Retrieval",
        "",
        "hit@k and MRR@10 over answerable single-document items; evidence recall@10 over items "
        "with several evidence strings (API.md).",
        "",
    ]
    head = ["mode", "hit@1", "hit@3", "hit@5", "hit@10", "MRR@10", "evidence recall@10", "p50 ms", "p95 ms"]
    lines += [
        _table(
            head,
            [
                [
                    m,
                    s["hit@1"],
                    s.get("hit@3"),
                    s["hit@5"],
                    s.get("hit@10"),
                    s["mrr@10"],
                    s["evidence_recall@10"],
                    _ms(s["latency_ms_p50"]),
                    _ms(s["latency_ms_p95"]),
                ]
                for m, s in r.items()
            ],
        ),
        "",
    ]
    for title, key in (("by question type", "by_type"), ("by document", "by_doc"), ("by origin", "by_origin")):
        groups = sorted({g for s in r.values() for g in s.get(key, {})})
        if not groups:
            continue
        head = [key[3:], "n"] + [f"{m} hit@1 / hit@5 / MRR@10" for m in r]
        rows = []
        for g in groups:
            first = next(s[key][g] for s in r.values() if g in s.get(key, {}))
            n = f"{first['n']}" + (f" (+{first['n_multi']} multi)" if first.get("n_multi") else "")
            cells = []
            for s in r.values():
                x = s.get(key, {}).get(g)
                cell = "—" if not x or not x["n"] else f"{x['hit@1']:.3f} / {x['hit@5']:.3f} / {x['mrr@10']:.3f}"
                if x and "evidence_recall@10" in x:
                    cell += f" (ev. recall {x['evidence_recall@10']:.3f})"
                cells.append(cell)
            rows.append([g, n, *cells])
        lines += [f"### Retrieval {title}", "", _table(head, rows), ""]
    margins = fusion_margins(r)
    if margins:
        lines += [
            "Hybrid hit@1 against the better single retriever, by origin (items): "
            + "; ".join(_margin_line(o, x) for o, x in margins.items())
            + ".",
            "",
        ]
    lines += _compare_section(report, ("hit@1", "hit@5", "mrr@10"))
    a = report.get("answers")
    if a:
        types = list(a["by_type"])
        lines += [
            "## Answers",
            "",
            _table(
                [
                    "answer accuracy (factoid+numeric+paraphrase)",
                    *types,
                    "unanswerable refused",
                    "false refusals",
                    "citation support",
                    "p50 ms",
                    "p95 ms",
                ],
                [
                    [
                        a["answer_accuracy"],
                        *[a["by_type"][t] for t in types],
                        a["unanswerable_refused"],
                        a["false_refusal"],
                        a["citation_support"],
                        _ms(a["latency_ms_p50"]),
                        _ms(a["latency_ms_p95"]),
                    ]
                ],
            ),
            "",
            "Items per type: " + ", ".join(f"{k} {v}" for k, v in a.get("n_by_type", {}).items()) + ".",
            "",
            "### Answers by document",
            "",
            _table(["document", "n", "mean score"], [[d, x["n"], x["score"]] for d, x in a["by_doc"].items()]),
            "",
        ]
        if a.get("by_origin"):
            lines += [
                "### Answers by origin",
                "",
                _table(
                    [
                        "origin",
                        "n (unanswerable)",
                        "answer accuracy",
                        "unanswerable refused",
                        "false refusals",
                        "citation support",
                    ],
                    [[o, f"{x['n']} ({x['n_unanswerable']})", *_origin_cells(x)] for o, x in a["by_origin"].items()],
                ),
                "",
            ]
    lines += _failures_section(report.get("failures", []), report.get("failures_held_out", 0))
    return "\n".join(lines)


def _failures_section(fails: list[dict[str, Any]], held_out: int = 0) -> list[str]:
    out = [
        f"## Failures ({len(fails)})",
        "",
        "Items whose evidence was not in the top 5 passages, or whose answer scored below 1."
        + (
            f" Listed for dev items only: the {held_out} failures among test items are held out (counted, not shown)."
            if held_out
            else ""
        ),
        "",
    ]
    for f in fails:
        out += [
            f"### {f['id']} · {f['type']} · {'; '.join(f['reasons'])}",
            "",
            f"- question: {_cell(f['question'], 300)}",
            f"- expected: {_cell(f['expected_answer'], 300) or '(no answer: should refuse)'}",
        ]
        out += [f"- evidence: {_cell(e, 300)}" for e in f["expected_evidence"]]
        if len(f["expected_evidence"]) == 1 and f["type"] != "unanswerable":
            out.append(
                f"- first passage hitting the evidence ({f['mode']}): {f['first_hit_rank'] or 'none in the top 10'}"
            )
        for i, p in enumerate(f["top3"], 1):
            out.append(f"- top {i}: `{p['source']}` score {_f(p['score'])}: {_cell(p['text'])}")
        if f.get("answer") is not None:
            out.append(f"- answer ({_f(f['answer_score'], 2)}): {_cell(f['answer'], 300)}")
        out.append("")
    return out


def bench_markdown(report: dict[str, Any], png: str) -> str:
    head = ["mode", *BENCH_METRICS, "p50 ms", "p95 ms", "queries/s (1 thread)"]
    rows = [
        [
            m,
            *[s.get(k) for k in BENCH_METRICS],
            _ms(s["latency_ms_p50"]),
            _ms(s["latency_ms_p95"]),
            f"{s['qps_single_thread']:.1f}",
        ]
        for m, s in report["modes"].items()
    ]
    d = report["depth"]
    lines = [
        f"# rag bench — {report['name']}",
        "",
        f"`{report['dataset']}`: {report['n_documents']} documents, {report['n_passages']} passages, "
        f"{report['n_queries']} judged queries; collection `{report['collection']}`; embedder `{report['embedder']}`; "
        f"metrics by {report['metrics_library']}.",
        _env_line(report),
        f"Indexing took {report['index_seconds']} s ({report['embedded']} passages embedded this run; the rest came "
        "from the index and the embedding cache).",
        "",
        f"![metrics and latency]({png})",
        "",
        "## Retrieval (documents)",
        "",
        f"Passages are mapped to documents at the rank of their best passage. hit@k, MRR@10 and nDCG@10 come from "
        f"the served search ({d['served_passages']} passages, the ranking a client gets; its latency is timed); "
        f"recall@100 from a second search {d['recall@100_passages']} passages deep.",
        "",
        _table(head, rows),
        "",
    ]
    lines += _compare_section(report, ("hit@1", "hit@5", "mrr@10", "ndcg@10"))
    lines += _answers_section(report.get("answers") or {})
    return "\n".join(lines)


BENCH_ANSWERS = (
    ("accuracy", "accuracy (RGB rule)"),
    ("accuracy_150", "accuracy, answer ≤ 150 chars"),
    ("accuracy_answered", "accuracy of answered"),
    ("refused", "refused"),
    ("citation_support", "citation support"),
    ("citation_evidence", "citation holds the evidence"),
    ("citation_precision", "supporting citations"),
)


def _answers_section(answers: dict[str, Any]) -> list[str]:
    if not answers:
        return []
    head = ["generator", "queries", *[label for _, label in BENCH_ANSWERS], "p50 ms", "p95 ms"]
    rows = [
        [g, a["n"], *[a[k] for k, _ in BENCH_ANSWERS], _ms(a["latency_ms_p50"]), _ms(a["latency_ms_p95"])]
        for g, a in answers.items()
    ]
    return [
        "## Answers (end to end)",
        "",
        "An answer is right when, for each answer group of `metadata.answers`, one alternative occurs in it after "
        "norm() (the RGB benchmark's rule); a refusal is wrong. Citation support: the share of queries with a citation "
        "from a document the qrels judge relevant or holding an alternative; 'holds the evidence' asks for both.",
        "",
        _table(head, rows),
        "",
    ]


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
        each = "; ".join(_margin_line(o, x) for o, x in margins.items())
        lines.append(f"  hybrid hit@1 vs the better single retriever by origin (items): {each}")
    a = report.get("answers")
    if a:
        lines.append(
            f"  answers: accuracy {a['answer_accuracy']:.3f} {a['by_type']}  unanswerable refused "
            f"{a['unanswerable_refused']:.3f}  false refusals {a['false_refusal']:.3f}  citation support "
            f"{a['citation_support']:.3f}  p50 {a['latency_ms_p50']:.0f} ms  p95 {a['latency_ms_p95']:.0f} ms"
        )
        for o, x in (a.get("by_origin") or {}).items():
            acc, refused, false_ref, support = (_f(c) for c in _origin_cells(x))
            lines.append(
                f"    origin {o} ({x['n']} items): accuracy {acc}  unanswerable refused {refused}  "
                f"false refusals {false_ref}  citation support {support}"
            )
    if report.get("by_split"):
        heads, rows = split_table(report)
        widths = [max(len(str(h)), *(len(_f(r[i])) for r in rows)) for i, h in enumerate(heads)]
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
                    _f(c).ljust(w) if i == 0 else _f(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
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
