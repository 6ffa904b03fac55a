"""Collections: loads each collection's live index version once and swaps in a new one when it is published."""

from __future__ import annotations

import threading
from pathlib import Path

from rag import store
from rag.embed import Embedder
from rag.retrieve import FusionParams, Retriever
from rag.zh import Tokenizer


class Library:
    def __init__(self, index_dir: Path, embedder: Embedder, tokenizer: Tokenizer, fusion: FusionParams):
        self.index_dir = index_dir
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.fusion = fusion
        self._live: dict[str, tuple[str, Retriever]] = {}
        self._lock = threading.Lock()

    def retriever(self, collection: str) -> Retriever:
        """The retriever over the collection's live version; a newly published version is loaded on first use."""
        v = store.current_version(self.index_dir, collection)
        live = self._live.get(collection)
        if live is not None and v is not None and live[0] == v.name:
            return live[1]
        with self._lock:
            live = self._live.get(collection)
            v = store.current_version(self.index_dir, collection)
            if live is not None and v is not None and live[0] == v.name:
                return live[1]
            data = store.load(self.index_dir, collection, self.embedder.id)
            r = Retriever(data, self.embedder, self.tokenizer, self.fusion)
            self._live[collection] = (data.version, r)
            return r

    def forget(self, collection: str) -> None:
        with self._lock:
            self._live.pop(collection, None)

    def collections(self) -> list[str]:
        return store.list_collections(self.index_dir)
