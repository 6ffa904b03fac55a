"""Building and updating a collection's index: incremental, cached, published atomically."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import store
from rag.ann import AnnParams
from rag.chunk import ChunkParams, chunk_document
from rag.embed import Embedder
from rag.embed.cache import EmbeddingCache
from rag.errors import BadInput, Conflict, IndexMismatch, IndexNotFound, NotFound
from rag.ingest import check_doc_id
from rag.store import Batch, Store
from rag.store.faiss_store import collection_lock  # noqa: F401 - importable from here too
from rag.types import Chunk, Document
from rag.zh import Tokenizer

RESERVED = {"cache"}  # folders of the index directory that are not collections
Progress = Callable[[int, int], None]  # (done, total) passages embedded
Engine = Callable[[list[Document], "Progress | None"], Iterable[Batch]]  # documents -> chunks with tokens and vectors


@dataclass
class IndexReport:
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    n_documents: int = 0
    n_chunks: int = 0
    embedded: int = 0  # passages whose vectors were computed
    cached: int = 0  # passages whose vectors came from the embedding cache
    version: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.version)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("collection", "added", "updated", "unchanged", "deleted", "n_documents",
                                             "n_chunks", "embedded", "cached", "version", "seconds")}


class Indexer:
    def __init__(self, index_dir: Path, embedder: Embedder, tokenizer: Tokenizer, params: ChunkParams, keep: int = 2,
                 cache_path: Path | None = None, ann_params: AnnParams | None = None, store_: Store | None = None):
        self.index_dir = index_dir
        self.cache_path = cache_path or index_dir / "cache" / "embeddings.sqlite"
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.params = params
        self.keep = keep
        self.ann_params = ann_params
        self.store: Store = store_ or store.FaissStore(index_dir, keep, ann_params)
        self.engine: Engine = self.embed_local
        self._cache: EmbeddingCache | None = None

    @property
    def cache(self) -> EmbeddingCache:
        if self._cache is None:
            self._cache = EmbeddingCache(self.cache_path)
        return self._cache

    def manifest(self) -> dict:
        return {"embedder": self.embedder.id, "dim": self.embedder.dim, "chunking": self.params.as_dict(),
                "tokenizer": "jieba-precise+userdict+stopwords", "metric": "inner_product_normalised"}

    def update(self, collection: str, add: list[Document] | None = None, delete: list[str] | None = None,
               rebuild: bool = False, progress: Progress | None = None, replace: bool = False) -> IndexReport:
        """Add or replace documents and delete others; unchanged input publishes nothing.

        A document whose id is taken by one from another source file is a Conflict unless `replace`."""
        t0 = time.perf_counter()
        add, delete = add or [], delete or []
        if collection.lower() in RESERVED:
            raise BadInput(f"'{collection}' is a reserved name, not a collection name")
        ids = [check_doc_id(d.doc_id, d.source) for d in add]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise BadInput(f"two inputs map to the same doc_id: {', '.join(dup)}")
        report = IndexReport(collection)
        with self.store.lock(collection):
            old = None if rebuild else self._load_existing(collection)
            same_params = old is not None and old.manifest.get("chunking") == self.params.as_dict() \
                and old.manifest.get("embedder") == self.embedder.id
            have = old.doc_meta(list(dict.fromkeys([*delete, *ids]))) if old is not None else {}
            gone: set[str] = set()
            for did in delete:
                if did not in have or did in gone:
                    raise NotFound(f"document '{did}' is not in collection '{collection}'")
                gone.add(did)
                report.deleted.append(did)
            if not replace and old is not None:
                _check_sources(add, have, gone, old, collection)
            upserts: dict[str, Document] = {}
            for d in add:
                prev = None if d.doc_id in gone else have.get(d.doc_id)
                if prev is not None and prev == (d.content_hash, d.title) and same_params:
                    report.unchanged.append(d.doc_id)
                    continue
                (report.updated if prev is not None else report.added).append(d.doc_id)
                d.meta.setdefault("added_at", time.time())
                upserts[d.doc_id] = d
            if old is not None and same_params and not (report.added or report.updated or report.deleted):
                report.n_documents, report.n_chunks, report.version = len(old.documents), len(old.chunks), ""
                report.seconds = time.perf_counter() - t0
                return report
            if old is not None and not same_params:  # chunking or embedder changed: every document again
                upserts = {**{did: d for did, d in old.documents.items() if did not in gone}, **upserts}
            counted = _Counted(self.engine(sorted(upserts.values(), key=lambda d: d.doc_id), progress))
            w = self.store.write(collection, old if same_params else None, upserts, report.deleted, counted,
                                 self.manifest())
        report.n_documents, report.n_chunks, report.version = w.n_documents, w.n_chunks, w.version
        report.embedded, report.cached = counted.embedded, counted.n - counted.embedded
        report.seconds = round(time.perf_counter() - t0, 3)
        return report

    def _load_existing(self, collection: str) -> store.IndexData | None:
        try:
            return self.store.load(collection)
        except IndexNotFound:
            return None
        except IndexMismatch:
            return None  # unreadable old format: rebuild from the inputs given

    def embed_local(self, docs: list[Document], progress: Progress | None = None) -> Iterator[Batch]:
        """The in-process engine: chunk, tokenize, and embed through the cache (only new texts are computed)."""
        chunks, tokens, texts = prepare(docs, self.params, self.tokenizer)
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], len(texts))

        counting = CountingEmbedder(self.embedder)
        vectors = self.cache.embed(counting, texts, progress=tick) if texts else \
            np.zeros((0, self.embedder.dim), np.float32)
        yield Batch(chunks, tokens, vectors, embedded=counting.embedded)


def _check_sources(add: list[Document], have: dict, gone: set[str], old: store.IndexData, collection: str) -> None:
    for d in add:
        if d.doc_id in have and d.doc_id not in gone:
            prev = old.documents.get(d.doc_id)
            if prev is not None and prev.source != d.source:
                raise Conflict(f"{d.source}: document id '{d.doc_id}' is taken in collection '{collection}' by {prev.source}; "
                               "send replace=true to replace it, or rename the file")


def prepare(docs: list[Document], params: ChunkParams, tokenizer: Tokenizer) -> tuple[list[Chunk], list[list[str]], list[str]]:
    """Chunks of the documents in order, their BM25 tokens, and the texts to embed (one stage, shared by the engines)."""
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    texts: list[str] = []
    for d in docs:
        for c in chunk_document(d, params):
            text = c.index_text(d.title)
            chunks.append(c)
            tokens.append(tokenizer.tokens(text))
            texts.append(text)
    return chunks, tokens, texts


class CountingEmbedder:
    """An embedder that counts the passages it computes (what the embedding cache did not have)."""

    def __init__(self, embedder: Embedder):
        self._embedder = embedder
        self.embedded = 0

    def __getattr__(self, name: str):  # noqa: ANN204 - id, dim, embed_query … as the wrapped embedder's
        return getattr(self._embedder, name)

    def embed_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.embedded += len(texts)
        return self._embedder.embed_documents(texts, progress=progress)


class _Counted:
    """Passes batches through, counting the passages written and those embedded (not taken from the cache)."""

    def __init__(self, batches: Iterable[Batch]):
        self._it = batches
        self.n = 0
        self.embedded = 0

    def __iter__(self) -> Iterator[Batch]:
        for b in self._it:
            self.n += len(b)
            self.embedded += len(b) if b.embedded is None else b.embedded
            yield b
