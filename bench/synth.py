"""Synthetic corpora for the scale runs: unit vectors of the real dimension, and Chinese token streams for BM25.

Uniformly random unit vectors in 384 dimensions have no neighbours worth the name (every pair has cosine ≈ 0),
which no embedder produces; so vectors are drawn around random topic centres (cosine ≈ 0.6 to their centre, ≈ 0.35
within a topic), and a query is a stored vector moved away by noise (cosine ≈ 0.9 to it), like a question
near its answer passage. Text is jieba's dictionary words drawn by their frequency (Zipf-like), already
tokenised: tokenising a million synthetic passages with jieba would measure jieba, not the index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def clustered_vectors(
    n: int, dim: int = 384, seed: int = 0, per_topic: int = 200, spread: float = 1.3, block: int = 100_000
) -> np.ndarray:
    """`n` L2-normalised float32 vectors around `n / per_topic` random topic centres."""
    rng = np.random.default_rng(seed)
    k = max(4, n // per_topic)
    centres = _unit(rng.standard_normal((k, dim), dtype=np.float32))
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, block):
        m = min(block, n - s)
        noise = rng.standard_normal((m, dim), dtype=np.float32) * (spread / np.sqrt(dim))
        out[s : s + m] = _unit(centres[rng.integers(0, k, m)] + noise)
    return out


def queries_like(x: np.ndarray, m: int, seed: int = 0, noise: float = 0.5) -> np.ndarray:
    """`m` queries, each a random stored vector plus noise (not themselves stored)."""
    rng = np.random.default_rng(seed)
    base = x[rng.choice(len(x), m, replace=False)]
    return _unit(base + rng.standard_normal(base.shape, dtype=np.float32) * (noise / np.sqrt(x.shape[1])))


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def zh_vocabulary(limit: int = 60_000) -> tuple[list[str], np.ndarray]:
    """jieba's dictionary words and their probabilities (the `limit` most frequent words of two or more characters)."""
    import jieba

    words: list[str] = []
    freqs: list[int] = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) >= 2:
                words.append(parts[0])
                freqs.append(int(parts[1]))
    order = np.argsort(-np.asarray(freqs))[:limit]
    p = np.asarray(freqs, dtype=np.float64)[order]
    return [words[i] for i in order], p / p.sum()


def zh_token_ids(n: int, vocab_p: np.ndarray, seed: int = 0, mean_len: int = 80) -> list[np.ndarray]:
    """`n` passages as arrays of vocabulary ids, lengths around `mean_len` tokens (≈ 300 characters)."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(mean_len, mean_len / 4, n).astype(int), 10, 4 * mean_len)
    flat = rng.choice(len(vocab_p), int(lengths.sum()), p=vocab_p).astype(np.int32)
    return np.split(flat, np.cumsum(lengths)[:-1])


def zh_queries(m: int, words: list[str], vocab_p: np.ndarray, seed: int = 0, terms: int = 6) -> list[list[str]]:
    """Query token lists: a few content words each, skipping the 200 most frequent (function words)."""
    rng = np.random.default_rng(seed)
    p = vocab_p.copy()
    p[:200] = 0
    p /= p.sum()
    return [[words[i] for i in rng.choice(len(words), terms, p=p)] for _ in range(m)]
