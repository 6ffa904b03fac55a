"""The figure blocks of docs/benchmarks.md that set ours beside the reference pipelines (`--compare`).

`compare-qa` and `compare-qa-types` read docs/figures/compare-qa.json (`rag eval … --compare --figures`),
`compare-cmrc2018` reads docs/figures/compare-cmrc2018.json (`rag bench … --compare --figures`); rag/evaluate/docs.py
finds the blocks and checks them.
"""

from __future__ import annotations

from typing import Any

from rag.evaluate import docs

QA_FILE = "compare-qa.json"
CMRC_FILE = "compare-cmrc2018.json"
QA_COMMAND = "rag eval eval/qa.jsonl --generator extractive --compare --retrieval-only --split test"
CMRC_COMMAND = "rag bench ../shared/bench/cmrc2018-trial --compare"
MODES = ("dense", "bm25", "hybrid")
DIFFS = (("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr@10", "MRR@10"))


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}" if v < 10 else f"{v:.1f}"


def _diff(v: float | None) -> str:
    return "—" if v is None else f"{v:+.3f}"


def _footer(rep: dict[str, Any], file: str, command: str, latency: bool = True) -> str:
    load = (rep.get("environment") or {}).get("load_average") or []
    timing = (
        " Latencies are single-threaded wall-clock milliseconds per query, the query embedding included"
        + (f" (load average {load[0]} when the run ended)." if load else ".")
        if latency
        else ""
    )
    return (
        docs._measured(rep) + f" Command: `{command}`.{timing} Generated from docs/figures/{file} by "
        "`python -m rag.evaluate.docs`; `make bench-quality` re-measures."
    )


def _rows(ours: dict[str, dict[str, Any]], n_ours: int, cmp: dict[str, Any], keys: tuple[str, ...]) -> list[list[Any]]:
    """Our modes, then each reference pipeline with its differences from our hybrid."""
    rows: list[list[Any]] = []
    for m in MODES:
        if m in ours:
            r = ours[m]
            latency = [_ms(r.get("latency_ms_p50")), _ms(r.get("latency_ms_p95"))]
            rows.append([f"ours ({m})", n_ours, *[r.get(k) for k in keys], *latency, "", "", "", ""])
    for name, s in cmp["systems"].items():
        v = cmp.get("vs_ours", {}).get(name, {})
        ratio = v.get("latency_p50_ratio")
        rows.append(
            [
                name,
                s.get("n_passages"),
                *[s.get(k) for k in keys],
                _ms(s.get("latency_ms_p50")),
                _ms(s.get("latency_ms_p95")),
                *[_diff(v.get(f"{k}_diff")) for k, _ in DIFFS],
                "—" if ratio is None else f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×",
            ]
        )
    return rows


def _head(labels: list[str]) -> list[str]:
    diffs = [f"ours − theirs {label}" for _, label in DIFFS]
    return ["system", "passages", *labels, "p50 ms", "p95 ms", *diffs, "their p50 / ours"]


def _part_name(rep: dict[str, Any]) -> str:
    split = rep.get("split", "all")
    return {"test": "the test (held-out) part", "dev": "the dev part"}.get(split, "every item")


def compare_qa() -> list[str]:
    """The seeds QA set: our retrieval modes and the reference pipelines, on the same items and embedder."""
    rep = docs._need(QA_FILE)
    ours = rep["parts"]["all"]["retrieval"]
    main = ours.get("hybrid") or next(iter(ours.values()))
    keys = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "evidence_recall@10")
    labels = ["hit@1", "hit@3", "hit@5", "hit@10", "MRR@10", "evidence recall@10"]
    cmp = rep["compare"]
    return [
        f"`{rep['qa']}`, {_part_name(rep)}: {rep['parts']['all']['n']} items; hit@k and MRR@10 over the "
        f"{main['n_single']} answerable items with one evidence string, evidence recall@10 over the "
        f"{main['n_multi']} with several; differences are ours (hybrid) − theirs.",
        "",
        *docs._table(_head(labels), _rows(ours, cmp.get("ours_n_passages"), cmp, keys)),
        "",
        _footer(rep, QA_FILE, QA_COMMAND),
    ]


def compare_qa_types() -> list[str]:
    """Our retrieval on the seeds QA set by question type (the run of `compare-qa`)."""
    rep = docs._need(QA_FILE)
    ours = rep["parts"]["all"]["retrieval"]
    hybrid = ours.get("hybrid", {}).get("by_type", {})
    rows = []
    for t, h in hybrid.items():
        single = bool(h.get("n"))  # hit@k and MRR@10 mean nothing for a type with no one-evidence item
        others = [ours.get(m, {}).get("by_type", {}).get(t, {}).get("hit@5") for m in ("dense", "bm25")]
        ranks = [*others, h.get("hit@1"), h.get("hit@5"), h.get("mrr@10")] if single else [None] * 5
        rows.append([t, h.get("n"), h.get("n_multi", 0), *ranks, h.get("evidence_recall@10")])
    head = [
        "type",
        "one evidence",
        "several",
        "dense hit@5",
        "bm25 hit@5",
        "hybrid hit@1",
        "hybrid hit@5",
        "hybrid MRR@10",
        "hybrid evidence recall@10",
    ]
    return [
        *docs._table(head, rows),
        "",
        f"{rep['qa']}, {_part_name(rep)}; items by the number of evidence strings (hit@k and MRR@10 are over those "
        "with one, evidence recall@10 over those with several). " + _footer(rep, QA_FILE, QA_COMMAND, latency=False),
    ]


def compare_cmrc2018() -> list[str]:
    """cmrc2018-trial: our retrieval modes and the reference pipelines, documents ranked by their best passage."""
    rep = docs._need(CMRC_FILE)
    cmp = rep["compare"]
    keys = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@100")
    labels = ["hit@1", "hit@5", "hit@10", "MRR@10", "nDCG@10", "recall@100"]
    return [
        f"{rep['n_documents']} documents, {rep['n_queries']} judged queries, {cmp.get('passages_per_query')} "
        "passages per query mapped to documents at the rank of their best passage; recall@100 is ours only (a "
        "second, deeper search); differences are ours (hybrid) − theirs.",
        "",
        *docs._table(_head(labels), _rows(rep["modes"], rep["n_passages"], cmp, keys)),
        "",
        _footer(rep, CMRC_FILE, CMRC_COMMAND),
    ]


RENDERERS = {"compare-qa": compare_qa, "compare-qa-types": compare_qa_types, "compare-cmrc2018": compare_cmrc2018}
