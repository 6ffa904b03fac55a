"""Dense (FAISS), BM25 and hybrid retrieval over one loaded index version."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rag.embed import Embedder
from rag.errors import BadInput
from rag.store import IndexData
from rag.store.base import TermStats
from rag.types import Hit
from rag.zh import Tokenizer

MODES = ("hybrid", "dense", "bm25")
# an expansion term's BM25 score counts as much as a query term's (0.25 and 0.5 gained less on the QA set's dev part;
# the expansion gives a second dense query no gain there, so there is none)
EXPANSION_WEIGHT = 1.0


FUSIONS = ("adaptive", "convex", "rrf", "weighted_rrf")


@dataclass
class FusionParams:
    method: str = "adaptive"
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50
    gap_depth: int = 1  # adaptive: runners-up the top score is compared with
    gap_power: float = 1.0  # adaptive: how strongly a retriever's weight follows its gap


@dataclass
class SearchResult:
    hits: list[Hit]
    timings_ms: dict[str, float]
    query_tokens: list[str]
    bm25_top: float = 0.0
    dense_top: float = 0.0
    # share of the query's idf mass that BM25's best passage matches (its score over the sum of the query terms' idf):
    # low when the question's words are not the documents' words (rag.rewrite.WEAK_COVERAGE)
    coverage: float = 0.0


class Retriever:
    max_top_k = 200  # what a client may ask for; benchmarks reading deeper raise it on their own instance

    def __init__(self, data: IndexData, embedder: Embedder, tokenizer: Tokenizer, fusion: FusionParams):
        self.data = data
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.fusion = fusion

    def search(self, query: str, top_k: int = 10, mode: str = "hybrid", expansion: Sequence[str] = ()) -> SearchResult:
        """The query's passages, best first. `expansion`: terms a document would use for the query's everyday words
        (rag.rewrite.Expander); their BM25 scores are added to the query's (each term weighs as one of the query's
        own), the dense query stays the query itself."""
        if mode not in MODES:
            raise BadInput(f"unknown mode '{mode}'; valid: {', '.join(MODES)}")
        if not 1 <= top_k <= self.max_top_k:
            raise BadInput(f"top_k must be between 1 and {self.max_top_k}")
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        n = len(self.data.chunks)
        cand = min(max(self.fusion.candidates, top_k), n)
        dense_ids: list[int] = []
        dense_scores: dict[int, float] = {}
        bm25_ids: list[int] = []
        bm25_scores: dict[int, float] = {}
        coverage = 0.0
        qtokens = self.tokenizer.query_terms(query)
        if n and mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qv = self.embedder.embed_query(query)
            timings["embed"] = _ms(t)
            t = time.perf_counter()
            found = self.data.dense(qv, cand)
            dense_ids = [i for i, _ in found]
            dense_scores = dict(found)
            timings["dense"] = _ms(t)
        if n and mode in ("hybrid", "bm25"):
            t = time.perf_counter()
            found = self.data.lexical(qtokens, cand)
            bm25_scores = dict(found)
            coverage = _coverage(max(bm25_scores.values(), default=0.0), qtokens, self.data.bm25)
            extra = [w for w in self.tokenizer.tokens(" ".join(expansion)) if w not in qtokens] if expansion else []
            # the passages' words for the query's abbreviations (营收: 营业收入), each scored as an expansion term
            full = self.tokenizer.held_full_forms(qtokens, self.data.bm25.idf)
            extra += [w for forms in full.values() for w in forms if w not in qtokens and w not in extra]
            if extra:
                for i, s in self.data.lexical(extra, cand):
                    bm25_scores[i] = bm25_scores.get(i, 0.0) + EXPANSION_WEIGHT * s
                found = sorted(bm25_scores.items(), key=lambda x: (-x[1], x[0]))[:cand]
                bm25_scores = dict(found)
            bm25_ids = [i for i, _ in found]
            timings["bm25"] = _ms(t)
        t = time.perf_counter()
        if mode == "dense":
            ranked = [(i, dense_scores[i]) for i in dense_ids]
        elif mode == "bm25":
            ranked = [(i, bm25_scores[i]) for i in bm25_ids]
        else:
            ranked = self._fuse(dense_ids, bm25_ids, dense_scores, bm25_scores)
        hits: list[Hit] = []
        for rank, (i, s) in enumerate(ranked[:top_k], 1):
            c = self.data.chunk(i)
            doc = self.data.documents.get(c.doc_id)
            sc = {"dense": dense_scores.get(i, 0.0), "bm25": bm25_scores.get(i, 0.0)}
            hits.append(Hit(c, s, doc.source if doc else "", doc.title if doc else "", rank, sc))
        timings["fuse"] = _ms(t)
        timings["total"] = _ms(t0)
        return SearchResult(
            hits,
            timings,
            qtokens,
            bm25_top=max(bm25_scores.values(), default=0.0),
            dense_top=max(dense_scores.values(), default=0.0),
            coverage=round(coverage, 4),
        )

    def _fuse(
        self, dense_ids: list[int], bm25_ids: list[int], dense_scores: dict[int, float], bm25_scores: dict[int, float]
    ) -> list[tuple[int, float]]:
        """Reciprocal-rank fusion (optionally weighted), or a convex mix of normalised scores."""
        f = self.fusion
        if f.method == "convex":
            return _convex(dense_scores, bm25_scores, f.dense_weight, f.bm25_weight)
        if f.method == "adaptive":
            return adaptive(dense_scores, bm25_scores, f.dense_weight, f.bm25_weight, f.gap_depth, f.gap_power)
        k = f.rrf_k
        wd, wb = (f.dense_weight, f.bm25_weight) if f.method == "weighted_rrf" else (1.0, 1.0)
        fused: dict[int, float] = {}
        for r, i in enumerate(dense_ids, 1):
            fused[i] = fused.get(i, 0.0) + wd / (k + r)
        for r, i in enumerate(bm25_ids, 1):
            fused[i] = fused.get(i, 0.0) + wb / (k + r)
        return sorted(fused.items(), key=lambda x: (-x[1], x[0]))


def _coverage(top: float, qtokens: list[str], stats: TermStats) -> float:
    """BM25's best score over the sum of the query terms' idf: about the share of the query's weight its best passage
    matches. A term in no passage counts with the idf BM25 gives a term in none (it is the rarest there is)."""
    unseen = math.log(1 + (stats.size + 0.5) / 0.5)
    total = sum(stats.idf(w) or unseen for w in qtokens)
    return top / total if total else 0.0


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 3)


def _normalised(dense: dict[int, float], bm25: dict[int, float]) -> tuple[dict[int, float], dict[int, float]]:
    """Dense scores min-max normalised over the candidates, BM25 divided by its best score: both 1 at the top."""
    nd: dict[int, float] = {}
    if dense:
        lo, hi = min(dense.values()), max(dense.values())
        span = (hi - lo) or 1.0
        nd = {i: (s - lo) / span for i, s in dense.items()}
    nb: dict[int, float] = {}
    if bm25:
        top = max(bm25.values()) or 1.0
        nb = {i: s / top for i, s in bm25.items()}
    return nd, nb


def _mix(nd: dict[int, float], nb: dict[int, float], wd: float, wb: float) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for i, s in nd.items():
        fused[i] = wd * s
    for i, s in nb.items():
        fused[i] = fused.get(i, 0.0) + wb * s
    total = (wd if nd else 0.0) + (wb if nb else 0.0) or 1.0
    return sorted(((i, s / total) for i, s in fused.items()), key=lambda x: (-x[1], x[0]))


def _convex(dense: dict[int, float], bm25: dict[int, float], wd: float, wb: float) -> list[tuple[int, float]]:
    """A fixed convex mix of the normalised scores."""
    nd, nb = _normalised(dense, bm25)
    return _mix(nd, nb, wd, wb)


def gap(normalised: dict[int, float], depth: int) -> float:
    """How far the top score (1) stands above the mean of the next `depth` (0: a tie; 1: nothing comes close)."""
    runners = sorted(normalised.values(), reverse=True)[1 : depth + 1]
    return 1.0 - sum(runners) / len(runners) if runners else 1.0


def adaptive(
    dense: dict[int, float], bm25: dict[int, float], wd: float, wb: float, depth: int = 1, power: float = 1.0
) -> list[tuple[int, float]]:
    """A convex mix whose weights follow, per query, how decisively each retriever picks its top passage: a
    retriever whose best candidate stands far above its runners-up is trusted more, one that ranks a crowd of
    near-equals less. The base weights scale both; with equal gaps this is the fixed convex mix."""
    nd, nb = _normalised(dense, bm25)
    gd, gb = gap(nd, depth) ** power, gap(nb, depth) ** power
    if gd + gb <= 0:
        return _mix(nd, nb, wd, wb)
    return _mix(nd, nb, wd * gd, wb * gb)
