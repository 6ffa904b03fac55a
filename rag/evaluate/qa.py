"""`rag eval`: retrieval per mode and answers of one generator on a QA set, with breakdowns and a failure list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.errors import BadInput
from rag.evaluate.compare import build_baselines, versus
from rag.evaluate.extra import require_eval
from rag.evaluate.machine import environment
from rag.evaluate.metrics import (
    evidence,
    first_hit,
    hits,
    is_multi,
    is_single,
)
from rag.evaluate.provenance import llm_replay
from rag.evaluate.qa_answers import evaluate_answers, summarise_answers
from rag.evaluate.report import eval_summary, write_reports
from rag.evaluate.retrieval import RetrievalRun, hit_passages, retrieval_report, run_searches
from rag.evaluate.splits import parts, select, split_of, stratified

Progress = Callable[[str, int, int], None]  # (stage, done, total)
FAIL_AT = 5  # an item whose evidence is not in the top 5 is a retrieval failure


def load_qa(path: Path) -> list[dict[str, Any]]:
    items = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise BadInput(f"{path}:{i}: not JSON ({e})") from e
    return items


def sample_stratum(item: dict[str, Any]) -> tuple[str, str, str]:
    """--limit keeps the shares of dev, test, independent items and of each type."""
    return split_of(item), str(item.get("origin") or ""), str(item.get("type", "factoid"))


def by_split(
    items: list[dict[str, Any]], runs: dict[str, RetrievalRun], answers: dict[str, Any] | None
) -> dict[str, Any]:
    """Every figure again for each part (dev, test, and test's independent items), without the per-item lists."""
    records = {r["id"]: r for r in (answers or {}).get("items", [])}
    out: dict[str, Any] = {}
    for part, sub in parts(items).items():
        ret = {}
        for m, run in runs.items():
            r = retrieval_report(sub, run.subset(sub), breakdown=False)
            r.pop("latencies_ms", None)
            ret[m] = r
        entry: dict[str, Any] = {"n": len(sub), "retrieval": ret}
        if answers is not None:
            entry["answers"] = summarise_answers([records[it["id"]] for it in sub if it["id"] in records], detail=False)
        out[part] = entry
    return out


def failures(
    items: list[dict[str, Any]], run: RetrievalRun | None, mode: str, answers: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Items whose evidence is not in the top 5 of `mode`, or whose answer scored below 1."""
    answered = {a["id"]: a for a in (answers or {}).get("items", [])}
    out = []
    for it in items:
        reasons = []
        texts = [p.text for p in run.passages.get(it["id"], [])] if run else []
        rank = None
        if run and is_single(it):
            rank = first_hit(texts, it["evidence"])
            if rank is None or rank > FAIL_AT:
                reasons.append(f"retrieval: evidence not in top {FAIL_AT}")
        elif run and is_multi(it):
            found = sum(any(hits(t, e) for t in texts[:FAIL_AT]) for e in evidence(it))
            if found < len(evidence(it)):
                reasons.append(f"retrieval: {found} of {len(evidence(it))} evidence strings in top {FAIL_AT}")
        a = answered.get(it["id"])
        if a is not None and a["score"] < 1:
            reasons.append(
                "answer: refused"
                if not a["answerable"] and it.get("type") != "unanswerable"
                else f"answer: scored {a['score']:.2f}"
            )
        if not reasons:
            continue
        out.append(
            {
                "id": it["id"],
                "type": it.get("type"),
                "question": it["question"],
                "doc": it.get("doc"),
                "expected_answer": it.get("answer", ""),
                "expected_evidence": evidence(it),
                "reasons": reasons,
                "mode": mode,
                "first_hit_rank": rank,
                "top3": [p.to_dict(300) for p in (run.passages.get(it["id"], [])[:3] if run else [])],
                "answer": a["answer"] if a else None,
                "answer_score": a["score"] if a else None,
                "citations": a["citations"] if a else [],
            }
        )
    return out


def run_eval(
    components: Any,
    qa: Path,
    top_k: int = 10,
    collection: str = "default",
    generator: str | None = None,
    out: Path | None = None,
    limit: int | None = None,
    modes: tuple[str, ...] = ("dense", "bm25", "hybrid"),
    *,
    compare: bool = False,
    compare_latency: bool = True,
    answers: bool = True,
    split: str = "all",
    progress: Progress | None = None,
    verbose: bool = True,
    expand: str | None = None,
) -> dict[str, Any]:
    """Retrieval per mode (and the reference pipelines with `compare`) and answers for one generator; writes the
    JSON, Markdown and PNG reports (`out` names the JSON; default artifacts/eval-<generator>.json). `split` picks
    the items (all, dev or test); the top-level figures are over the items run, `by_split` gives them per part.
    `compare_latency=False` builds Chatchat's per-query BM25 once: the same rankings, no latency ratios (quality-only
    runs such as tests).
    `expand` (auto or always): also hybrid retrieval with query expansion by the chat model (`generator`, or the
    local LLM when it is the extractive one or none), mode `hybrid+expand`, compared in `expansion`."""
    require_eval(compare)
    items = select(load_qa(qa), split)
    items = stratified(items, limit, sample_stratum) if limit else items
    p = components.pipeline
    gen = generator or components.settings.generator

    def ticker(stage: str) -> Callable[[], None]:
        done = [0]

        def tick() -> None:
            done[0] += 1
            if progress:
                progress(stage, done[0], len(items))

        return tick

    runs = {
        m: run_searches(items, lambda q, m=m: hit_passages(p.search(q, top_k, collection, m)), ticker(f"search {m}"))
        for m in modes
    }
    expansion = None
    if expand:
        from rag.evaluate.expand import EXPANDED, expanded_run, expansion_report, scored

        chat = gen if gen and gen != "extractive" else "llm"
        if "hybrid" not in runs:
            runs["hybrid"] = run_searches(items, lambda q: hit_passages(p.search(q, top_k, collection, "hybrid")))
        runs[EXPANDED], calls = expanded_run(
            p, scored(items), top_k, collection, chat, expand, ticker(f"search {EXPANDED}")
        )
        expansion = expansion_report(items, runs["hybrid"], runs[EXPANDED], calls, expand, chat)
    retrieval = {m: retrieval_report(items, r) for m, r in runs.items()}
    ans = None
    if answers:
        ans = evaluate_answers(
            items,
            lambda q: p.ask(q, components.settings.answer_top_k, collection, [], gen).to_dict(),
            ticker("answers"),
        )
    main_mode = "hybrid" if "hybrid" in runs else next(iter(runs), "")
    s = components.settings
    report: dict[str, Any] = {
        "kind": "eval",
        "qa": str(qa),
        "split": split,
        "limit": limit,
        "n": len(items),
        "generator": gen if answers else None,
        "collection": collection,
        "top_k": top_k,
        "retrieval": retrieval,
        "answers": ans,
        "by_split": by_split(items, runs, ans),
        **({"expansion": expansion} if expansion else {}),
        # failures are listed for dev items only: test items are not looked at one by one
        "failures": failures([it for it in items if split_of(it) != "test"], runs.get(main_mode), main_mode, ans),
        "failures_held_out": len(
            failures([it for it in items if split_of(it) == "test"], runs.get(main_mode), main_mode, ans)
        ),
        "settings": {
            "chunk_size": s.chunk_size,
            "chunk_overlap": s.chunk_overlap,
            "fusion": s.fusion,
            "dense_weight": s.dense_weight,
            "refuse_below": p.limits.refuse_below,
            "llm_refuse_below": p.limits.llm_refuse_below,
            "embedder": components.embedder.id,
            **llm_replay(components, gen if answers else None),
        },
        "environment": environment(),
    }
    if compare:
        report["compare"] = compare_on_qa(
            components, items, collection, top_k, retrieval.get(main_mode), main_mode, progress, compare_latency
        )
    paths = write_reports(report, out or Path("artifacts") / f"eval-{gen if answers else 'retrieval'}.json")
    report["reports"] = {k: str(v) for k, v in paths.items()}
    if verbose:
        print(eval_summary(report))
    return report


def _no_latency(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "latency_ms_p50"}


def compare_on_qa(
    components: Any,
    items: list[dict[str, Any]],
    collection: str,
    top_k: int,
    ours: dict[str, Any] | None,
    mode: str,
    progress: Progress | None = None,
    latency: bool = True,
) -> dict[str, Any]:
    """The reference pipelines on the same documents, embedder and items; differences and ratios against ours
    (`latency=False`: Chatchat's BM25 built once, its latency not Chatchat's, so no latency ratios)."""
    data = components.library.retriever(collection).data
    docs = [data.documents[d] for d in sorted(data.documents)]
    embed_progress = (lambda d, n: progress("embedding baselines", d, n)) if progress else None
    systems: dict[str, Any] = {}
    for b in build_baselines(docs, components.embedder, components.indexer.cache, embed_progress, latency):
        r = retrieval_report(items, run_searches(items, lambda q, b=b: b.search(q, top_k)), breakdown=False)
        systems[b.name] = {"description": b.description, "n_passages": b.n_passages, "chunking": b.chunking, **r}
    return {
        "ours": f"ours ({mode})",
        "ours_n_passages": len(data.chunks),
        "systems": systems,
        "vs_ours": {k: versus(ours if latency else _no_latency(ours), v) for k, v in systems.items()} if ours else {},
    }
