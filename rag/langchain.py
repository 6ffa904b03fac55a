"""A LangChain BaseRetriever over the hybrid retriever, for users' own chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.config import ASK_TOP_K, DEFAULT_COLLECTION, SEARCH_MODE


class RagRetriever(BaseRetriever):
    """`RagRetriever(pipeline=components.pipeline)`; each result is a Document with our hit fields as metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    pipeline: Any
    collection: str = DEFAULT_COLLECTION
    top_k: int = ASK_TOP_K
    mode: str = SEARCH_MODE

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        res = self.pipeline.search(query, self.top_k, self.collection, self.mode)
        out = []
        for h in res.hits:
            meta = h.to_dict()
            meta.pop("text")
            out.append(LCDocument(page_content=h.chunk.text, metadata=meta, id=h.chunk.chunk_id))
        return out
