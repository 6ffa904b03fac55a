"""Building and updating a collection's index: incremental, cached, published atomically."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import store
from rag.ann import AnnParams
from rag.chunk import ChunkParams, chunk_document
from rag.embed import Embedder
from rag.embed.cache import EmbeddingCache
from rag.errors import BadInput, IndexBusy, IndexMismatch, IndexNotFound, NotFound
from rag.types import Chunk, Document
from rag.zh import Tokenizer

Progress = Callable[[int, int], None]  # (done, total) passages embedded


@dataclass
class IndexReport:
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    n_documents: int = 0
    n_chunks: int = 0
    embedded: int = 0
    version: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.version)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("collection", "added", "updated", "unchanged", "deleted", "n_documents",
                                             "n_chunks", "embedded", "version", "seconds")}


@contextmanager
def collection_lock(index_dir: Path, collection: str) -> Iterator[None]:
    """One writer per collection: a second one fails at once with IndexBusy instead of waiting behind the first.

    Whoever holds the lock is the only builder, so half-built folders left by a killed one are removed here.
    """
    root = store.collection_path(index_dir, collection)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise IndexBusy(f"collection '{collection}' is being indexed by {holder}; "
                            "try again when it has finished") from None
        try:
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()}")
            f.flush()
            store.clean_partial(root)
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


class Indexer:
    def __init__(self, index_dir: Path, embedder: Embedder, tokenizer: Tokenizer, params: ChunkParams, keep: int = 2,
                 cache_path: Path | None = None, ann_params: AnnParams | None = None):
        self.index_dir = index_dir
        self.cache_path = cache_path or index_dir / "cache" / "embeddings.sqlite"
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.params = params
        self.keep = keep
        self.ann_params = ann_params
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
               rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Add or replace documents and delete others; unchanged input publishes nothing."""
        t0 = time.perf_counter()
        add, delete = add or [], delete or []
        ids = [d.doc_id for d in add]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise BadInput(f"two inputs map to the same doc_id: {', '.join(dup)}")
        report = IndexReport(collection)
        with collection_lock(self.index_dir, collection):
            old = None if rebuild else self._load_existing(collection)
            same_params = old is not None and old.manifest.get("chunking") == self.params.as_dict() \
                and old.manifest.get("embedder") == self.embedder.id
            docs: dict[str, Document] = dict(old.documents) if old else {}
            for did in delete:
                if did not in docs:
                    raise NotFound(f"document '{did}' is not in collection '{collection}'")
                del docs[did]
                report.deleted.append(did)
            for d in add:
                prev = docs.get(d.doc_id)
                if prev is not None and prev.content_hash == d.content_hash and prev.title == d.title and same_params:
                    report.unchanged.append(d.doc_id)
                    continue
                (report.updated if prev is not None else report.added).append(d.doc_id)
                d.meta.setdefault("added_at", time.time())
                docs[d.doc_id] = d
            if old is not None and same_params and not (report.added or report.updated or report.deleted):
                report.n_documents, report.n_chunks, report.version = len(docs), len(old.chunks), ""
                report.seconds = time.perf_counter() - t0
                return report
            changed = set(report.added) | set(report.updated)
            chunks, tokens, vectors, embedded = self._assemble(docs, old if same_params else None, changed, progress)
            v = store.write_version(self.index_dir, collection, list(docs.values()), chunks, tokens, vectors,
                                    self.manifest(), keep=self.keep, ann_params=self.ann_params)
        report.n_documents, report.n_chunks, report.embedded, report.version = len(docs), len(chunks), embedded, v.name
        report.seconds = round(time.perf_counter() - t0, 3)
        return report

    def _load_existing(self, collection: str) -> store.IndexData | None:
        try:
            return store.load(self.index_dir, collection)
        except IndexNotFound:
            return None
        except IndexMismatch:
            return None  # unreadable old format: rebuild from the inputs given

    def _assemble(self, docs: dict[str, Document], old: store.IndexData | None, changed: set[str],
                  progress: Progress | None) -> tuple[list[Chunk], list[list[str]], np.ndarray, int]:
        chunks: list[Chunk] = []
        tokens: list[list[str]] = []
        vec_rows: list[np.ndarray | None] = []
        old_vecs = old.raw_vectors() if old is not None and old.vectors.ntotal else None
        old_by_doc: dict[str, list[int]] = {}
        if old is not None:
            for i, c in enumerate(old.chunks):
                old_by_doc.setdefault(c.doc_id, []).append(i)
        todo: list[int] = []
        todo_text: list[str] = []
        for did in sorted(docs):
            d = docs[did]
            if old is not None and did not in changed and did in old_by_doc:
                for i in old_by_doc[did]:
                    chunks.append(old.chunks[i])
                    tokens.append(old.tokens[i])
                    vec_rows.append(old_vecs[i])
                continue
            for c in chunk_document(d, self.params):
                text = c.index_text(d.title)
                chunks.append(c)
                tokens.append(self.tokenizer.tokens(text))
                vec_rows.append(None)
                todo.append(len(vec_rows) - 1)
                todo_text.append(text)
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], len(todo_text))

        if todo_text:
            new = self.cache.embed(self.embedder, todo_text, progress=tick)
            for i, v in zip(todo, new, strict=True):
                vec_rows[i] = v
        vectors = np.stack(vec_rows).astype(np.float32) if vec_rows else np.zeros((0, self.embedder.dim), np.float32)
        return chunks, tokens, vectors, len(todo_text)
