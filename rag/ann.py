"""The dense index, chosen by size: exact (IndexFlatIP) below a threshold, approximate (IVF or HNSW) above it.

Exact search reads every vector per query (1.5 GB per query at 1M × 384-d float32: memory-bound, ~300 ms on
2 cores), so above `exact_below` an inverted-file index is built. Its search parameter (`nprobe` for IVF,
`efSearch` for HNSW) is calibrated at build time on held-out stored vectors against exact search, to the smallest
value that reaches `recall` (default 0.97, a margin over the 0.95 floor), and saved with the index.
The raw vectors are kept beside the index (`vectors.npy`), so an approximate index never needs `reconstruct`.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import faiss
import numpy as np

KINDS = ("auto", "flat", "ivf", "ivf_sq8", "hnsw")


@dataclass
class AnnParams:
    kind: str = "auto"  # "auto": flat below exact_below, ivf above
    exact_below: int = 50_000
    recall: float = 0.97  # calibration target (recall@10 against exact on held-out stored vectors)
    hnsw_m: int = 32
    hnsw_ef_construction: int = 64
    calib_queries: int = 200
    seed: int = 0


@dataclass
class AnnInfo:
    """What was built, for the manifest and the bench."""

    kind: str
    n: int
    dim: int
    params: dict[str, Any] = field(default_factory=dict)
    calibrated_recall: float | None = None
    build_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose(n: int, p: AnnParams) -> str:
    """The index kind for `n` vectors: the configured one, or exact below the threshold and IVF above it."""
    if p.kind not in KINDS:
        from rag.errors import ConfigError

        raise ConfigError(f"unknown ANN index '{p.kind}'; valid: {', '.join(KINDS)}")
    if p.kind != "auto":
        return p.kind
    return "flat" if n < p.exact_below else "ivf"


TRAIN_PER_LIST = 16  # training vectors per inverted list: enough for k-means here, and 4× √n lists train in seconds


def nlist_for(n: int) -> int:
    """Inverted lists: about 4·√n (4,000 at 1M, 250 vectors a list), at least 16, and few enough to train on.

    Measured at 1M (bench/results): 4,000 lists reach recall@10 0.97 at a p95 of 10 ms, where √n = 1,000 lists
    needed half of them probed for the same recall (39 ms)."""
    return int(min(max(16, round(4 * math.sqrt(n))), max(16, n // TRAIN_PER_LIST)))


def build(vectors: np.ndarray, p: AnnParams | None = None, kind: str | None = None) -> tuple[faiss.Index, AnnInfo]:
    """Build the index for `vectors` (L2-normalised float32, inner product) and calibrate its search parameter."""
    p = p or AnnParams()
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = x.shape
    kind = kind or choose(n, p)
    t0 = time.perf_counter()
    info = AnnInfo(kind, n, dim)
    if kind == "flat" or n == 0:
        index: faiss.Index = faiss.IndexFlatIP(dim)
        if n:
            index.add(x)
        info.kind = "flat"
    elif kind in ("ivf", "ivf_sq8"):
        nlist = nlist_for(n)
        quantizer = faiss.IndexFlatIP(dim)
        if kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
        index.own_fields = True
        quantizer.this.disown()
        rng = np.random.default_rng(p.seed)
        train = x[np.sort(rng.choice(n, min(n, TRAIN_PER_LIST * nlist), replace=False))]
        index.cp.seed = p.seed
        index.cp.min_points_per_centroid = 1  # TRAIN_PER_LIST is chosen; FAISS would warn below 39
        index.train(train)
        index.add(x)
        info.params["nlist"] = nlist
        info.params["nprobe"], info.calibrated_recall = calibrate(index, x, p, "nprobe", _powers(nlist))
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, p.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = p.hnsw_ef_construction
        index.add(x)
        info.params.update(M=p.hnsw_m, efConstruction=p.hnsw_ef_construction)
        info.params["efSearch"], info.calibrated_recall = calibrate(
            index, x, p, "efSearch", [16, 32, 64, 128, 256, 512, 1024]
        )
    else:
        choose(n, AnnParams(kind=kind))  # raises, listing the valid kinds
        raise AssertionError(kind)
    info.build_s = round(time.perf_counter() - t0, 3)
    return index, info


def _powers(limit: int) -> list[int]:
    out, v = [], 1
    while v < limit:
        out.append(v)
        v *= 2
    return out + [limit]


def set_param(index: faiss.Index, name: str, value: int) -> None:
    if name == "nprobe":
        faiss.extract_index_ivf(index).nprobe = int(value)
    elif name == "efSearch":
        faiss.downcast_index(index).hnsw.efSearch = int(value)


def calibrate(index: faiss.Index, x: np.ndarray, p: AnnParams, name: str, values: list[int]) -> tuple[int, float]:
    """The smallest value of the search parameter whose recall@10 against exact search reaches `p.recall`.

    Queries are stored vectors; each one's own id is left out of both lists, so they stand for a new query
    that lands among its nearest passages."""
    rng = np.random.default_rng(p.seed + 1)
    q = x[rng.choice(len(x), min(len(x), p.calib_queries), replace=False)]
    exact = exact_search(x, q, 11)
    best = (values[-1], 0.0)
    for v in values:
        set_param(index, name, v)
        _, ids = index.search(q, 11)
        r = recall_at_k(ids, exact, 10)
        best = (v, r)
        if r >= p.recall:
            break
    set_param(index, name, best[0])
    return best[0], round(best[1], 4)


def exact_search(x: np.ndarray, q: np.ndarray, k: int, block: int = 65536) -> np.ndarray:
    """Exact top-k ids by inner product, in blocks of the corpus (one GEMM each) to bound memory."""
    best_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(q), k), -1, dtype=np.int64)
    for start in range(0, len(x), block):
        s = q @ x[start : start + block].T
        kk = min(k, s.shape[1])
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, part, 1)], axis=1)
        cand_i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1)
    return best_i


def recall_at_k(approx: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    """Mean share of each query's exact top-k found in its approximate top-k; when a list has one id more than k,
    its first exact id (the query itself) is dropped from both."""
    total = 0.0
    for a, e in zip(approx, exact, strict=True):
        if len(e) > k:
            a, e = [i for i in a if i != e[0]], e[1:]
        total += len(set(a[:k]) & set(e[:k])) / k
    return total / max(1, len(exact))


def set_threads(n: int) -> None:
    """FAISS's OpenMP threads; 0 leaves the default (all cores)."""
    if n > 0:
        faiss.omp_set_num_threads(n)
