"""The Embedder interface: one required method; the base adds batching, normalisation and progress."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class Embedder:
    """Subclasses implement `_embed(texts, is_query)`; vectors come back L2-normalised float32."""

    id: str = "base"
    dim: int = 0
    batch_size: int = 16

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def embed_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            out[i : i + len(batch)] = self._embed(batch, False)
            if progress:
                progress(len(batch))
        return normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return normalise(self._embed([text], True))[0]


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    n[n == 0] = 1.0
    return v / n
