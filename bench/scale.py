"""Scale runs on synthetic corpora: each FAISS index kind (build time, size per million, single-query latency,
recall@10 against exact search) and BM25 (build, latency) at each size; the kind `auto` picks at each size."""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.load import percentiles
from bench.synth import clustered_vectors, queries_like, zh_queries, zh_token_ids, zh_vocabulary
from rag import ann

Log = Callable[[str], None]


def _timed_queries(fn: Callable[[Any], Any], queries: list[Any], budget_s: float) -> list[float]:
    """Latency in ms of each query, one at a time, stopping after `budget_s` (at least 10 queries)."""
    out: list[float] = []
    t_end = time.perf_counter() + budget_s
    for i, q in enumerate(queries):
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
        if i >= 9 and time.perf_counter() > t_end:
            break
    return out


def _file_size(index: faiss.Index) -> int:
    with tempfile.NamedTemporaryFile(suffix=".faiss") as f:
        faiss.write_index(index, f.name)
        return Path(f.name).stat().st_size


def faiss_runs(
    n: int,
    kinds: list[str],
    hnsw_max: int,
    dim: int = 384,
    n_queries: int = 200,
    budget_s: float = 20.0,
    log: Log = print,
) -> dict[str, Any]:
    t = time.perf_counter()
    x = clustered_vectors(n, dim, seed=n)
    q = queries_like(x, n_queries, seed=n + 1)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    exact = ann.exact_search(x, q, 10)
    out: dict[str, Any] = {
        "n": n,
        "dim": dim,
        "generate_s": round(gen_s, 1),
        "ground_truth_s": round(time.perf_counter() - t, 1),
        "auto_kind": ann.choose(n, ann.AnnParams()),
        "kinds": {},
    }
    for kind in kinds:
        if kind == "hnsw" and n > hnsw_max:
            out["kinds"][kind] = {"skipped": f"HNSW above {hnsw_max} vectors (set --hnsw-max to measure it)"}
            continue
        index, info = ann.build(x, kind=kind)
        size = _file_size(index)
        _, ids = index.search(q, 10)
        lat = _timed_queries(lambda v, ix=index: ix.search(v[None], 10), list(q), budget_s)
        row = {
            "build_s": info.build_s,
            "params": info.params,
            "calibrated_recall": info.calibrated_recall,
            "recall_at_10": round(ann.recall_at_k(ids, exact, 10), 4),
            "bytes": size,
            "mib_per_million": round(size / n * 1e6 / 2**20, 1),
            "queries_timed": len(lat),
            **percentiles(lat, "ms_"),
        }
        log(
            f"  n={n:>9,d} {kind:8s} build {info.build_s:7.1f}s  {row['mib_per_million']:7.1f} MiB/M  "
            f"p50 {row['ms_p50']:.2f} ms  p95 {row['ms_p95']:.2f} ms  "
            f"recall@10 {row['recall_at_10']:.3f}  {info.params}"
        )
        out["kinds"][kind] = row
        del index
        gc.collect()
    del x
    gc.collect()
    return out


def bm25_runs(
    n: int, n_queries: int = 200, budget_s: float = 20.0, rebuilt_max: int = 10_000, log: Log = print
) -> dict[str, Any]:
    """bm25s built once (what the retriever uses) vs, up to `rebuilt_max`, rank_bm25 rebuilt per query (Chatchat)."""
    import bm25s
    from bm25s.tokenization import Tokenized

    from rag.lexical import BM25Index

    words, p = zh_vocabulary()
    docs = zh_token_ids(n, p, seed=n)
    queries = zh_queries(n_queries, words, p, seed=n + 1)
    t = time.perf_counter()
    model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    model.index(
        Tokenized(ids=[d.tolist() for d in docs], vocab={w: i for i, w in enumerate(words)}), show_progress=False
    )
    index = BM25Index(model)
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        index.save(Path(d))
        size = sum(f.stat().st_size for f in Path(d).iterdir())

    def search(tokens: list[str]) -> None:
        s = index.scores(tokens)
        top = np.argpartition(-s, 49)[:50]
        top[np.argsort(-s[top])]

    lat = _timed_queries(search, queries, budget_s)
    out: dict[str, Any] = {
        "n": n,
        "build_s": round(build_s, 1),
        "bytes": size,
        "mib_per_million": round(size / n * 1e6 / 2**20, 1),
        "mean_tokens": round(float(np.mean([len(d) for d in docs])), 1),
        **percentiles(lat, "ms_"),
    }
    log(
        f"  n={n:>9,d} bm25     build {build_s:7.1f}s  {out['mib_per_million']:7.1f} MiB/M  "
        f"p50 {out['ms_p50']:.2f} ms  p95 {out['ms_p95']:.2f} ms"
    )
    if n <= rebuilt_max:
        from rank_bm25 import BM25Okapi

        corpus = [[words[i] for i in d] for d in docs]
        rebuilt = _timed_queries(lambda qt: BM25Okapi(corpus).get_scores(qt), queries[:5], 0)
        out["rebuilt_per_query"] = {
            **percentiles(rebuilt, "ms_"),
            "ratio_p50": round(np.median(rebuilt) / out["ms_p50"], 1),
        }
        log(
            f"  n={n:>9,d} bm25 rebuilt per query (Chatchat): p50 {out['rebuilt_per_query']['ms_p50']:.0f} ms, "
            f"{out['rebuilt_per_query']['ratio_p50']}x ours"
        )
    return out
