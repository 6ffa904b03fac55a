"""Side by side on the seeds, same documents, same embedder, same questions: our hybrid retriever against the plain
LangChain FAISS pipeline and the Langchain-Chatchat-style hybrid (BM25 rebuilt per query), from
rag.evaluate.compare. Times are per query, in process (no HTTP), query embedding included in all three."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import percentiles

Log = Callable[[str], None]


def _latencies(search: Callable[[str], Any], questions: list[str]) -> list[float]:
    search(questions[0])  # warm
    out = []
    for q in questions:
        t = time.perf_counter()
        search(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def side_by_side(
    components: Any, cache: Any, questions: list[str], top_k: int = 10, log: Log = print
) -> dict[str, Any]:
    """`cache`: the embedding cache the baselines' passages go through (the project's, so a second run embeds
    nothing)."""
    from rag.evaluate.compare import build_baselines

    retriever = components.library.retriever(components.settings.collection)
    data = retriever.data
    docs = [data.documents[d] for d in sorted(data.documents)]
    t = time.perf_counter()
    baselines = build_baselines(docs, components.embedder, cache)
    build_s = time.perf_counter() - t
    ours = percentiles(_latencies(lambda q: retriever.search(q, top_k, "hybrid"), questions), "ms_")
    out: dict[str, Any] = {
        "questions": len(questions),
        "top_k": top_k,
        "baselines_build_s": round(build_s, 1),
        "systems": {"ours (hybrid)": {"passages": len(data.chunks), **ours}},
    }
    log(f"  ours (hybrid)        p50 {ours['ms_p50']:.1f} ms  p95 {ours['ms_p95']:.1f} ms")
    for b in baselines:
        lat = percentiles(_latencies(lambda q, b=b: b.search(q, top_k), questions), "ms_")
        row = {
            "passages": b.n_passages,
            "description": b.description,
            **lat,
            "p50_ratio": round(lat["ms_p50"] / ours["ms_p50"], 2),
            "p95_ratio": round(lat["ms_p95"] / ours["ms_p95"], 2),
        }
        out["systems"][b.name] = row
        log(f"  {b.name:20s} p50 {lat['ms_p50']:.1f} ms  p95 {lat['ms_p95']:.1f} ms  ({row['p50_ratio']}x ours at p50)")
    return out


def profile(components: Any, questions: list[str], top: int = 12) -> dict[str, Any]:
    """Where a request's time goes, in process: the retriever's stages, /ask's stages, and cProfile's top functions
    of extractive /ask by own time."""
    import cProfile
    import io
    import pstats

    retriever = components.library.retriever(components.settings.collection)
    stages: dict[str, list[float]] = {}
    for q in questions:
        for k, v in retriever.search(q, 10, "hybrid").timings_ms.items():
            stages.setdefault(k, []).append(v)
    ask_stages: dict[str, list[float]] = {}
    prof = cProfile.Profile()
    prof.enable()
    for q in questions:
        for k, v in components.pipeline.ask(q, generator="extractive").timings_ms.items():
            if isinstance(v, int | float):
                ask_stages.setdefault(k, []).append(float(v))
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[
        :top
    ]  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    n = len(questions)
    return {
        "questions": n,
        "embed_query_by_length": embed_cost(components.embedder, questions),
        "search_ms": {k: percentiles(v, "") for k, v in stages.items()},
        "ask_ms": {k: percentiles(v, "") for k, v in ask_stages.items()},
        "ask_top_functions": [
            {
                "function": f"{Path(f).name}:{line}({name})",
                "calls_per_ask": round(nc / n, 1),
                "own_ms_per_ask": round(tt / n * 1000, 2),
                "cum_ms_per_ask": round(ct / n * 1000, 2),
            }
            for (f, line, name), (_cc, nc, tt, ct, _callers) in rows
        ],
    }


def embed_cost(embedder: Any, questions: list[str], repeats: int = 5) -> list[dict[str, Any]]:
    """Query embedding time (best of `repeats`) by query length: the cost grows with the tokens, not per call."""
    model = getattr(embedder, "_model", None)
    count = getattr(model, "token_count", None)
    base = questions[0]
    out = []
    for text in (base[:4], base, base * 2, base * 4):
        embedder.embed_query(text)
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            embedder.embed_query(text)
            best = min(best, (time.perf_counter() - t) * 1000)
        out.append({"chars": len(text), "tokens": count(text, True) if count else None, "ms_best": round(best, 2)})
    return out
