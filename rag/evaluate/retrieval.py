"""Retrieval on a QA set: one retriever's passages and latencies per item (RetrievalRun), and API.md's retrieval
metrics over them by question type, document and origin."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.evaluate.compare import Passage
from rag.evaluate.metrics import is_multi, is_single, latency_summary, score_retrieval
from rag.evaluate.splits import origin_of


@dataclass
class RetrievalRun:
    """What one retriever returned for every item, and how long each search took."""

    passages: dict[str, list[Passage]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)  # in item order

    def texts(self) -> dict[str, list[str]]:
        return {i: [p.text for p in ps] for i, ps in self.passages.items()}

    def subset(self, items: list[dict[str, Any]]) -> RetrievalRun:
        """The same searches restricted to `items` (latencies matched by position in the full run)."""
        order = {i: n for n, i in enumerate(self.passages)}
        keep = [it["id"] for it in items if it["id"] in order]
        lat = [self.latencies_ms[order[i]] for i in keep if order[i] < len(self.latencies_ms)]
        return RetrievalRun({i: self.passages[i] for i in keep}, lat)


def run_searches(
    items: list[dict[str, Any]],
    search: Callable[[str], Sequence[Passage | str]],
    tick: Callable[[], None] | None = None,
) -> RetrievalRun:
    run = RetrievalRun()
    if items:
        search(items[0]["question"])  # warm-up, not timed: first-call costs are not per-query latency
    for it in items:
        t = time.perf_counter()
        got = search(it["question"])
        run.latencies_ms.append((time.perf_counter() - t) * 1000)
        run.passages[it["id"]] = [p if isinstance(p, Passage) else Passage(p) for p in got]
        if tick:
            tick()
    return run


def retrieval_scores(items: list[dict[str, Any]], ranked: dict[str, list[str]]) -> dict[str, Any]:
    s = score_retrieval(items, ranked)
    out: dict[str, Any] = {
        **{f"hit@{k}": round(v, 4) for k, v in s.hit_at.items()},
        "mrr@10": round(s.mrr10, 4),
        "n": s.n_single,
    }
    if s.n_multi:
        out["evidence_recall@10"] = round(s.evidence_recall10, 4)
        out["n_multi"] = s.n_multi
    return out


def retrieval_report(items: list[dict[str, Any]], run: RetrievalRun, breakdown: bool = True) -> dict[str, Any]:
    """API.md's retrieval metrics, latency, and the same metrics by question type, by document and by origin."""
    ranked = run.texts()
    s = score_retrieval(items, ranked)
    out: dict[str, Any] = {
        **{f"hit@{k}": round(v, 4) for k, v in s.hit_at.items()},
        "mrr@10": round(s.mrr10, 4),
        "evidence_recall@10": round(s.evidence_recall10, 4),
        "n_single": s.n_single,
        "n_multi": s.n_multi,
        **latency_summary(run.latencies_ms),
    }
    if breakdown:
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_origin: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for it in items:
            if is_single(it) or is_multi(it):
                by_type[it.get("type", "factoid")].append(it)
                by_origin[origin_of(it)].append(it)
            if is_single(it):
                by_doc[it["doc"]].append(it)
        out["by_type"] = {k: retrieval_scores(v, ranked) for k, v in sorted(by_type.items())}
        out["by_doc"] = {k: retrieval_scores(v, ranked) for k, v in sorted(by_doc.items())}
        out["by_origin"] = {k: retrieval_scores(v, ranked) for k, v in sorted(by_origin.items())}
    out["latencies_ms"] = [round(x, 2) for x in run.latencies_ms]
    return out


def evaluate_retrieval(items: list[dict[str, Any]], search: Callable[[str], Sequence[Passage | str]]) -> dict[str, Any]:
    """Retrieval metrics of one search function (returning passages or passage texts, best first)."""
    return retrieval_report(items, run_searches(items, search))


def hit_passages(res: Any) -> list[Passage]:  # a SearchResult
    return [Passage(h.chunk.text, h.chunk.doc_id, h.source, h.score) for h in res.hits]
