"""The Markdown pages of `rag eval` and `rag bench`: tables of every figure, the comparison, the failures."""

from __future__ import annotations

from typing import Any

from rag.evaluate.machine import cpu_line
from rag.evaluate.tables import (
    BENCH_METRICS,
    fmt,
    fusion_margins,
    margin_line,
    ms,
    origin_cells,
    split_table,
    systems_of,
    table,
)


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
    ours = systems_of(report)["hybrid" if "hybrid" in systems_of(report) else next(iter(systems_of(report)))]
    rows = [
        [
            ours_name,
            "our chunker",
            c.get("ours_n_passages", report.get("n_passages")),
            *[ours.get(k) for k in keys],
            ms(ours["latency_ms_p50"]),
            ms(ours["latency_ms_p95"]),
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
                ms(s["latency_ms_p50"]),
                ms(s["latency_ms_p95"]),
                fmt(v.get("hit@5_diff"), 3),
                fmt(v.get("mrr@10_diff"), 3),
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
        table(head, rows),
        "",
    ]


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
        table(*split_table(report)),
        "",
        "## Retrieval",
        "",
        "hit@k and MRR@10 over answerable single-document items; evidence recall@10 over items "
        "with several evidence strings (API.md).",
        "",
    ]
    head = ["mode", "hit@1", "hit@3", "hit@5", "hit@10", "MRR@10", "evidence recall@10", "p50 ms", "p95 ms"]
    lines += [
        table(
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
                    ms(s["latency_ms_p50"]),
                    ms(s["latency_ms_p95"]),
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
        lines += [f"### Retrieval {title}", "", table(head, rows), ""]
    margins = fusion_margins(r)
    if margins:
        lines += [
            "Hybrid hit@1 against the better single retriever, by origin (items): "
            + "; ".join(margin_line(o, x) for o, x in margins.items())
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
            table(
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
                        ms(a["latency_ms_p50"]),
                        ms(a["latency_ms_p95"]),
                    ]
                ],
            ),
            "",
            "Items per type: " + ", ".join(f"{k} {v}" for k, v in a.get("n_by_type", {}).items()) + ".",
            "",
            "### Answers by document",
            "",
            table(["document", "n", "mean score"], [[d, x["n"], x["score"]] for d, x in a["by_doc"].items()]),
            "",
        ]
        if a.get("by_origin"):
            lines += [
                "### Answers by origin",
                "",
                table(
                    [
                        "origin",
                        "n (unanswerable)",
                        "answer accuracy",
                        "unanswerable refused",
                        "false refusals",
                        "citation support",
                    ],
                    [[o, f"{x['n']} ({x['n_unanswerable']})", *origin_cells(x)] for o, x in a["by_origin"].items()],
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
            out.append(f"- top {i}: `{p['source']}` score {fmt(p['score'])}: {_cell(p['text'])}")
        if f.get("answer") is not None:
            out.append(f"- answer ({fmt(f['answer_score'], 2)}): {_cell(f['answer'], 300)}")
        out.append("")
    return out


def bench_markdown(report: dict[str, Any], png: str) -> str:
    head = ["mode", *BENCH_METRICS, "p50 ms", "p95 ms", "queries/s (1 thread)"]
    rows = [
        [
            m,
            *[s.get(k) for k in BENCH_METRICS],
            ms(s["latency_ms_p50"]),
            ms(s["latency_ms_p95"]),
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
        table(head, rows),
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
        [g, a["n"], *[a[k] for k, _ in BENCH_ANSWERS], ms(a["latency_ms_p50"]), ms(a["latency_ms_p95"])]
        for g, a in answers.items()
    ]
    return [
        "## Answers (end to end)",
        "",
        "An answer is right when, for each answer group of `metadata.answers`, one alternative occurs in it after "
        "norm() (the RGB benchmark's rule); a refusal is wrong. Citation support: the share of queries with a citation "
        "from a document the qrels judge relevant or holding an alternative; 'holds the evidence' asks for both.",
        "",
        table(head, rows),
        "",
    ]
