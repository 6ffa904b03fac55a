"""The FAISS backend: a folder per collection on local disk holding immutable versions and a CURRENT pointer.

index/<collection>/CURRENT          name of the live version (replaced atomically)
index/<collection>/v-<time>/        manifest.json, chunks.sqlite, vectors.faiss (chosen by size, rag.ann),
                                    vectors.npy (the raw vectors, for reuse by the next version), bm25/
index/cache/embeddings.sqlite       embedding cache shared by all versions

A new version is written beside the live one and published by renaming CURRENT, so a crash
mid-build leaves the previous version serving.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag import __version__, ann
from rag.errors import IndexBusy, IndexMismatch, IndexNotFound
from rag.lexical import BM25Index
from rag.store import base
from rag.types import Chunk, Document

FORMAT = 1

_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, source TEXT, title TEXT, text TEXT, meta TEXT,
                        content_hash TEXT, added_at REAL);
CREATE TABLE chunks (ord INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc_id TEXT, start INTEGER, "end" INTEGER,
                     heading TEXT, context TEXT, kind TEXT, page INTEGER, text TEXT, tokens TEXT, places TEXT);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""


@dataclass
class IndexData(base.IndexData):
    """A loaded, read-only index version."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: faiss.Index
    bm25: BM25Index
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}

    @property
    def version(self) -> str:
        return self.path.name

    def raw_vectors(self) -> np.ndarray:
        """The stored float32 vectors in chunk order (memory-mapped); versions without vectors.npy read the flat
        index."""
        f = self.path / "vectors.npy"
        if f.exists():
            return np.load(f, mmap_mode="r")
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)

    def dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        d, ix = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ix[0], d[0], strict=True) if i >= 0]

    def lexical(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        return base.top_k(self.bm25.scores(query_tokens), k)

    def read_file(self, name: str) -> str | None:
        f = self.path / Path(name).name
        return f.read_text(encoding="utf-8") if f.is_file() else None


def collection_path(index_dir: Path, collection: str) -> Path:
    return index_dir / collection


def current_version(index_dir: Path, collection: str) -> Path | None:
    root = collection_path(index_dir, collection)
    ptr = root / "CURRENT"
    if not ptr.exists():
        return None
    v = root / ptr.read_text(encoding="utf-8").strip()
    return v if (v / "manifest.json").exists() else None


def list_collections(index_dir: Path) -> list[str]:
    if not index_dir.exists():
        return []
    return sorted(p.name for p in index_dir.iterdir() if (p / "CURRENT").exists())


def read_manifest(index_dir: Path, collection: str) -> dict[str, Any] | None:
    v = current_version(index_dir, collection)
    return json.loads((v / "manifest.json").read_text(encoding="utf-8")) if v else None


def load(index_dir: Path, collection: str, embedder_id: str | None = None) -> IndexData:
    v = current_version(index_dir, collection)
    if v is None:
        raise IndexNotFound(f"collection '{collection}' has no index under {index_dir}; run `rag index`")
    manifest = json.loads((v / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise IndexMismatch(
            f"index {v} has format {manifest.get('format')}, this version reads {FORMAT}; run `rag index --rebuild`"
        )
    if embedder_id and manifest.get("embedder") != embedder_id:
        raise IndexMismatch(
            f"collection '{collection}' was built with embedder '{manifest.get('embedder')}' but the settings select "
            f"'{embedder_id}'; run `rag index --rebuild --collection {collection}` or change RAG_EMBEDDER"
        )
    db = sqlite3.connect(str(v / "chunks.sqlite"))
    try:
        docs = {
            r[0]: Document(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5])
            for r in db.execute("SELECT doc_id, source, title, text, meta, content_hash FROM documents")
        }
        chunks: list[Chunk] = []
        tokens: list[list[str]] = []
        # a version written before passages stored their place names has no such column: found when needed
        places = "places" if any(r[1] == "places" for r in db.execute("PRAGMA table_info(chunks)")) else "NULL"
        for r in db.execute(
            f'SELECT chunk_id, doc_id, start, "end", heading, context, kind, page, text, tokens, {places} '
            "FROM chunks ORDER BY ord"
        ):
            chunks.append(Chunk(r[0], r[1], r[8], r[2], r[3], r[4], r[5], r[6], r[7], _places(r[10])))
            tokens.append(r[9].split(" ") if r[9] else [])
    finally:
        db.close()
    vectors = faiss.read_index(str(v / "vectors.faiss"))
    # An approximate index keeps its calibrated nprobe / efSearch in the file (rag.ann).
    if vectors.ntotal != len(chunks):
        raise IndexMismatch(
            f"index {v} is inconsistent: {vectors.ntotal} vectors for {len(chunks)} chunks; run `rag index --rebuild`"
        )
    return IndexData(v, manifest, docs, chunks, tokens, vectors, BM25Index.load(v / "bm25"))


def _places(stored: str | None) -> tuple[str, ...] | None:
    return None if stored is None else tuple(p for p in stored.split("\t") if p)


def write_version(
    index_dir: Path,
    collection: str,
    documents: list[Document],
    chunks: list[Chunk],
    tokens: list[list[str]],
    vectors: np.ndarray,
    manifest: dict[str, Any],
    keep: int = 2,
    ann_params: ann.AnnParams | None = None,
) -> Path:
    """Write a complete new version aside, then publish it atomically."""
    root = collection_path(index_dir, collection)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = root / f".building-{name}"
    tmp.mkdir()
    try:
        db = sqlite3.connect(str(tmp / "chunks.sqlite"))
        with db:
            db.executescript(_SCHEMA)
            now = time.time()
            db.executemany(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        d.doc_id,
                        d.source,
                        d.title,
                        d.text,
                        json.dumps(d.meta, ensure_ascii=False),
                        d.content_hash,
                        float(d.meta.get("added_at", now)),
                    )
                    for d in documents
                ],
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        i,
                        c.chunk_id,
                        c.doc_id,
                        c.start,
                        c.end,
                        c.heading,
                        c.context,
                        c.kind,
                        c.page,
                        c.text,
                        " ".join(t),
                        None if c.places is None else "\t".join(c.places),
                    )
                    for i, (c, t) in enumerate(zip(chunks, tokens, strict=True))
                ],
            )
        db.close()
        raw = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(vectors), int(manifest["dim"]))
        np.save(tmp / "vectors.npy", raw)
        index, info = ann.build(raw, ann_params)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        BM25Index.build(tokens).save(tmp / "bm25")
        files = manifest.get("files") or {}
        for fname, text in files.items():  # small text files named in the manifest (the collection's dictionary)
            (tmp / Path(fname).name).write_text(text, encoding="utf-8")
        full = {
            **{k: v for k, v in manifest.items() if k != "files"},
            "format": FORMAT,
            "rag_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "n_documents": len(documents),
            "n_chunks": len(chunks),
            "collection": collection,
            "version": name,
            "ann": info.to_dict(),
        }
        (tmp / "manifest.json").write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
        _fsync_dir(tmp)
        final = root / name
        tmp.rename(final)
        ptr_tmp = root / f".CURRENT-{name}"
        ptr_tmp.write_text(name, encoding="utf-8")
        with open(ptr_tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(ptr_tmp, root / "CURRENT")
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(root, keep)
    return final


def prune(root: Path, keep: int) -> None:
    """Remove old versions beyond `keep` and leftovers of crashed builds; the live one always stays."""
    live = (root / "CURRENT").read_text(encoding="utf-8").strip() if (root / "CURRENT").exists() else ""
    versions = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("v-"))
    for p in versions[: max(0, len(versions) - keep)]:
        if p.name != live:
            shutil.rmtree(p, ignore_errors=True)
    for p in root.iterdir():
        if p.name.startswith(".building-") and time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


