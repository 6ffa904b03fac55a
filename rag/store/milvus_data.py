"""Reading a Milvus-backed index: dense and BM25 search in Milvus, passages and documents fetched on demand (with a
small cache), and the row format both the reader and rag/store/milvus_store.py's writer use (hashed BM25 terms, the
chunk fields, filter literals)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from rag.store import base
from rag.types import Chunk, Document

MAX_VARCHAR = 65_535
BM25_K1, BM25_B = 1.2, 0.75  # as the bm25s layer (rag.lexical)

CHUNK_FIELDS = [
    "pk",
    "chunk_id",
    "doc_id",
    "start",
    "end",
    "heading",
    "context",
    "kind",
    "page",
    "text",
    "source",
    "title",
]


def term(token: str) -> str:
    """A token as Milvus' analyzer sees it: 16 hex digits, so any tokenizer keeps it whole."""
    return hashlib.blake2b(token.encode("utf-8"), digest_size=8).hexdigest()


def lex_text(tokens: list[str]) -> str:
    s = " ".join(term(t) for t in tokens)
    return s if len(s) <= MAX_VARCHAR else s[: MAX_VARCHAR + 1].rsplit(" ", 1)[0]


def lit(x: Any) -> str:
    """A filter literal (a JSON string or list of strings is a valid Milvus expression literal)."""
    return json.dumps(x, ensure_ascii=False)


def count_rows(client: Any, name: str, flt: str = "") -> int:
    """How many rows of collection `name` match the filter `flt` (all of them when empty)."""
    return int(client.query(name, filter=flt, output_fields=["count(*)"])[0]["count(*)"])


