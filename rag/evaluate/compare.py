"""Two reference pipelines run beside ours on the same documents and the same embedder (`--compare`).

- `langchain-tutorial`: LangChain's RAG tutorial: RecursiveCharacterTextSplitter(500, 50), a FAISS vector store
  (langchain_community), top-k similarity search.
- `chatchat-defaults`: Langchain-Chatchat's defaults: a Chinese recursive splitter (750, 150), and per query a BM25
  retriever over jieba `lcut_for_search` tokens rebuilt from all passages (as Chatchat's EnsembleRetrieverService
  does) fused 0.5 : 0.5 with FAISS by LangChain's EnsembleRetriever (weighted reciprocal-rank fusion, c = 60).

Both read the cleaned document text our index holds, so only chunking and retrieval differ. Their passages are
embedded through the project's embedding cache, so a second run embeds nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.embed import Embedder
from rag.embed.cache import EmbeddingCache
from rag.types import Document

# Chatchat's ChineseRecursiveTextSplitter, as plain separators: paragraph, line, sentence ends, commas, characters.
CHATCHAT_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "，", "、", ""]
DESCRIPTIONS = {
    "langchain-tutorial": "RecursiveCharacterTextSplitter 500/50, langchain_community FAISS, similarity top-k",
    "chatchat-defaults": "Chinese recursive splitter 750/150, BM25 (jieba lcut_for_search, rebuilt per query) "
    "+ FAISS, EnsembleRetriever weighted RRF 0.5/0.5",
}


@dataclass
class Passage:
    """One retrieved passage, from our retriever or a baseline."""

    text: str
    doc_id: str = ""
    source: str = ""
    score: float | None = None

    def to_dict(self, max_chars: int | None = None) -> dict[str, Any]:
        text = self.text if max_chars is None or len(self.text) <= max_chars else self.text[:max_chars] + "…"
        return {
            "doc_id": self.doc_id,
            "source": self.source,
            "score": None if self.score is None else round(float(self.score), 4),
            "text": text,
        }


def project_embeddings(embedder: Embedder, cache: EmbeddingCache, progress: Callable[[int, int], None] | None = None):
    """The project's embedder as a LangChain `Embeddings`: passages through the cache (passage prefix), queries
    embedded each time (query prefix)."""
    from langchain_core.embeddings import Embeddings

    class ProjectEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            done = [0]

            def tick(n: int) -> None:
                done[0] += n
                if progress:
                    progress(done[0], len(texts))

            return cache.embed(embedder, list(texts), progress=tick).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    return ProjectEmbeddings()


def _lc_documents(docs: list[Document]) -> list[Any]:
    """LangChain Documents of the cleaned texts; a title our reader kept apart (BEIR) goes in front, as BEIR does."""
    from langchain_core.documents import Document as LCDocument

    out = []
    for d in docs:
        text = d.text if not d.title or d.title == d.doc_id or d.title in d.text[:200] else f"{d.title}\n{d.text}"
        out.append(LCDocument(page_content=text, metadata={"doc_id": d.doc_id, "source": d.source}))
    return out


@dataclass
class Baseline:
    name: str
    description: str
    n_passages: int
    search: Callable[[str, int], list[Passage]]
    chunking: dict[str, Any] = field(default_factory=dict)


def _faiss(splits: list[Any], embeddings: Any):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community's notice that it is being sunset
        from langchain_community.vectorstores import FAISS

    return FAISS.from_documents(splits, embeddings)


def langchain_tutorial(docs: list[Document], embeddings: Any) -> Baseline:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splits = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50).split_documents(_lc_documents(docs))
    vs = _faiss(splits, embeddings)

    def search(query: str, k: int) -> list[Passage]:
        return [
            Passage(d.page_content, d.metadata["doc_id"], d.metadata["source"], float(s))
            for d, s in vs.similarity_search_with_score(query, k=k)
        ]

    return Baseline(
        "langchain-tutorial",
        DESCRIPTIONS["langchain-tutorial"],
        len(splits),
        search,
        {"chunk_size": 500, "chunk_overlap": 50},
    )


def chatchat_defaults(docs: list[Document], embeddings: Any, rebuild_per_query: bool = True) -> Baseline:
    """`rebuild_per_query=False` builds the BM25 retriever once: the same passages in the same order (it is rebuilt
    from the same splits), without the per-query cost that Chatchat's latency includes (quality-only runs, tests)."""
    import jieba
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.retrievers import BM25Retriever

    splitter = RecursiveCharacterTextSplitter(
        separators=CHATCHAT_SEPARATORS, keep_separator="end", chunk_size=750, chunk_overlap=150
    )
    splits = splitter.split_documents(_lc_documents(docs))
    vs = _faiss(splits, embeddings)
    jieba.setLogLevel(60)
    jieba.initialize()  # the dictionary loads once per process in Chatchat too

    built = None if rebuild_per_query else BM25Retriever.from_documents(splits, preprocess_func=jieba.lcut_for_search)

    def search(query: str, k: int) -> list[Passage]:
        # Rebuilt on every query, as Chatchat's EnsembleRetrieverService.from_vectorstore does.
        bm25 = built or BM25Retriever.from_documents(splits, preprocess_func=jieba.lcut_for_search)
        bm25.k = k
        dense = vs.as_retriever(search_kwargs={"k": k})
        ensemble = EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])
        return [Passage(d.page_content, d.metadata["doc_id"], d.metadata["source"]) for d in ensemble.invoke(query)[:k]]

    return Baseline(
        "chatchat-defaults",
        DESCRIPTIONS["chatchat-defaults"],
        len(splits),
        search,
        {"chunk_size": 750, "chunk_overlap": 150, "separators": CHATCHAT_SEPARATORS}
        | ({} if rebuild_per_query else {"bm25_rebuilt_per_query": False}),
    )


def build_baselines(
    docs: list[Document],
    embedder: Embedder,
    cache: EmbeddingCache,
    progress: Callable[[int, int], None] | None = None,
    rebuild_per_query: bool = True,
) -> list[Baseline]:
    """The two reference pipelines; `rebuild_per_query=False`: Chatchat's BM25 built once (see chatchat_defaults)."""
    emb = project_embeddings(embedder, cache, progress)
    return [langchain_tutorial(docs, emb), chatchat_defaults(docs, emb, rebuild_per_query)]


def versus(
    ours: dict[str, Any], theirs: dict[str, Any], keys: tuple[str, ...] = ("hit@1", "hit@5", "mrr@10")
) -> dict[str, Any]:
    """Differences (ours − theirs) for quality metrics and the ratio of their p50 latency to ours."""
    out: dict[str, Any] = {f"{k}_diff": round(ours[k] - theirs[k], 4) for k in keys if k in ours and k in theirs}
    if ours.get("latency_ms_p50"):
        out["latency_p50_ratio"] = round(theirs["latency_ms_p50"] / ours["latency_ms_p50"], 2)
    return out
