"""`rag eval --expand auto|always` and `rag bench --expand …`: hybrid retrieval with and without query expansion by the
chat model (RAG_EXPAND), side by side on the same questions (on the QA set per part and per question type), with how
many questions were expanded and what the expansion call cost. On the QA set only items with evidence are searched
(unanswerable ones score nothing here)."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from typing import Any

from rag.evaluate.metrics import is_multi, is_single, latency_summary
from rag.evaluate.retrieval import RetrievalRun, hit_passages, retrieval_scores, run_searches
from rag.evaluate.splits import parts
from rag.rewrite import WEAK_COVERAGE

EXPANDED = "hybrid+expand"  # the run's name among the retrieval modes of the report
SCORES = ("hit@1", "hit@5", "mrr@10")


def expanded_run(
    pipeline: Any, items: list[dict[str, Any]], top_k: int, collection: str, generator: str, mode: str, tick: Any = None
) -> tuple[RetrievalRun, dict[str, dict[str, Any]]]:
    """Hybrid retrieval as `ask` does it for `generator` under RAG_EXPAND=`mode`: the run, and per question the terms
    added and the expansion call's milliseconds (its first call; later ones come from the expander's cache)."""
    calls: dict[str, dict[str, Any]] = {}

    def search(q: str) -> list[Any]:
        res, terms, ms = pipeline.expanded_search(q, top_k, collection, generator, mode)
        calls.setdefault(q, {"terms": terms, "ms": ms})
        return hit_passages(res)

    return run_searches(items, search, tick), calls


def scored(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [it for it in items if is_single(it) or is_multi(it)]


def _side(items: list[dict[str, Any]], run: RetrievalRun) -> dict[str, Any]:
    s = retrieval_scores(items, {i: [p.text for p in ps] for i, ps in run.subset(items).passages.items()})
    return {k: s[k] for k in (*SCORES, "n") if k in s}


def expansion_report(
    items: list[dict[str, Any]],
    plain: RetrievalRun,
    expanded: RetrievalRun,
    calls: dict[str, dict[str, Any]],
    mode: str,
    generator: str,
) -> dict[str, Any]:
    """Per part (all, dev, test, independent) and per question type within it: the single-evidence items, how many
    called the model and how many were expanded, and hit@1 / hit@5 / MRR@10 of hybrid retrieval without and with the
    expansion; over every item searched, the number of expansion calls and their latency."""
    items = scored(items)
    ms = [c["ms"] for c in calls.values() if c["ms"] is not None]

    def one(sub: list[dict[str, Any]]) -> dict[str, Any]:
        """Counted over the single-evidence items, as hit@k and MRR are (multi-evidence ones add recall only)."""
        asked = [calls.get(it["question"], {}) for it in sub if is_single(it)]
        return {
            "n": len(asked),
            "called": sum(c.get("ms") is not None for c in asked),
            "expanded": sum(bool(c.get("terms")) for c in asked),
            "hybrid": _side(sub, plain),
            EXPANDED: _side(sub, expanded),
        }

    out_parts: dict[str, Any] = {}
    for part, sub in parts(items).items():
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for it in sub:
            by_type[str(it.get("type", "factoid"))].append(it)
        out_parts[part] = {**one(sub), "by_type": {k: one(v) for k, v in sorted(by_type.items())}}
    return {
        "mode": mode,
        "generator": generator,
        "weak_coverage": WEAK_COVERAGE,  # RAG_EXPAND=auto's cut
        "n": len(items),  # items searched, multi-evidence ones included
        "calls": len(ms),
        "call_ms_p50": round(statistics.median(ms), 1) if ms else None,
        "call_ms_p95": round(latency_summary(ms)["latency_ms_p95"], 1) if ms else None,
        "parts": out_parts,
    }


def call_summary(calls: dict[str, dict[str, Any]], mode: str, generator: str) -> dict[str, Any]:
    """How many questions were searched, called the model and got terms; the calls' latency."""
    ms = [c["ms"] for c in calls.values() if c["ms"] is not None]
    return {
        "mode": mode,
        "generator": generator,
        "weak_coverage": WEAK_COVERAGE,
        "n": len(calls),
        "calls": len(ms),
        "expanded": sum(bool(c["terms"]) for c in calls.values()),
        "call_ms_p50": round(statistics.median(ms), 1) if ms else None,
        "call_ms_p95": round(latency_summary(ms)["latency_ms_p95"], 1) if ms else None,
    }


def bench_expanded(
    pipeline: Any, texts: list[str], top_k: int, collection: str, generator: str, mode: str, progress: Any = None
) -> tuple[list[list[Any]], list[float], dict[str, dict[str, Any]]]:
    """`rag bench --expand`: each query's expanded hybrid hits (as `ask` retrieves them), the search latencies (the
    model call included) and the calls per query text."""
    calls: dict[str, dict[str, Any]] = {}
    hits: list[list[Any]] = []
    lat: list[float] = []
    retriever = pipeline.library.retriever(collection)
    for i, q in enumerate(texts, 1):
        t = time.perf_counter()
        if q.strip():
            res, terms, ms = pipeline.expanded_search(q, top_k, collection, generator, mode)
        else:  # a query without text (BEIR sets hold a few): searched as the other modes search it, never expanded
            res, terms, ms = retriever.search(q, top_k, "hybrid"), [], None
        lat.append((time.perf_counter() - t) * 1000)
        calls.setdefault(q, {"terms": terms, "ms": ms})
        hits.append(res.hits)
        if progress:
            progress(f"search {EXPANDED}", i, len(texts))
    return hits, lat, calls