def query_all(client: Any, name: str, flt: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every row matching `flt`, `fields` only, in batches (a plain query stops at Milvus' result window)."""
    it = client.query_iterator(name, batch_size=1000, filter=flt, output_fields=fields)
    try:
        while rows := client.call(it.next):
            yield from rows
    finally:
        it.close()


def _chunk(r: dict[str, Any]) -> Chunk:
    page = r.get("page", -1)
    return Chunk(
        r["chunk_id"],
        r["doc_id"],
        r["text"],
        int(r["start"]),
        int(r["end"]),
        r["heading"],
        r["context"],
        r["kind"],
        None if page is None or page < 0 else int(page),
    )


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def put(self, k: Any, v: Any) -> None:
        with self.lock:
            self[k] = v
            self.move_to_end(k)
            while len(self) > self.size:
                self.popitem(last=False)


class MilvusData(base.IndexData):
    """A collection in Milvus as the retriever sees it: searches go to Milvus, fetched rows are cached."""

    def __init__(self, client: Any, manifest: dict[str, Any]):
        self.client = client
        self.manifest = manifest
        self.names = manifest["milvus"]
        self._chunks: _LRU = _LRU(20_000)
        self.documents = _Documents(client, self.names["docs"], int(manifest["n_documents"]))
        self.chunks = _Chunks(self)
        self.bm25 = _TermStats(client, self.names["chunks"], int(manifest["n_chunks"]))

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def _search(self, data: Any, field: str, k: int, params: dict[str, Any]) -> list[tuple[int, float]]:
        res = self.client.search(
            self.names["chunks"],
            data=[data],
            anns_field=field,
            limit=k,
            output_fields=CHUNK_FIELDS,
            search_params=params,
        )
        out = []
        for h in res[0]:
            e = h["entity"]
            pk = int(e["pk"] if "pk" in e else h.get("id", h.get("pk")))
            self._chunks.put(pk, _chunk(e))
            out.append((pk, float(h["distance"])))
        return out

    def dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self._in_order(
            self._search(np.asarray(query_vector, dtype=np.float32).tolist(), "vec", k, {"metric_type": "IP"})
        )

    def lexical(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        if not query_tokens:
            return []
        found = self._search(
            lex_text(query_tokens),
            "sparse",
            k,
            {"metric_type": "BM25", "params": {"bm25_k1": BM25_K1, "bm25_b": BM25_B}},
        )
        # Milvus Lite reports BM25 scores negated (as distances); a BM25 score is never negative. Milvus scores carry
        # the classic (k1 + 1) factor that Lucene's BM25 (bm25s, the FAISS backend) drops: the same scores after it.
        return self._in_order([(pk, abs(s) / (BM25_K1 + 1)) for pk, s in found if s != 0])

    def _in_order(self, found: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Best first; equal scores (compared in float32, as FAISS and bm25s compute them) in document order, so the
        order does not depend on Milvus' primary keys (FAISS orders its ties as its partial sort leaves them)."""

        def key(x: tuple[int, float]) -> tuple[float, str, int, int]:
            c = self.chunk(x[0])
            return (-float(np.float32(x[1])), c.doc_id, c.start, c.end)

        return sorted(found, key=key)

    def chunk(self, key: int) -> Chunk:
        c = self._chunks.get(key)
        if c is None:
            rows = self.client.query(self.names["chunks"], filter=f"pk == {int(key)}", output_fields=CHUNK_FIELDS)
            if not rows:
                raise KeyError(key)
            c = _chunk(rows[0])
            self._chunks.put(key, c)
        return c

    def passage_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in query_all(self.client, self.names["chunks"], "pk != 0", ["doc_id"]):  # ids only, not the passages
            out[r["doc_id"]] = out.get(r["doc_id"], 0) + 1
        return out

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        rows = query_all(self.client, self.names["chunks"], f"doc_id == {lit(doc_id)}", CHUNK_FIELDS)
        return sorted((_chunk(r) for r in rows), key=lambda c: (c.start, c.end, c.chunk_id))

    def doc_meta(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        ids = list(doc_ids)
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(ids), 500):
            for r in self.client.query(
                self.names["docs"],
                filter=f"doc_id in {lit(ids[i : i + 500])} and part == 0",
                output_fields=["doc_id", "content_hash", "title"],
            ):
                out[r["doc_id"]] = (r["content_hash"], r["title"])
        return out


class _Documents(Mapping[str, Document]):
    """Documents fetched from Milvus on use (a few hundred cached)."""

    def __init__(self, client: Any, name: str, n: int):
        self.client, self.name, self.n = client, name, n
        self._cache: _LRU = _LRU(256)

    def __getitem__(self, doc_id: str) -> Document:
        d = self._cache.get(doc_id)
        if d is None:
            rows = self.client.query(
                self.name,
                filter=f"doc_id == {lit(doc_id)}",
                output_fields=["part", "source", "title", "content_hash", "blob"],
            )
            if not rows:
                raise KeyError(doc_id)
            rows.sort(key=lambda r: r["part"])
            body = json.loads("".join(r["blob"] for r in rows))
            d = Document(
                doc_id, rows[0]["source"], rows[0]["title"], body["text"], body["meta"], rows[0]["content_hash"]
            )
            self._cache.put(doc_id, d)
        return d

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(r["doc_id"] for r in query_all(self.client, self.name, "part == 0", ["doc_id"])))

    def __len__(self) -> int:
        return self.n


class _Chunks(Sequence[Chunk]):
    """Every passage, read from Milvus once on first use (the API's document listing); searches never need it."""

    def __init__(self, data: MilvusData):
        self._data = data
        self._all: list[Chunk] | None = None

    def _load(self) -> list[Chunk]:
        if self._all is None:
            rows = query_all(self._data.client, self._data.names["chunks"], "pk != 0", CHUNK_FIELDS)
            self._all = sorted((_chunk(r) for r in rows), key=lambda c: (c.doc_id, c.start, c.end, c.chunk_id))
        return self._all

    def __len__(self) -> int:
        return int(self._data.manifest["n_chunks"])

    def __getitem__(self, i):
        return self._load()[i]

    def __iter__(self) -> Iterator[Chunk]:
        return iter(self._load())


class _TermStats:
    """IDF of a token from Milvus' own term match (cached per version), as bm25s computes it."""

    def __init__(self, client: Any, name: str, n: int):
        self.client, self.name, self.size = client, name, n
        self._idf: _LRU = _LRU(50_000)

    def idf(self, token: str) -> float:
        v = self._idf.get(token)
        if v is None:
            df = count_rows(self.client, self.name, f"TEXT_MATCH(lex, {lit(term(token))})") if token.strip() else 0
            v = float(np.log(1 + (self.size - df + 0.5) / (df + 0.5))) if df else 0.0
            self._idf.put(token, v)
        return v
