"""Persistent BM25 over jieba tokens (bm25s): built once per index version and stored, never per query."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)
IDF_CACHE = 65536  # tokens whose idf a BM25Index keeps


class BM25Index:
    def __init__(self, model) -> None:  # bm25s.BM25
        self._m = model
        self.size = int(model.scores["num_docs"]) if model is not None else 0
        self._idf: dict[str, float] = {}  # idf() per token: read per question term by the judge and the generators

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        import bm25s

        if not corpus_tokens:
            return cls(None)
        m = bm25s.BM25(k1=k1, b=b, method="lucene")
        # bm25s needs at least one token per document; an empty passage gets a placeholder that no query produces.
        m.index([t or ["\u0000"] for t in corpus_tokens], show_progress=False)
        return cls(m)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._m is not None:
            self._m.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        import bm25s

        if not (folder / "params.index.json").exists():
            return cls(None)
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage (0 where no term matches)."""
        if self._m is None:
            return np.zeros(0, dtype=np.float32)
        ids = self._m.get_tokens_ids(query_tokens)
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._m.get_scores_from_ids(ids), dtype=np.float32)

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0 when unknown): rarer terms weigh more in answer matching."""
        idf = self._idf.get(token)
        if idf is None:
            if len(self._idf) >= IDF_CACHE:  # bounded: questions bring words of their own
                self._idf.clear()
            idf = self._idf[token] = self._idf_uncached(token)
        return idf

    def _idf_uncached(self, token: str) -> float:
        if self._m is None or token not in self._m.vocab_dict:
            return 0.0
        tid = self._m.vocab_dict[token]
        indptr = self._m.scores["indptr"]
        df = int(indptr[tid + 1] - indptr[tid])
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))
