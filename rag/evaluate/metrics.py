"""The metrics of API.md (evidence hits, answer scores) and document-level IR metrics (ranx)."""

from __future__ import annotations

import math
import re
import statistics
import warnings
from dataclasses import dataclass
from typing import Any

from rag.zh import norm

ANSWERED_TYPES = ("factoid", "numeric", "paraphrase")
# Document-level metrics of `rag bench`, as ranx names them.
IR_METRICS = {
    "hit@1": "hit_rate@1",
    "hit@5": "hit_rate@5",
    "hit@10": "hit_rate@10",
    "mrr@10": "mrr@10",
    "ndcg@10": "ndcg@10",
    "recall@10": "recall@10",
    "recall@100": "recall@100",
}


def hits(passage: str, evidence: str) -> bool:
    """API.md: the longest common substring of norm(passage) and norm(evidence) is ≥ ceil(0.8 × len(norm(evidence)))."""
    p, e = norm(passage), norm(evidence)
    if not e:
        return False
    need = math.ceil(0.8 * len(e))
    return any(e[i : i + need] in p for i in range(len(e) - need + 1))


def answer_correct(item: dict[str, Any], response: str) -> float:
    """Score of one answer in [0, 1] by the item's type."""
    r = norm(response)
    kind = item.get("type")
    if kind in ANSWERED_TYPES:
        if len(r) > 150:
            return 0.0
        golds = [item.get("answer", "")] + list(item.get("answer_aliases") or [])
        return 1.0 if any(norm(g) and norm(g) in r for g in golds) else 0.0
    if kind == "list":
        parts = [p for p in re.split(r"[、；]", item.get("answer", "")) if norm(p)]
    else:
        parts = list(item.get("answer_parts") or [])
    if not parts:
        return 0.0
    return sum(1 for p in parts if norm(p) in r) / len(parts)


def evidence(item: dict[str, Any]) -> list[str]:
    ev = item.get("evidence")
    return [ev] if isinstance(ev, str) else list(ev or [])


def is_single(item: dict[str, Any]) -> bool:
    """API.md: hit@k and MRR@10 are over answerable single-document items (one document, one evidence string)."""
    return (
        item.get("type") != "unanswerable"
        and isinstance(item.get("doc"), str)
        and isinstance(item.get("evidence"), str)
    )


def is_multi(item: dict[str, Any]) -> bool:
    """Evidence recall@10 is over answerable items with several evidence strings."""
    return item.get("type") != "unanswerable" and len(evidence(item)) > 1


def first_hit(texts: list[str], ev: str, depth: int = 10) -> int | None:
    """1-based rank of the first passage within `depth` that hits the evidence, or None."""
    return next((r for r, t in enumerate(texts[:depth], 1) if hits(t, ev)), None)


def evidence_recall(texts: list[str], evs: list[str], depth: int = 10) -> float:
    return sum(any(hits(t, e) for t in texts[:depth]) for e in evs) / len(evs) if evs else 0.0


@dataclass
class RetrievalScores:
    hit_at: dict[int, float]
    mrr10: float
    evidence_recall10: float
    n_single: int
    n_multi: int


def score_retrieval(
    items: list[dict[str, Any]], ranked: dict[str, list[str]], ks: tuple[int, ...] = (1, 3, 5, 10)
) -> RetrievalScores:
    """`ranked[id]` is the list of passage texts in rank order."""
    single = [it for it in items if is_single(it)]
    multi = [it for it in items if is_multi(it)]
    hit_at = {k: 0.0 for k in ks}
    rr = 0.0
    for it in single:
        first = first_hit(ranked.get(it["id"], []), it["evidence"])
        for k in ks:
            hit_at[k] += 1.0 if first is not None and first <= k else 0.0
        rr += 1.0 / first if first else 0.0
    n = max(len(single), 1)
    rec = [evidence_recall(ranked.get(it["id"], []), evidence(it)) for it in multi]
    return RetrievalScores(
        {k: v / n for k, v in hit_at.items()}, rr / n, statistics.fmean(rec) if rec else 0.0, len(single), len(multi)
    )


def percentile(xs: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def share(xs: list[float]) -> float:
    """The mean of per-item scores or flags, to 4 places; 0.0 over no items (what the answer reports show)."""
    return round(statistics.fmean(xs), 4) if xs else 0.0


def latency_summary(lat_ms: list[float]) -> dict[str, float]:
    return {
        "latency_ms_p50": round(statistics.median(lat_ms), 2) if lat_ms else 0.0,
        "latency_ms_p95": round(percentile(lat_ms, 95), 2),
    }


def doc_run(ranked_doc_ids: list[str]) -> dict[str, float]:
    """A ranked list of document ids as a ranx run row (scores that keep the order)."""
    n = len(ranked_doc_ids)
    return {d: float(n - i) for i, d in enumerate(ranked_doc_ids)}


def ir_scores(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], metrics: tuple[str, ...] = tuple(IR_METRICS)
) -> dict[str, float]:
    """Mean document-level metrics over the queries that have judgements, computed by ranx.

    `run[qid]` is the documents in rank order (passages already mapped to documents, best rank per document);
    a judged query missing from the run scores 0.
    """
    from ranx import Qrels, Run, evaluate

    judged = {q: {d: int(g) for d, g in rel.items() if g > 0} for q, rel in qrels.items()}
    judged = {q: rel for q, rel in judged.items() if rel}
    if not judged:
        return {**{m: 0.0 for m in metrics}, "n_queries": 0}
    names = [IR_METRICS.get(m, m) for m in metrics]
    rows = {q: doc_run(run.get(q, [])) for q in judged}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety notes from inside ranx
        got = evaluate(Qrels(judged), Run(rows), names, make_comparable=True)
    if not isinstance(got, dict):
        got = {names[0]: got}
    return {**{m: round(float(got[n]), 4) for m, n in zip(metrics, names, strict=True)}, "n_queries": len(judged)}


def beir_scores(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int = 10) -> dict[str, float]:
    """nDCG@k, recall@k, MRR@k and hit@1 (ranx) over queries that have judgements."""
    return ir_scores(run, qrels, ("hit@1", f"mrr@{k}", f"ndcg@{k}", f"recall@{k}"))
