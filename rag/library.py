"""Collections: loads each collection's live index version once and swaps in a new one when it is published."""

from __future__ import annotations

import threading
from pathlib import Path

from rag import store
from rag.embed import Embedder
from rag.indexer import read_dictionary
from rag.retrieve import FusionParams, Retriever
from rag.store import Store
from rag.zh import Tokenizer


class Library:
    def __init__(self, index: Path | Store, embedder: Embedder, tokenizer: Tokenizer, fusion: FusionParams):
        """`index`: a store, or an index folder for the FAISS store."""
        self.store = index if isinstance(index, Store) else store.FaissStore(Path(index))
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.fusion = fusion
        self._live: dict[str, tuple[str, Retriever]] = {}
        self._lock = threading.Lock()

    def retriever(self, collection: str) -> Retriever:
        """The retriever over the collection's live version, with the tokenizer that version was built with (its
        own dictionary added, rag.termdict); a newly published version is loaded on first use."""
        v = self.store.current_version(collection)
        live = self._live.get(collection)
        if live is not None and v is not None and live[0] == v:
            return live[1]
        with self._lock:
            live = self._live.get(collection)
            v = self.store.current_version(collection)
            if live is not None and v is not None and live[0] == v:
                return live[1]
            data = self.store.load(collection, self.embedder.id)
            tok = self.tokenizer.with_terms(read_dictionary(data))
            r = Retriever(data, self.embedder, tok, self.fusion)
            self._live[collection] = (data.version, r)
            return r

    def forget(self, collection: str) -> None:
        with self._lock:
            self._live.pop(collection, None)

    def collections(self) -> list[str]:
        return self.store.list_collections()
