"""Embedding cache keyed by (embedder id, text hash): unchanged chunks are never embedded twice."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.embed.base import Embedder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    commit_every = 256  # passages embedded between commits

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))")
        self._lock = threading.Lock()

    def embed(self, embedder: Embedder, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for the texts, computing only those not cached yet."""
        keys = [text_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                q = f"SELECT key, vec FROM emb WHERE model=? AND key IN ({','.join('?' * len(part))})"
                for k, blob in self._db.execute(q, [embedder.id, *part]):
                    found[k] = np.frombuffer(blob, dtype=np.float32)
        if progress and found:
            progress(sum(1 for k in keys if k in found))
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        by_key = {k: t for k, t in zip(keys, texts, strict=True)}
        for i in range(0, len(todo), self.commit_every):  # commit as we go: an interrupted run keeps what it embedded
            part = todo[i : i + self.commit_every]
            vecs = embedder.embed_documents([by_key[k] for k in part], progress=progress)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO emb VALUES (?,?,?)",
                    [(embedder.id, k, v.astype(np.float32).tobytes()) for k, v in zip(part, vecs, strict=True)],
                )
            found.update(zip(part, vecs, strict=True))
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def close(self) -> None:
        self._db.close()
