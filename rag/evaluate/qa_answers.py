"""Answers on a QA set: one scored record per item (accuracy, refusal, citation support, latency), summed up by
type, document and origin."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from rag.evaluate.metrics import ANSWERED_TYPES, answer_correct, evidence, hits, latency_summary, share
from rag.evaluate.splits import doc_key


def answer_records(
    items: list[dict[str, Any]], ask: Callable[[str], dict[str, Any]], tick: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    """Ask every item's question once; one scored record per item (what `summarise_answers` adds up)."""
    out: list[dict[str, Any]] = []
    for it in items:
        t = time.perf_counter()
        resp = ask(it["question"])
        ms = (time.perf_counter() - t) * 1000
        kind = it.get("type", "factoid")
        ok = bool(resp.get("answerable"))
        rec: dict[str, Any] = {
            "id": it["id"],
            "type": kind,
            "doc": doc_key(it),
            "split": it.get("split"),
            "origin": it.get("origin"),
            "answerable": resp.get("answerable"),
            "answer": resp.get("answer", ""),
            "citations": [
                {"n": c.get("n"), "source": c.get("source"), "quote": c.get("quote", "")}
                for c in resp.get("citations", [])
            ],
            "latency_ms": round(ms, 1),
        }
        if "ttft" in resp.get("timings_ms", {}):
            rec["ttft_ms"] = float(resp["timings_ms"]["ttft"])
        if kind == "unanswerable":
            rec["score"] = 0.0 if ok else 1.0
        else:
            rec["score"] = answer_correct(it, rec["answer"]) if ok else 0.0
            rec["false_refusal"] = not ok
            rec["supported"] = any(hits(c.get("text", ""), e) for c in resp.get("citations", []) for e in evidence(it))
        out.append(rec)
        if tick:
            tick()
    return out


def _origin_answers(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline answer figures of one origin's records (what "by_origin" lists); the counts say which figures
    have items behind them (a figure over no items is 0.0, as at the top level)."""
    unanswerable = [r for r in records if r["type"] == "unanswerable"]
    answerable = [r for r in records if r["type"] != "unanswerable"]
    scored = [r["score"] for r in answerable if r["type"] in ANSWERED_TYPES]
    return {
        "answer_accuracy": share(scored),
        "unanswerable_refused": share([r["score"] for r in unanswerable]),
        "false_refusal": share([float(r["false_refusal"]) for r in answerable]),
        "citation_support": share([float(r["supported"]) for r in answerable]),
        "n": len(records),
        "n_accuracy": len(scored),
        "n_unanswerable": len(unanswerable),
    }


def summarise_answers(records: list[dict[str, Any]], *, detail: bool = True) -> dict[str, Any]:
    """Answer accuracy (factoid, numeric, paraphrase), by type, by document and by origin, unanswerable refused, false
    refusals, citation support and latency over some records of `answer_records`; `detail` adds the per-item lists."""
    by_type: dict[str, list[float]] = defaultdict(list)
    by_doc: dict[str, list[float]] = defaultdict(list)
    unanswerable = [r for r in records if r["type"] == "unanswerable"]
    answerable = [r for r in records if r["type"] != "unanswerable"]
    for r in answerable:
        by_type[r["type"]].append(r["score"])
    by_origin: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_doc[r["doc"]].append(r["score"])
        by_origin[r.get("origin") or "original"].append(r)  # as origin_of(): no origin is the set's first items
    lat = [r["latency_ms"] for r in records]
    ttft = [r["ttft_ms"] for r in records if "ttft_ms" in r]
    answered = [s for k in ANSWERED_TYPES for s in by_type.get(k, [])]
    out = {
        "answer_accuracy": share(answered),
        "by_type": {k: share(v) for k, v in sorted(by_type.items())},
        "n_by_type": {k: len(v) for k, v in sorted(by_type.items())}
        | ({"unanswerable": len(unanswerable)} if unanswerable else {}),
        "by_doc": {k: {"score": share(v), "n": len(v)} for k, v in sorted(by_doc.items())},
        "by_origin": {k: _origin_answers(v) for k, v in sorted(by_origin.items())},
        "unanswerable_refused": share([r["score"] for r in unanswerable]),
        "false_refusal": share([float(r["false_refusal"]) for r in answerable]),
        "citation_support": share([float(r["supported"]) for r in answerable]),
        "latency_ms_p50": round(statistics.median(lat), 1) if lat else 0.0,
        "latency_ms_p95": round(latency_summary(lat)["latency_ms_p95"], 1),
        **({"ttft_ms_p50": round(statistics.median(ttft), 1)} if ttft else {}),
        "n": len(records),
    }
    if detail:
        out["latencies_ms"] = lat
        out["items"] = records
    return out


def evaluate_answers(
    items: list[dict[str, Any]], ask: Callable[[str], dict[str, Any]], tick: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Answer accuracy by type and by document, refusal, false refusals, citation support and latency."""
    return summarise_answers(answer_records(items, ask, tick))
