"""Building and updating a collection's index: incremental, cached, published atomically."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import store, termdict
from rag.ann import AnnParams
from rag.chunk import ChunkParams, chunk_document
from rag.embed import Embedder
from rag.embed.cache import EmbeddingCache
from rag.errors import BadInput, Conflict, IndexMismatch, IndexNotFound, NotFound
from rag.generate import subject
from rag.ingest import check_doc_id
from rag.store import Batch, Store
from rag.store.faiss_store import collection_lock  # noqa: F401 - importable from here too
from rag.types import Chunk, Document
from rag.zh import Tokenizer

RESERVED = {"cache"}  # folders of the index directory that are not collections
TOKENIZER = "jieba-precise+subwords+userdict+corpusdict+stopwords"  # an index built by another tokenizer is rebuilt
DICT_DRIFT = 0.25  # the collection's dictionary is mined again once its text has changed by this share

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
        return {
            k: getattr(self, k)
            for k in (
                "collection",
                "added",
                "updated",
                "unchanged",
                "deleted",
                "n_documents",
                "n_chunks",
                "embedded",
                "cached",
                "version",
                "seconds",
            )
        }


class Indexer:
    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        tokenizer: Tokenizer,
        params: ChunkParams,
        keep: int = 2,
        cache_path: Path | None = None,
        ann_params: AnnParams | None = None,
        store_: Store | None = None,
        engine: Engine | None = None,
    ):
        self.index_dir = index_dir
        self.cache_path = cache_path or index_dir / "cache" / "embeddings.sqlite"
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.params = params
        self.keep = keep
        self.ann_params = ann_params
        self.store: Store = store_ or store.FaissStore(index_dir, keep, ann_params)
        self.engine: Engine = engine or self.embed_local  # another engine: rag.distributed.RayEngine
        self._cache: EmbeddingCache | None = None

    @property
    def cache(self) -> EmbeddingCache:
        if self._cache is None:
            self._cache = EmbeddingCache(self.cache_path)
        return self._cache

    def manifest(self, dictionary: tuple[str, int] | None = None) -> dict:
        """What a version records; `dictionary`: the collection's mined terms (rag.termdict) and the characters of
        text they were mined from."""
        m = {
            "embedder": self.embedder.id,
            "dim": self.embedder.dim,
            "chunking": self.params.as_dict(),
            "tokenizer": TOKENIZER,
            "places": subject.PLACES,
            "metric": "inner_product_normalised",
        }
        if dictionary is not None:
            text, chars = dictionary
            m["dictionary"] = {
                "file": termdict.FILE,
                "terms": text.count("\n"),
                "sha256": termdict.digest(text),
                "mined_from_chars": chars,
            }
            m["files"] = {termdict.FILE: text}  # written beside the manifest by the store
        return m

    def dictionary(self, docs: Iterable[Document]) -> tuple[str, int]:
        """The collection's terms mined from its documents' text, and how many characters that was."""
        docs = list(docs)
        terms = termdict.mine((f"{d.title}\n{d.text}" for d in docs), self.tokenizer)
        return termdict.to_text(terms), sum(len(d.text) for d in docs)

    def update(
        self,
        collection: str,
        add: list[Document] | None = None,
        delete: list[str] | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
        replace: bool = False,
    ) -> IndexReport:
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
            same_params = (
                old is not None
                and old.manifest.get("chunking") == self.params.as_dict()
                and old.manifest.get("embedder") == self.embedder.id
                and old.manifest.get("tokenizer") == TOKENIZER
                and old.manifest.get("places") == subject.PLACES
                and "dictionary" in old.manifest
            )
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
            stubs = any(d.stub for d in upserts.values())  # text unknown until the engine reads it
            dictionary = _kept_dictionary(old, upserts, gone) if old is not None and same_params and not stubs else None
            if dictionary is None:  # mined again: if it changed, every passage is tokenized again with it
                final = {
                    **({did: d for did, d in old.documents.items() if did not in gone} if old is not None else {}),
                    **upserts,
                }
                dictionary = self.dictionary(final.values())
                was = (old.manifest.get("dictionary") or {}).get("sha256") if old is not None else None
                if old is not None and was != termdict.digest(dictionary[0]):
                    upserts, same_params = final, False
            if old is not None and not same_params:  # chunking, tokenizer or embedder changed: every document again
                upserts = {**{did: d for did, d in old.documents.items() if did not in gone}, **upserts}
            todo = sorted(upserts.values(), key=lambda d: d.doc_id)
            if any(d.stub for d in todo):
                # an engine that reads the files itself (rag.distributed) was given stubs: their text arrives with
                # their passages, so the passages are gathered first and the dictionary is mined from the real text
                gathered = list(_Counted(self.engine(todo, progress), upserts))
                final = {
                    **({did: d for did, d in old.documents.items() if did not in gone} if old is not None else {}),
                    **upserts,
                }
                dictionary = self.dictionary(final.values())
                tok = self.tokenizer.with_terms(termdict.parse(dictionary[0]))
                batches: Iterable[Batch] = _retokenized(gathered, upserts, tok)
            else:
                tok = self.tokenizer.with_terms(termdict.parse(dictionary[0]))
                if takes_tokenizer(self.engine, self):
                    batches = self.engine(todo, progress, tok)
                else:  # another engine (Ray) tokenizes with the plain dictionary: tokenized again here
                    batches = _retokenized(self.engine(todo, progress), upserts, tok)
            counted = _Counted(batches, upserts, tok)
            w = self.store.write(
                collection, old if same_params else None, upserts, report.deleted, counted, self.manifest(dictionary)
            )
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

    def embed_local(
        self, docs: list[Document], progress: Progress | None = None, tokenizer: Tokenizer | None = None
    ) -> Iterator[Batch]:
        """The in-process engine: chunk, tokenize, and embed through the cache (only new texts are computed)."""
        chunks, tokens, texts = prepare(docs, self.params, tokenizer or self.tokenizer)
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], len(texts))

        counting = CountingEmbedder(self.embedder)
        vectors = (
            self.cache.embed(counting, texts, progress=tick) if texts else np.zeros((0, self.embedder.dim), np.float32)
        )
        yield Batch(chunks, tokens, vectors, embedded=counting.embedded)


def takes_tokenizer(engine: Callable, indexer: Indexer) -> bool:
    """Whether an engine tokenizes with the tokenizer it is given (the in-process one, or a wrapper of it)."""
    return engine == indexer.embed_local or bool(getattr(engine, "takes_tokenizer", False))


def _check_sources(add: list[Document], have: dict, gone: set[str], old: store.IndexData, collection: str) -> None:
    for d in add:
        if d.doc_id in have and d.doc_id not in gone:
            prev = old.documents.get(d.doc_id)
            if prev is not None and prev.source != d.source:
                raise Conflict(
                    f"{d.source}: document id '{d.doc_id}' is taken in collection '{collection}' by {prev.source}; "
                    "send replace=true to replace it, or rename the file"
                )


def prepare(
    docs: list[Document], params: ChunkParams, tokenizer: Tokenizer
) -> tuple[list[Chunk], list[list[str]], list[str]]:
    """Chunks of the documents in order, their BM25 tokens, and the texts to embed (one stage, shared by the
    engines)."""
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    texts: list[str] = []
    for d in docs:
        for c in chunk_document(d, params):
            text = c.index_text(d.title)
            chunks.append(c)
            tokens.append(passage_tokens(text, tokenizer))
            texts.append(text)
    return chunks, tokens, texts


def passage_tokens(text: str, tokenizer: Tokenizer) -> list[str]:
    """The passage's BM25 terms, tokenizer.index_tokens(text), found line by line: jieba never cuts across a line
    break, so they are the same, and the lines a document repeats in its passages (its title, a heading, a table's
    header) are tokenized once (rag.zh keeps a short text's tokens)."""
    return [t for line in text.split("\n") for t in tokenizer.index_tokens(line)]


class CountingEmbedder:
    """An embedder that counts the passages it computes (what the embedding cache did not have)."""

    def __init__(self, embedder: Embedder):
        self._embedder = embedder
        self.embedded = 0

    def __getattr__(self, name: str):  # id, dim, embed_query … as the wrapped embedder's
        return getattr(self._embedder, name)

    def embed_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.embedded += len(texts)
        return self._embedder.embed_documents(texts, progress=progress)


def read_dictionary(data: store.IndexData) -> list[termdict.Term]:
    """The terms a version was tokenized with (none for a version built before collections had a dictionary)."""
    meta = data.manifest.get("dictionary")
    if not meta:
        return []
    text = data.read_file(meta["file"])
    if text is None or termdict.digest(text) != meta.get("sha256"):
        raise IndexMismatch(
            f"index version {data.version} lacks its dictionary {meta['file']} or it was changed; "
            "run `rag index --rebuild`"
        )
    return termdict.parse(text)


def _kept_dictionary(old: store.IndexData, upserts: dict[str, Document], gone: set[str]) -> tuple[str, int] | None:
    """The old version's dictionary while the collection's text is within DICT_DRIFT of what it was mined from;
    None when it must be mined again."""
    meta = old.manifest.get("dictionary") or {}
    was = int(meta.get("mined_from_chars", 0))
    if not was:
        return None
    changed = sum(len(d.text) for d in upserts.values()) + sum(
        len(old.documents[did].text) for did in gone if did in old.documents
    )
    if changed > DICT_DRIFT * was:
        return None
    text = "".join(t.line() + "\n" for t in read_dictionary(old))
    return text, was


def _retokenized(batches: Iterable[Batch], docs: dict[str, Document], tok: Tokenizer) -> Iterator[Batch]:
    for b in batches:
        tokens = [passage_tokens(c.index_text(docs[c.doc_id].title if c.doc_id in docs else ""), tok) for c in b.chunks]
        yield Batch(b.chunks, tokens, b.vectors, embedded=b.embedded, documents=b.documents)


class _Counted:
    """Passes batches through, counting the passages written and those embedded (not taken from the cache); with a
    tokenizer (the collection's), each passage gets its place names (rag.generate.subject.passage_places), found once
    here rather than at every answer.

    An engine that reads the files itself (rag.distributed) was given documents known by their content hash only;
    their text arrives with their passages and replaces them in `upserts` before the store sees the batch."""

    def __init__(self, batches: Iterable[Batch], upserts: dict[str, Document], tokenizer: Tokenizer | None = None):
        self._it = batches
        self._upserts = upserts
        self._tokenizer = tokenizer
        self.n = 0
        self.embedded = 0

    def __iter__(self) -> Iterator[Batch]:
        for b in self._it:
            for d in b.documents or ():
                known = self._upserts.get(d.doc_id)
                if known is not None:
                    d.meta.setdefault("added_at", known.meta.get("added_at"))
                    self._upserts[d.doc_id] = d
            if self._tokenizer is not None:
                for c in b.chunks:
                    d = self._upserts.get(c.doc_id)
                    c.places = subject.index_places(c, d.title if d is not None else "", self._tokenizer)
            self.n += len(b)
            self.embedded += len(b) if b.embedded is None else b.embedded
            yield b
