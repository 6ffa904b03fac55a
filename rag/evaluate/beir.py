"""`rag bench`: document-level retrieval metrics on a BEIR dataset, every mode in one run."""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import BadInput
from rag.evaluate.compare import build_baselines, versus
from rag.evaluate.extra import require_eval
from rag.evaluate.machine import environment
from rag.evaluate.metrics import IR_METRICS, ir_scores, latency_summary
from rag.evaluate.provenance import llm_replay
from rag.evaluate.qa import Progress, load_qa
from rag.evaluate.report import bench_summary, write_reports

MODES = ("dense", "bm25", "hybrid")
DEEP = 1000  # passages fetched for recall@100, so documents split into several passages still reach 100
SERVED_METRICS = tuple(m for m in IR_METRICS if m != "recall@100")


def load_beir(folder: Path) -> tuple[Path, list[dict[str, Any]], dict[str, dict[str, int]]]:
    """corpus.jsonl's path, the queries, and the positive judgements of qrels/test.tsv (header line skipped)."""
    corpus, qfile, qrels_file = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / "test.tsv"
    if not corpus.exists() or not qfile.exists() or not qrels_file.exists():
        raise BadInput(f"{folder} is not a BEIR dataset (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    queries = load_qa(qfile)
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for i, line in enumerate(qrels_file.read_text(encoding="utf-8").splitlines()[1:], 2):
        parts = line.split("\t")
        if not line.strip():
            continue
        try:
            if len(parts) >= 3 and int(parts[2]) > 0:
                qrels[parts[0]][parts[1]] = int(parts[2])
        except ValueError as e:
            raise BadInput(f"{qrels_file}:{i}: the score must be an integer ({e})") from e
    return corpus, queries, dict(qrels)


def dataset_name(folder: Path) -> str:
    return re.sub(r"[^\w.-]+", "_", folder.resolve().name)


def to_docs(passages: list[Any], doc_id: Callable[[Any], str]) -> list[str]:
    """Passages -> documents in rank order, each document at the rank of its best passage."""
    return list(dict.fromkeys(doc_id(p) for p in passages))


def spread(items: list[Any], n: int | None) -> list[Any]:
    """n items taken at an even stride (the same every run); all when n is None."""
    if not n or n >= len(items):
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


class _QueryMemo:
    """Embeds each query once for the deep (recall@100) pass; that pass is not timed."""

    def __init__(self, embedder: Any) -> None:
        self._e, self.id, self.dim = embedder, embedder.id, embedder.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._memo:
            self._memo[text] = self._e.embed_query(text)
        return self._memo[text]


def index_corpus(
    components: Any, corpus: Path, collection: str, progress: Progress | None = None
) -> tuple[list[Any], Any]:
    """The corpus's documents, and the IndexReport of indexing them into their own collection (brought up to date:
    unchanged documents are skipped, documents gone from the corpus are dropped)."""
    from rag.ingest import load_paths

    s = components.settings
    docs = load_paths([corpus], s.dedup_min_chars)
    gone: list[str] = []
    if components.store.current_version(collection) is not None:  # FAISS or Milvus: an unchanged corpus is reused
        have = set(components.store.load(collection).documents)
        gone = sorted(have - {d.doc_id for d in docs})
    tick = (lambda d, n: progress("embedding", d, n)) if progress else None
    return docs, components.indexer.update(collection, add=docs, delete=gone, progress=tick)


def _timed(
    queries: list[dict[str, Any]], search: Callable[[str], list[str]], stage: str, progress: Progress | None
) -> tuple[dict[str, list[str]], list[float]]:
    run: dict[str, list[str]] = {}
    lat: list[float] = []
    if queries:
        search(str(queries[0]["text"]))  # warm-up, not timed
    for i, q in enumerate(queries, 1):
        t = time.perf_counter()
        run[str(q["_id"])] = search(str(q["text"]))
        lat.append((time.perf_counter() - t) * 1000)
        if progress:
            progress(stage, i, len(queries))
    return run, lat


def _mode_scores(
    run: dict[str, list[str]], lat: list[float], qrels: dict[str, dict[str, int]], metrics: tuple[str, ...]
) -> dict[str, Any]:
    return {
        **ir_scores(run, qrels, metrics),
        **latency_summary(lat),
        "qps_single_thread": round(1000 / statistics.fmean(lat), 1) if lat else 0.0,
        "latencies_ms": [round(x, 2) for x in lat],
    }


def run_bench(
    components: Any,
    folder: Path,
    mode: str = "all",
    top_k: int = 10,
    out: Path | None = None,
    *,
    compare: bool = False,
    limit: int | None = None,
    answers: tuple[str, ...] = (),
    progress: Progress | None = None,
    verbose: bool = True,
    expand: str | None = None,
    expand_generator: str = "llm",
) -> dict[str, Any]:
    """Index the BEIR corpus into its own collection (cached), run the queries in every mode, score the documents
    (hit@1/5/10, MRR@10, nDCG@10, recall@100; ranx) against the qrels, and write the JSON/Markdown/PNG reports.
    `answers` names generators whose end-to-end answers are scored against the queries' `metadata.answers`
    (rag.evaluate.answers), on the same queries. `expand` (auto or always): also mode `hybrid+expand`, hybrid
    retrieval with query expansion by `expand_generator`'s model as `ask` does it (no recall@100), and `expansion`."""
    require_eval(compare)
    from rag.retrieve import Retriever

    corpus, queries, qrels = load_beir(folder)
    name = dataset_name(folder)
    collection = "bench-" + name
    t = time.perf_counter()
    docs, rep = index_corpus(components, corpus, collection, progress)
    index_s = time.perf_counter() - t
    retriever = components.library.retriever(collection)
    deep = Retriever(retriever.data, _QueryMemo(components.embedder), retriever.tokenizer, retriever.fusion)
    deep.max_top_k = DEEP
    served_k = max(components.settings.candidates, top_k)  # top_k <= candidates keeps the served ranking
    metrics = SERVED_METRICS + tuple(
        m for m in (f"mrr@{top_k}", f"ndcg@{top_k}", f"recall@{top_k}") if m not in IR_METRICS
    )
    judged = spread([q for q in queries if str(q.get("_id")) in qrels], limit)
    if not judged:
        raise BadInput(f"{folder}: no query of queries.jsonl has a judgement in qrels/test.tsv")
    qrels = {str(q["_id"]): qrels[str(q["_id"])] for q in judged}  # score the queries run, no others
    modes = MODES if mode == "all" else (mode,)
    results: dict[str, Any] = {}
    doc_of = lambda h: h.chunk.doc_id  # noqa: E731
    for m in modes:
        run, lat = _timed(
            judged, lambda q, m=m: to_docs(retriever.search(q, served_k, m).hits, doc_of), f"search {m}", progress
        )
        deep_run, _ = _timed(
            judged, lambda q, m=m: to_docs(deep.search(q, DEEP, m).hits, doc_of), f"recall@100 {m}", progress
        )
        r = _mode_scores(run, lat, qrels, metrics)
        r.update(ir_scores(deep_run, qrels, ("recall@100",)))
        reached = [len(v) for v in deep_run.values()]
        r["docs_reached_deep"] = {"min": min(reached), "mean": round(statistics.fmean(reached), 1)}
        results[m] = r
    expansion = None
    if expand:
        from rag.evaluate.expand import EXPANDED, bench_expanded, call_summary

        texts = [str(q["text"]) for q in judged]
        hits, lat, calls = bench_expanded(
            components.pipeline, texts, served_k, collection, expand_generator, expand, progress
        )
        run = {str(q["_id"]): to_docs(h, doc_of) for q, h in zip(judged, hits, strict=True)}
        results[EXPANDED] = _mode_scores(run, lat, qrels, metrics)
        expansion = call_summary(calls, expand, expand_generator)
    report: dict[str, Any] = {
        "kind": "bench",
        "dataset": str(folder),
        "name": name,
        "collection": collection,
        "n_documents": rep.n_documents,
        "n_passages": rep.n_chunks,
        "n_queries": len(judged),
        "n_queries_in_file": len(queries),
        "index_seconds": round(index_s, 1),
        "embedded": rep.embedded,
        "embedder": components.embedder.id,
        "metrics_library": _ranx_version(),
        "depth": {"served_passages": served_k, "recall@100_passages": DEEP},
        "modes": results,
        **({"expansion": expansion} if expansion else {}),
        "environment": environment(),
    }
    if compare:
        report["compare"] = _compare(components, docs, judged, qrels, served_k, results.get("hybrid"), progress)
    if answers:
        report["answers"] = _answers(components, collection, judged, qrels, answers, progress)
        report.update(llm_replay(components, answers))
    default = f"bench-{name}" + (f"-answers-{'-'.join(answers)}" if answers else "")
    paths = write_reports(report, out or Path("artifacts") / f"{default}.json")
    report["reports"] = {k: str(v) for k, v in paths.items()}
    if verbose:
        print(bench_summary(report))
    return report


def _compare(
    components: Any,
    docs: list[Any],
    queries: list[dict[str, Any]],
    qrels: dict[str, dict[str, int]],
    k: int,
    ours: dict[str, Any] | None,
    progress: Progress | None,
) -> dict[str, Any]:
    embed_progress = (lambda d, n: progress("embedding baselines", d, n)) if progress else None
    systems: dict[str, Any] = {}
    doc_of = lambda p: p.doc_id  # noqa: E731
    for b in build_baselines(docs, components.embedder, components.indexer.cache, embed_progress):
        run, lat = _timed(queries, lambda q, b=b: to_docs(b.search(q, k), doc_of), b.name, progress)
        systems[b.name] = {
            "description": b.description,
            "n_passages": b.n_passages,
            "chunking": b.chunking,
            **_mode_scores(run, lat, qrels, SERVED_METRICS),
        }
    return {
        "ours": "ours (hybrid)",
        "passages_per_query": k,
        "systems": systems,
        "vs_ours": {n: versus(ours, v, ("hit@1", "hit@5", "mrr@10", "ndcg@10")) for n, v in systems.items()}
        if ours
        else {},
    }


def _answers(
    components: Any,
    collection: str,
    queries: list[dict[str, Any]],
    qrels: dict[str, dict[str, int]],
    generators: tuple[str, ...],
    progress: Progress | None,
) -> dict[str, Any]:
    from rag.evaluate.answers import answer_groups, bench_answers

    if not any(answer_groups(q) for q in queries):
        raise BadInput("--answers: no query of queries.jsonl has metadata.answers")
    p, k = components.pipeline, components.settings.answer_top_k
    out = {}
    for gen in generators:
        tick = (lambda d, n, g=gen: progress(f"answers {g}", d, n)) if progress else None
        out[gen] = bench_answers(lambda q, g=gen: p.ask(q, k, collection, [], g).to_dict(), queries, qrels, tick)
    return out


def _ranx_version() -> str:
    from importlib.metadata import version

    return f"ranx {version('ranx')}"
