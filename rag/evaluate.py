"""`rag eval` and `rag bench`: the metrics defined in API.md, computed one way for everyone."""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import BadInput
from rag.zh import norm

ANSWERED_TYPES = ("factoid", "numeric", "paraphrase")


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


def load_qa(path: Path) -> list[dict[str, Any]]:
    items = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise BadInput(f"{path}:{i}: not JSON ({e})") from e
    return items


def stratified(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """A fixed subset of n items taken round-robin over the types, in file order (the same every run)."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        by_type[it.get("type", "factoid")].append(it)
    out: list[dict[str, Any]] = []
    queues = [list(v) for _, v in sorted(by_type.items())]
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                # spread over the file: every k-th item of its type
                step = max(1, len(q) // max(1, n // len(queues)))
                out.append(q.pop(0))
                del q[: step - 1]
    return sorted(out, key=lambda it: it["id"])


def _evidence(item: dict[str, Any]) -> list[str]:
    ev = item.get("evidence")
    return [ev] if isinstance(ev, str) else list(ev or [])


@dataclass
class RetrievalScores:
    hit_at: dict[int, float]
    mrr10: float
    evidence_recall10: float
    n_single: int
    n_multi: int


def score_retrieval(items: list[dict[str, Any]], ranked: dict[str, list[str]], ks: tuple[int, ...] = (1, 3, 5, 10)) -> RetrievalScores:
    """`ranked[id]` is the list of passage texts in rank order."""
    single = [it for it in items if it.get("type") != "unanswerable" and isinstance(it.get("doc"), str) and isinstance(it.get("evidence"), str)]
    multi = [it for it in items if it.get("type") != "unanswerable" and len(_evidence(it)) > 1]
    hit_at = {k: 0.0 for k in ks}
    rr = 0.0
    for it in single:
        texts = ranked.get(it["id"], [])
        first = next((r for r, t in enumerate(texts[:10], 1) if hits(t, it["evidence"])), None)
        for k in ks:
            hit_at[k] += 1.0 if first is not None and first <= k else 0.0
        rr += 1.0 / first if first else 0.0
    n = max(len(single), 1)
    rec = [sum(any(hits(t, e) for t in ranked.get(it["id"], [])[:10]) for e in _evidence(it)) / len(_evidence(it)) for it in multi]
    return RetrievalScores({k: v / n for k, v in hit_at.items()}, rr / n, statistics.fmean(rec) if rec else 0.0, len(single), len(multi))


def evaluate_retrieval(items: list[dict[str, Any]], search: Callable[[str], list[str]]) -> dict[str, Any]:
    ranked: dict[str, list[str]] = {}
    lat: list[float] = []
    for it in items:
        t = time.perf_counter()
        ranked[it["id"]] = search(it["question"])
        lat.append((time.perf_counter() - t) * 1000)
    s = score_retrieval(items, ranked)
    return {**{f"hit@{k}": round(v, 4) for k, v in s.hit_at.items()}, "mrr@10": round(s.mrr10, 4),
            "evidence_recall@10": round(s.evidence_recall10, 4), "n_single": s.n_single, "n_multi": s.n_multi,
            "latency_ms_p50": round(statistics.median(lat), 2) if lat else 0.0,
            "latency_ms_p95": round(_pct(lat, 95), 2) if lat else 0.0}


def evaluate_answers(items: list[dict[str, Any]], ask: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Answer accuracy by type, refusal, false refusals, citation support and latency."""
    by_type: dict[str, list[float]] = defaultdict(list)
    refused_ok: list[float] = []
    false_refusal: list[float] = []
    support: list[float] = []
    lat: list[float] = []
    ttft: list[float] = []
    per_item: list[dict[str, Any]] = []
    for it in items:
        t = time.perf_counter()
        resp = ask(it["question"])
        lat.append((time.perf_counter() - t) * 1000)
        if "ttft" in resp.get("timings_ms", {}):
            ttft.append(float(resp["timings_ms"]["ttft"]))
        kind = it.get("type", "factoid")
        if kind == "unanswerable":
            ok = 0.0 if resp.get("answerable") else 1.0
            refused_ok.append(ok)
            score = ok
        else:
            score = answer_correct(it, resp.get("answer", "")) if resp.get("answerable") else 0.0
            false_refusal.append(0.0 if resp.get("answerable") else 1.0)
            ev = _evidence(it)
            support.append(1.0 if any(hits(c.get("text", ""), e) for c in resp.get("citations", []) for e in ev) else 0.0)
            by_type[kind].append(score)
        per_item.append({"id": it["id"], "type": kind, "score": score, "answerable": resp.get("answerable"),
                         "answer": resp.get("answer", "")})
    answered = [s for k in ANSWERED_TYPES for s in by_type.get(k, [])]
    return {
        "answer_accuracy": round(statistics.fmean(answered), 4) if answered else 0.0,
        "by_type": {k: round(statistics.fmean(v), 4) for k, v in sorted(by_type.items())},
        "unanswerable_refused": round(statistics.fmean(refused_ok), 4) if refused_ok else 0.0,
        "false_refusal": round(statistics.fmean(false_refusal), 4) if false_refusal else 0.0,
        "citation_support": round(statistics.fmean(support), 4) if support else 0.0,
        "latency_ms_p50": round(statistics.median(lat), 1) if lat else 0.0,
        "latency_ms_p95": round(_pct(lat, 95), 1) if lat else 0.0,
        **({"ttft_ms_p50": round(statistics.median(ttft), 1)} if ttft else {}),
        "n": len(items),
        "items": per_item,
    }


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def _write_report(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def run_eval(components: Any, qa: Path, top_k: int = 10, collection: str = "default", generator: str | None = None,
             out: Path | None = None, limit: int | None = None, modes: tuple[str, ...] = ("dense", "bm25", "hybrid")) -> dict[str, Any]:
    """Retrieval per mode and answers for one generator; prints a summary and writes the full report."""
    items = stratified(load_qa(qa), limit) if limit else load_qa(qa)
    p = components.pipeline
    gen = generator or components.settings.generator
    retrieval = {m: evaluate_retrieval(items, lambda q, m=m: [h.chunk.text for h in p.search(q, top_k, collection, m).hits])
                 for m in modes}
    answers = evaluate_answers(items, lambda q: p.ask(q, components.settings.answer_top_k, collection, [], gen).to_dict())
    report = {"qa": str(qa), "n": len(items), "generator": gen, "retrieval": retrieval, "answers": answers,
              "settings": {"chunk_size": components.settings.chunk_size, "chunk_overlap": components.settings.chunk_overlap,
                           "fusion": components.settings.fusion, "dense_weight": components.settings.dense_weight,
                           "refuse_below": components.settings.refuse_below, "embedder": components.embedder.id}}
    _write_report(report, out or Path("artifacts") / f"eval-{gen}.json")
    print(f"QA set {qa} ({len(items)} items), generator {gen}")
    for m, r in retrieval.items():
        print(f"  {m:<7} hit@1 {r['hit@1']:.3f}  hit@5 {r['hit@5']:.3f}  MRR@10 {r['mrr@10']:.3f}  "
              f"evidence recall@10 {r['evidence_recall@10']:.3f}  p50 {r['latency_ms_p50']:.1f} ms")
    a = answers
    print(f"  answers: accuracy {a['answer_accuracy']:.3f} {a['by_type']}  unanswerable refused {a['unanswerable_refused']:.3f}  "
          f"false refusals {a['false_refusal']:.3f}  citation support {a['citation_support']:.3f}  "
          f"p50 {a['latency_ms_p50']:.0f} ms  p95 {a['latency_ms_p95']:.0f} ms")
    return report


def load_beir(folder: Path) -> tuple[Path, list[dict[str, Any]], dict[str, dict[str, int]]]:
    corpus = folder / "corpus.jsonl"
    if not corpus.exists() or not (folder / "queries.jsonl").exists():
        raise BadInput(f"{folder} is not a BEIR dataset (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    queries = load_qa(folder / "queries.jsonl")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    lines = (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        parts = line.split("\t")
        if len(parts) >= 3 and int(parts[2]) > 0:
            qrels[parts[0]][parts[1]] = int(parts[2])
    return corpus, queries, qrels


def beir_scores(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int = 10) -> dict[str, float]:
    """nDCG@k, Recall@k, MRR@k and hit@1 over queries that have judgements."""
    nd, rec, mrr, h1 = [], [], [], []
    for qid, rel in qrels.items():
        ranked = run.get(qid, [])[:k]
        dcg = sum((2 ** rel.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked))
        ideal = sorted(rel.values(), reverse=True)[:k]
        idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal)) or 1.0
        nd.append(dcg / idcg)
        rec.append(len({d for d in ranked if d in rel}) / len(rel))
        first = next((i for i, d in enumerate(ranked, 1) if d in rel), None)
        mrr.append(1.0 / first if first else 0.0)
        h1.append(1.0 if first == 1 else 0.0)
    n = max(len(nd), 1)
    return {f"ndcg@{k}": round(sum(nd) / n, 4), f"recall@{k}": round(sum(rec) / n, 4), f"mrr@{k}": round(sum(mrr) / n, 4),
            "hit@1": round(sum(h1) / n, 4), "n_queries": len(nd)}


def run_bench(components: Any, folder: Path, mode: str = "all", top_k: int = 10, out: Path | None = None) -> dict[str, Any]:
    """Index the BEIR corpus into its own collection (cached), run every query, score against qrels."""
    from rag.ingest import load_paths

    corpus, queries, qrels = load_beir(folder)
    collection = "bench-" + re.sub(r"[^\w.-]+", "_", folder.resolve().name)
    t = time.perf_counter()
    rep = components.indexer.update(collection, add=load_paths([corpus], components.settings.dedup_min_chars))
    index_s = time.perf_counter() - t
    retriever = components.library.retriever(collection)
    modes = ("dense", "bm25", "hybrid") if mode == "all" else (mode,)
    results: dict[str, Any] = {}
    for m in modes:
        run: dict[str, list[str]] = {}
        lat = []
        for q in queries:
            t = time.perf_counter()
            hits = retriever.search(str(q["text"]), max(top_k * 3, 30), m).hits
            lat.append((time.perf_counter() - t) * 1000)
            seen: list[str] = []
            for h in hits:  # passages -> documents, best rank per document
                if h.chunk.doc_id not in seen:
                    seen.append(h.chunk.doc_id)
            run[str(q["_id"])] = seen[:top_k]
        results[m] = {**beir_scores(run, qrels, top_k), "latency_ms_p50": round(statistics.median(lat), 2),
                      "latency_ms_p95": round(_pct(lat, 95), 2), "qps_single_thread": round(1000 / statistics.fmean(lat), 1)}
    report = {"dataset": str(folder), "collection": collection, "n_documents": rep.n_documents, "n_passages": rep.n_chunks,
              "index_seconds": round(index_s, 1), "embedder": components.embedder.id, "modes": results}
    _write_report(report, out or Path("artifacts") / f"bench-{folder.resolve().name}.json")
    print(f"BEIR {folder} ({len(queries)} queries, {rep.n_documents} docs, {rep.n_chunks} passages)")
    for m, r in results.items():
        print(f"  {m:<7} nDCG@{top_k} {r[f'ndcg@{top_k}']:.3f}  recall@{top_k} {r[f'recall@{top_k}']:.3f}  "
              f"MRR@{top_k} {r[f'mrr@{top_k}']:.3f}  p50 {r['latency_ms_p50']:.1f} ms")
    return report
