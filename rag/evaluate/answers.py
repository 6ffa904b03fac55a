"""`rag bench --answers`: end-to-end answers on a BEIR set whose queries carry gold answers (`metadata.answers`).

`metadata.answers` is a list of answer groups, each a list of alternatives (a bare string is a group of one). An
answer is right when, for every group, one alternative occurs in it after norm() (the RGB benchmark's rule); a
refusal is never right. `accuracy_150` also asks the answer to be at most 150 characters (API.md's rule against a
pasted passage). A citation supports the answer when its passage is from a document judged relevant in the qrels or
contains an alternative; `citation_evidence` asks for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rag.evaluate.metrics import latency_summary, share
from rag.zh import norm

MAX_CHARS = 150


def answer_groups(query: dict[str, Any]) -> list[list[str]]:
    """The query's answer groups, each a list of alternatives; empty when it has none."""
    raw = (query.get("metadata") or {}).get("answers") or []
    groups = [[g] if isinstance(g, str) else [str(a) for a in g] for g in raw]
    return [[a for a in g if norm(a)] for g in groups if any(norm(a) for a in g)]


def rgb_correct(answer: str, groups: list[list[str]]) -> bool:
    """For every group one alternative occurs in the answer (after norm())."""
    r = norm(answer)
    return bool(groups) and all(any(norm(a) in r for a in g) for g in groups)


def citation_flags(citation: dict[str, Any], groups: list[list[str]], relevant: dict[str, int]) -> tuple[bool, bool]:
    """(from a relevant document, holds an alternative)."""
    text = norm(citation.get("text", ""))
    return (relevant.get(str(citation.get("doc_id")), 0) > 0, any(norm(a) in text for g in groups for a in g))


def score_answer(resp: dict[str, Any], groups: list[list[str]], relevant: dict[str, int]) -> dict[str, Any]:
    ok = bool(resp.get("answerable"))
    answer = resp.get("answer", "")
    flags = [citation_flags(c, groups, relevant) for c in resp.get("citations", [])] if ok else []
    right = ok and rgb_correct(answer, groups)
    return {
        "answerable": ok,
        "correct": right,
        "correct_150": right and len(norm(answer)) <= MAX_CHARS,
        "supported": any(d or a for d, a in flags),
        "evidence": any(d and a for d, a in flags),
        "citations": len(flags),
        "citations_supporting": sum(1 for d, a in flags if d or a),
    }


def summarise(records: list[dict[str, Any]], *, detail: bool = True) -> dict[str, Any]:
    answered = [r for r in records if r["answerable"]]
    n_cit = sum(r["citations"] for r in records)
    lat = [r["latency_ms"] for r in records]
    out = {
        "n": len(records),
        "accuracy": share([float(r["correct"]) for r in records]),
        "accuracy_150": share([float(r["correct_150"]) for r in records]),
        "accuracy_answered": share([float(r["correct"]) for r in answered]),
        "refused": share([float(not r["answerable"]) for r in records]),
        "citation_support": share([float(r["supported"]) for r in records]),
        "citation_evidence": share([float(r["evidence"]) for r in records]),
        "citation_precision": round(sum(r["citations_supporting"] for r in records) / n_cit, 4) if n_cit else 0.0,
        **{k: round(v, 1) for k, v in latency_summary(lat).items()},
    }
    if detail:
        out["items"] = records
    return out


def bench_answers(
    ask: Callable[[str], dict[str, Any]],
    queries: list[dict[str, Any]],
    qrels: dict[str, dict[str, int]],
    tick: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Ask every query that has answer groups and a question (a blank one cannot be asked: counted apart); the
    summary and one record per query."""
    with_answers = [q for q in queries if answer_groups(q)]
    asked = [q for q in with_answers if str(q.get("text") or "").strip()]
    records = []
    for i, q in enumerate(asked, 1):
        groups = answer_groups(q)
        t = time.perf_counter()
        resp = ask(str(q["text"]))
        ms = (time.perf_counter() - t) * 1000
        rec = {
            "_id": str(q["_id"]),
            **score_answer(resp, groups, qrels.get(str(q["_id"]), {})),
            "latency_ms": round(ms, 1),
            "answer": resp.get("answer", ""),
            "gold": groups,
        }
        records.append(rec)
        if tick:
            tick(i, len(asked))
    return {**summarise(records), "skipped_blank": len(with_answers) - len(asked)}
