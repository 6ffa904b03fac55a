"""The store interface: what the indexer writes through and what the retriever searches through.

A backend (FAISS on local disk, Milvus) implements `Store`; a loaded collection is an `IndexData`. Keys that
`dense`/`lexical` return are opaque integers that `chunk(key)` resolves (row positions for FAISS, primary keys
for Milvus).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rag.types import Chunk, Document


class TermStats(Protocol):
    """Inverse document frequencies for answer matching (rag.answerable, the extractive generator)."""

    size: int  # passages in the collection

    def idf(self, token: str) -> float: ...


@dataclass
class Batch:
    """Chunks of whole documents with their BM25 tokens and vectors, as the embedding stage yields them."""

    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray
    embedded: int | None = None  # how many vectors were computed (the rest came from the embedding cache); None: all
    documents: list[Document] | None = None  # the documents' text, from an engine that read the files itself

    def __len__(self) -> int:
        return len(self.chunks)


@dataclass
class Written:
    version: str
    n_documents: int
    n_chunks: int


class IndexData(ABC):
    """One loaded collection (a version of it), read-only."""

    manifest: dict[str, Any]
    documents: Mapping[str, Document]
    chunks: Sequence[Chunk]
    bm25: TermStats

    @property
    @abstractmethod
    def version(self) -> str: ...

    @abstractmethod
    def dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k nearest passages by inner product, best first."""

    @abstractmethod
    def lexical(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        """Up to k passages by BM25 over the query's tokens, best first, only those matching a term."""

    def chunk(self, key: int) -> Chunk:
        return self.chunks[key]

    def passage_counts(self) -> dict[str, int]:
        """Passages per document (the document listing), without fetching the passages where the backend can."""
        out: dict[str, int] = {}
        for c in self.chunks:
            out[c.doc_id] = out.get(c.doc_id, 0) + 1
        return out

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """One document's passages in text order."""
        return sorted((c for c in self.chunks if c.doc_id == doc_id), key=lambda c: (c.start, c.end, c.chunk_id))

    def read_file(self, name: str) -> str | None:
        """A text file stored with this version and named in its manifest (the collection's dictionary), or None."""
        return (self.manifest.get("files") or {}).get(name)

    def doc_meta(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(content_hash, title) of those documents that exist: what an update needs to skip unchanged ones."""
        out = {}
        for did in doc_ids:
            d = self.documents.get(did)
            if d is not None:
                out[did] = (d.content_hash, d.title)
        return out


class Store(ABC):
    """A backend holding every collection's passages, vectors, BM25 and documents."""

    name: str = "base"

    @abstractmethod
    def current_version(self, collection: str) -> str | None:
        """The live version's name, or None when the collection does not exist (cheap: checked per request)."""

    @abstractmethod
    def load(self, collection: str, embedder_id: str | None = None) -> IndexData:
        """The live version; IndexNotFound when missing, IndexMismatch when built with another embedder."""

    @abstractmethod
    def list_collections(self) -> list[str]: ...

    @abstractmethod
    def read_manifest(self, collection: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def write(
        self,
        collection: str,
        old: IndexData | None,
        upserts: Mapping[str, Document],
        deleted: list[str],
        batches: Iterable[Batch],
        manifest: dict[str, Any],
    ) -> Written:
        """Apply a change and publish it: `old` is the version the change is relative to (None: start empty),
        `upserts` the documents added or replaced, whose chunks come in `batches`; `deleted` documents go."""

    @abstractmethod
    def drop_collection(self, collection: str) -> None: ...

    @abstractmethod
    def lock(self, collection: str) -> AbstractContextManager[None]:
        """The collection's writer lock, held around a write: a second writer fails at once with IndexBusy."""


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best positive scores of a dense score array, best first (ties by position)."""
    if not scores.size or k <= 0:
        return []
    k = min(k, scores.size)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