def clean_partial(root: Path) -> None:
    """Remove what a killed build left behind (`.building-*` folders, `.CURRENT-*` pointers).

    Call only while holding the collection's lock (collection_lock): then no build is in progress.
    """
    for p in root.iterdir():
        if p.name.startswith(".building-"):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".CURRENT-"):
            p.unlink(missing_ok=True)


def drop_collection(index_dir: Path, collection: str) -> None:
    root = collection_path(index_dir, collection)
    if not (root / "CURRENT").exists():
        raise IndexNotFound(f"collection '{collection}' does not exist")
    shutil.rmtree(root)


@contextmanager
def collection_lock(index_dir: Path, collection: str) -> Iterator[None]:
    """One writer per collection: a second one fails at once with IndexBusy instead of waiting behind the first.

    Whoever holds the lock is the only builder, so half-built folders left by a killed one are removed here.
    """
    root = collection_path(index_dir, collection)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise IndexBusy(
                f"collection '{collection}' is being indexed by {holder}; try again when it has finished"
            ) from None
        try:
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()}")
            f.flush()
            clean_partial(root)
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


def _fsync_dir(p: Path) -> None:
    fd = os.open(str(p), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FaissStore(base.Store):
    """Versions on local disk (the functions above); each write publishes a complete new version."""

    name = "faiss"

    def __init__(self, index_dir: Path, keep: int = 2, ann_params: ann.AnnParams | None = None):
        self.index_dir = index_dir
        self.keep = keep
        self.ann_params = ann_params
        self._current: dict[tuple, str] = {}  # (CURRENT's path, its inode, times, size) -> the version it names

    def current_version(self, collection: str) -> str | None:
        """Asked on every request (rag.library): CURRENT is read again only when its file changed (it is replaced,
        never written in place, so a publish gives it a new inode and time), and the version must still hold its
        manifest."""
        ptr = os.path.join(self.index_dir, collection, "CURRENT")
        try:
            st = os.stat(ptr)
        except OSError:
            return None
        key = (ptr, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        name = self._current.get(key)
        if name is None:
            v = current_version(self.index_dir, collection)
            if v is None:
                return None
            name = v.name
            self._current = {key: name, **{k: n for k, n in self._current.items() if k[0] != ptr}}
        elif not os.path.exists(os.path.join(self.index_dir, collection, name, "manifest.json")):
            return None
        return name

    def load(self, collection: str, embedder_id: str | None = None) -> IndexData:
        return load(self.index_dir, collection, embedder_id)

    def list_collections(self) -> list[str]:
        return list_collections(self.index_dir)

    def read_manifest(self, collection: str) -> dict[str, Any] | None:
        return read_manifest(self.index_dir, collection)

    def drop_collection(self, collection: str) -> None:
        drop_collection(self.index_dir, collection)

    def lock(self, collection: str) -> AbstractContextManager[None]:
        """A file lock under the index folder (replicas share it only through a shared file system)."""
        return collection_lock(self.index_dir, collection)

    def write(
        self,
        collection: str,
        old: base.IndexData | None,
        upserts: Mapping[str, Document],
        deleted: list[str],
        batches: Iterable[base.Batch],
        manifest: dict[str, Any],
    ) -> base.Written:
        """Old passages of untouched documents (with their stored vectors) and the new ones, in document order."""
        assert old is None or isinstance(old, IndexData)
        docs: dict[str, Document] = dict(old.documents) if old is not None else {}
        for did in deleted:
            docs.pop(did, None)
        new: dict[str, tuple[list[Chunk], list[list[str]], list[np.ndarray]]] = {}
        for b in batches:
            for c, t, v in zip(b.chunks, b.tokens, b.vectors, strict=True):
                part = new.setdefault(c.doc_id, ([], [], []))
                part[0].append(c)
                part[1].append(t)
                part[2].append(v)
        docs.update(upserts)  # after the batches: an engine that reads the files sends the documents' text with them
        old_vecs = old.raw_vectors() if old is not None and old.vectors.ntotal else None
        old_by_doc: dict[str, list[int]] = {}
        if old is not None:
            for i, c in enumerate(old.chunks):
                old_by_doc.setdefault(c.doc_id, []).append(i)
        chunks: list[Chunk] = []
        tokens: list[list[str]] = []
        rows: list[np.ndarray] = []
        for did in sorted(docs):
            if did not in upserts and old is not None and did in old_by_doc:
                for i in old_by_doc[did]:
                    chunks.append(old.chunks[i])
                    tokens.append(old.tokens[i])
                    rows.append(old_vecs[i])
            elif did in new:
                chunks += new[did][0]
                tokens += new[did][1]
                rows += new[did][2]
        dim = int(manifest["dim"])
        vectors = np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
        v = write_version(
            self.index_dir,
            collection,
            list(docs.values()),
            chunks,
            tokens,
            vectors,
            manifest,
            keep=self.keep,
            ann_params=self.ann_params,
        )
        return base.Written(v.name, len(docs), len(chunks))
