"""The Milvus backend: passages, vectors, BM25 and documents live in Milvus; API replicas hold no index in memory.

Per RAG collection, two Milvus collections, named in the collection's manifest:
  <prefix><name>_<stamp>_chunks  pk, chunk fields, source/title, `vec` (dense, IP), `lex` (our jieba tokens, hashed)
                                 with Milvus' BM25 function into `sparse`
  <prefix><name>_<stamp>_docs    the cleaned document text and metadata, in parts of PART_CHARS characters
and one row in <prefix>meta (the manifest, whose `version` changes on every write; replicas compare it per request).

BM25 runs in Milvus over *our* tokens: each jieba token (user dictionary, stopwords, NFKC) is written as a
16-hex-digit hash, so Milvus' analyzer only has to split on spaces and the figures equal the bm25s layer's
(docs/scale.md says why not Milvus' own jieba analyzer).

Incremental writes upsert the new passages before deleting the replaced ones, so a search never finds a document
missing; a rebuild (or a change of embedder or chunking) fills fresh Milvus collections and switches the manifest
to them, then drops the old ones.

This module holds the connection, the schemas and the writes; reading an index (search, passages, documents) is
rag/store/milvus_data.py's MilvusData.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__
from rag.errors import ConfigError, IndexMismatch, IndexNotFound, StoreUnavailable
from rag.store import base
from rag.store.milvus_client import Guarded, Leases, check_lite_free, message_of
from rag.store.milvus_data import (
    BM25_B,
    BM25_K1,
    MAX_VARCHAR,
    MilvusData,
    count_rows,
    lex_text,
    lit,
    query_all,
)
from rag.types import Document

FORMAT = 2  # 2: BM25's k1 and b reach the index on Milvus Lite too (format 1 indexes used Lite's k1 = 1.5)
PART_CHARS = 16_000  # document text is stored in parts: a VARCHAR holds at most 65,535 bytes (3 per Chinese char)
WRITE_ROWS = 500


def _int64(*parts: str) -> int:
    return int.from_bytes(
        hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest(), "big", signed=True
    )


def _safe(name: str) -> str:
    """Milvus names allow letters, digits and underscores only."""
    return re.sub(r"[^0-9A-Za-z_]", lambda m: f"_{ord(m.group()):x}_", name)


class MilvusStore(base.Store):
    name = "milvus"

    def __init__(
        self,
        uri: str,
        token: str = "",
        prefix: str = "rag_",
        index_type: str = "AUTOINDEX",
        local_dir: Path | None = None,
        lease_s: float = 60.0,
    ):
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        if not uri:
            raise ConfigError("RAG_STORE=milvus needs RAG_MILVUS_URI (a Milvus server, or a file path for Milvus Lite)")
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            check_lite_free(uri)
        self.uri, self.prefix, self.index_type = uri, _safe(prefix), index_type
        try:
            self.client = Guarded(MilvusClient(uri=uri, token=token), uri)
        except MilvusException as e:
            raise StoreUnavailable(f"cannot connect to Milvus at {uri}: {message_of(e)}") from None
        self.meta = f"{self.prefix}meta"
        self._ensure_meta()
        self.leases = Leases(self.client, f"{self.prefix}locks", self._create, lease_s)

    # ---- collections and manifests ----------------------------------------------------------------------------

    def _ensure_meta(self) -> None:
        from pymilvus import DataType

        if not self.client.has_collection(self.meta):
            s = self.client.create_schema(auto_id=False)
            s.add_field("name", DataType.VARCHAR, is_primary=True, max_length=512)
            s.add_field("manifest", DataType.VARCHAR, max_length=MAX_VARCHAR)
            s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
            self._create(self.meta, s, "_v", "IP", "FLAT")
        self.client.ensure_loaded(self.meta)

    def lock(self, collection: str) -> AbstractContextManager[None]:
        """The collection's writer lease, held in Milvus (`<prefix>locks`): shared by every replica and machine."""
        return self.leases.hold(collection)

    def _create(
        self, name: str, schema: Any, vec: str, metric: str, index_type: str, sparse: str | None = None
    ) -> None:
        ip = self.client.prepare_index_params()
        ip.add_index(vec, index_type=index_type, metric_type=metric)
        if sparse:
            ip.add_index(
                sparse,
                index_type="SPARSE_INVERTED_INDEX",
                metric_type="BM25",
                params={"params": {"bm25_k1": BM25_K1, "bm25_b": BM25_B}},
            )  # nested: Lite reads only this
        try:
            self.client.create_collection(name, schema=schema, index_params=ip, consistency_level="Strong")
        except StoreUnavailable:
            for _ in range(50):  # another process may be creating it just now: wait until it exists
                if self.client.has_collection(name):
                    return
                time.sleep(0.1)
            raise

    def read_manifest(self, collection: str) -> dict[str, Any] | None:
        rows = self.client.query(self.meta, filter=f"name == {lit(collection)}", output_fields=["manifest"])
        return json.loads(rows[0]["manifest"]) if rows else None

    def current_version(self, collection: str) -> str | None:
        m = self.read_manifest(collection)
        return m["version"] if m else None

    def list_collections(self) -> list[str]:
        return sorted(r["name"] for r in self.client.query(self.meta, filter='name != ""', output_fields=["name"]))

    def drop_collection(self, collection: str) -> None:
        m = self.read_manifest(collection)
        if m is None:
            raise IndexNotFound(f"collection '{collection}' does not exist")
        self.client.delete(self.meta, filter=f"name == {lit(collection)}")
        for name in (m["milvus"]["chunks"], m["milvus"]["docs"]):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def load(self, collection: str, embedder_id: str | None = None) -> MilvusData:
        m = self.read_manifest(collection)
        if m is None:
            raise IndexNotFound(f"collection '{collection}' has no index in Milvus at {self.uri}; run `rag index`")
        if m.get("format") != FORMAT:
            raise IndexMismatch(
                f"collection '{collection}' has format {m.get('format')}, this version reads {FORMAT}; "
                "run `rag index --rebuild`"
            )
        if embedder_id and m.get("embedder") != embedder_id:
            raise IndexMismatch(
                f"collection '{collection}' was built with embedder '{m.get('embedder')}' but the settings select "
                f"'{embedder_id}'; run `rag index --rebuild --collection {collection}` or change RAG_EMBEDDER"
            )
        for name in (m["milvus"]["chunks"], m["milvus"]["docs"]):
            if not self.client.has_collection(name):
                raise IndexNotFound(
                    f"collection '{collection}': its Milvus collection '{name}' is missing at {self.uri}; "
                    f"run `rag index --rebuild --collection {collection}`"
                )
            self.client.ensure_loaded(name)
        return MilvusData(self.client, m)

    # ---- writing ----------------------------------------------------------------------------------------------

    def _create_pair(self, collection: str, dim: int) -> dict[str, str]:
        from pymilvus import DataType, Function, FunctionType

        stamp = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{time.monotonic_ns() % 10**6:06d}"
        names = {
            "chunks": f"{self.prefix}{_safe(collection)}_{stamp}_chunks",
            "docs": f"{self.prefix}{_safe(collection)}_{stamp}_docs",
        }
        s = self.client.create_schema(auto_id=False)
        s.add_field("pk", DataType.INT64, is_primary=True)
        for f in ("chunk_id", "doc_id", "kind"):
            s.add_field(f, DataType.VARCHAR, max_length=512)
        for f in ("start", "end", "page"):
            s.add_field(f, DataType.INT64)
        for f in ("heading", "context", "text", "source", "title"):
            s.add_field(f, DataType.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field(
            "lex",
            DataType.VARCHAR,
            max_length=MAX_VARCHAR,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
            enable_match=True,
        )
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
        s.add_function(
            Function(
                name="bm25", function_type=FunctionType.BM25, input_field_names=["lex"], output_field_names=["sparse"]
            )
        )
        self._create(names["chunks"], s, "vec", "IP", self.index_type, sparse="sparse")
        d = self.client.create_schema(auto_id=False)
        d.add_field("pk", DataType.INT64, is_primary=True)
        d.add_field("doc_id", DataType.VARCHAR, max_length=512)
        for f in ("part", "parts", "chars"):
            d.add_field(f, DataType.INT64)
        for f in ("source", "title", "content_hash", "blob"):
            d.add_field(f, DataType.VARCHAR, max_length=MAX_VARCHAR)
        d.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        self._create(names["docs"], d, "_v", "IP", "FLAT")
        return names

    def write(
        self,
        collection: str,
        old: base.IndexData | None,
        upserts: Mapping[str, Document],
        deleted: list[str],
        batches: Iterable[base.Batch],
        manifest: dict[str, Any],
    ) -> base.Written:
        live = self.read_manifest(collection)
        fresh = old is None or live is None
        names = self._create_pair(collection, int(manifest["dim"])) if fresh else live["milvus"]
        c = self.client
        try:
            stale = [] if fresh else _pks(c, names["chunks"], [*upserts, *deleted])
            new_pks: set[int] = set()
            docs = {did: (d.source, d.title) for did, d in upserts.items()}
            for b in batches:
                rows = [
                    {
                        "pk": _int64(ch.chunk_id, upserts[ch.doc_id].content_hash),
                        "chunk_id": ch.chunk_id,
                        "doc_id": ch.doc_id,
                        "start": ch.start,
                        "end": ch.end,
                        "page": -1 if ch.page is None else ch.page,
                        "heading": ch.heading,
                        "context": ch.context[:PART_CHARS],
                        "kind": ch.kind,
                        "text": ch.text,
                        "source": docs[ch.doc_id][0],
                        "title": docs[ch.doc_id][1],
                        "lex": lex_text(t),
                        "vec": np.asarray(v, dtype=np.float32).tolist(),
                    }
                    for ch, t, v in zip(b.chunks, b.tokens, b.vectors, strict=True)
                ]
                for i in range(0, len(rows), WRITE_ROWS):
                    c.upsert(names["chunks"], rows[i : i + WRITE_ROWS])
                new_pks.update(r["pk"] for r in rows)
            doc_rows = [r for d in upserts.values() for r in _doc_rows(d)]
            for i in range(0, len(doc_rows), 50):
                c.upsert(names["docs"], doc_rows[i : i + 50])
            gone = sorted(set(stale) - new_pks)
            for i in range(0, len(gone), 1000):
                c.delete(names["chunks"], ids=gone[i : i + 1000])
            if not fresh:
                if deleted:
                    c.delete(names["docs"], filter=f"doc_id in {lit(deleted)}")
                for d in upserts.values():  # parts beyond the new text's length
                    c.delete(names["docs"], filter=f"doc_id == {lit(d.doc_id)} and part >= {_n_parts(d)}")
            n_chunks = count_rows(c, names["chunks"])
            n_docs = count_rows(c, names["docs"], "part == 0")
        except BaseException:
            if fresh:
                for n in names.values():
                    c.drop_collection(n)
            raise
        version = f"m-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        full = {
            **manifest,
            "format": FORMAT,
            "rag_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "n_documents": n_docs,
            "n_chunks": n_chunks,
            "collection": collection,
            "version": version,
            "store": "milvus",
            "milvus": names,
            "bm25": {"k1": BM25_K1, "b": BM25_B, "terms": "blake2b-64(jieba token)"},
        }
        c.upsert(self.meta, [{"name": collection, "manifest": json.dumps(full, ensure_ascii=False), "_v": [0.0, 0.0]}])
        if fresh and live is not None:  # the previous generation is no longer named by the manifest
            for n in (live["milvus"]["chunks"], live["milvus"]["docs"]):
                if c.has_collection(n):
                    c.drop_collection(n)
        return base.Written(version, n_docs, n_chunks)


def _n_parts(d: Document) -> int:
    blob = json.dumps({"text": d.text, "meta": d.meta}, ensure_ascii=False)
    return max(1, -(-len(blob) // PART_CHARS))


def _doc_rows(d: Document) -> list[dict[str, Any]]:
    blob = json.dumps({"text": d.text, "meta": d.meta}, ensure_ascii=False)
    n = _n_parts(d)
    return [
        {
            "pk": _int64(d.doc_id, str(i)),
            "doc_id": d.doc_id,
            "part": i,
            "parts": n,
            "chars": len(d.text),
            "source": d.source,
            "title": d.title,
            "content_hash": d.content_hash,
            "blob": blob[i * PART_CHARS : (i + 1) * PART_CHARS],
            "_v": [0.0, 0.0],
        }
        for i in range(n)
    ]


def _pks(client: Any, name: str, doc_ids: list[str]) -> list[int]:
    out: list[int] = []
    for i in range(0, len(doc_ids), 500):
        part = doc_ids[i : i + 500]
        out += [int(r["pk"]) for r in query_all(client, name, f"doc_id in {lit(part)}", ["pk"])]
    return out
