"""Index timings on the seeds: cold build (empty embedding cache), re-index with nothing changed, one added document."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.types import Document


def _components(settings: Settings):  # noqa: ANN202
    from rag.factory import Components

    return Components(settings)


def new_document(seed: Document, tag: str) -> Document:
    """A document nobody has embedded: a seed's sentences in reverse order, each marked, under a new name."""
    from rag.ingest import read_bytes

    sentences = [s for s in re.split(r"(?<=[。！？])", seed.text[:4000]) if s.strip()]
    text = "\n".join(f"{s.strip()}（{tag}）" for s in reversed(sentences))
    return read_bytes(text.encode("utf-8"), f"perf-added-{tag}.txt")[0]


def index_timings(seeds: Path, index_dir: Path, base: Settings) -> dict[str, Any]:
    """Build the seeds into `index_dir` from nothing (its own empty embedding cache), then re-index and add one."""
    from rag.ingest import load_paths

    settings = base.model_copy(update={"index_dir": index_dir, "embed_cache": index_dir / "cache" / "embeddings.sqlite"})
    t = time.perf_counter()
    comp = _components(settings)
    comp.embedder  # noqa: B018 - the model loads once per process; timed apart from the build
    model_s = time.perf_counter() - t

    t = time.perf_counter()
    docs = load_paths([seeds], settings.dedup_min_chars)
    cold = comp.indexer.update(settings.collection, add=docs)
    cold_s = time.perf_counter() - t

    t = time.perf_counter()
    again = comp.indexer.update(settings.collection, add=load_paths([seeds], settings.dedup_min_chars))
    reindex_s = time.perf_counter() - t

    extra = new_document(docs[0], time.strftime("%H%M%S"))
    t = time.perf_counter()
    added = comp.indexer.update(settings.collection, add=[extra])
    add_s = time.perf_counter() - t
    from rag.chunk import chunk_document

    extra_chunks = len(chunk_document(extra, comp.chunk_params))
    comp.indexer.update(settings.collection, delete=[extra.doc_id])  # leave the seeds as they were for the HTTP runs
    return {
        "documents": cold.n_documents, "chunks": cold.n_chunks, "model_load_s": round(model_s, 2),
        "cold_build_s": round(cold_s, 2), "cold_chunks_per_s": round(cold.n_chunks / cold_s, 1),
        "cold_embedded": cold.embedded,
        "reindex_unchanged_s": round(reindex_s, 3), "reindex_published": bool(again.version),
        "reindex_ratio": round(reindex_s / cold_s, 4),
        "add_one_s": round(add_s, 2), "add_one_chunks": extra_chunks, "add_one_embedded": added.embedded,
        "add_one_reused_chunks": added.n_chunks - added.embedded,
        "add_one_touches_only_it": added.added == [extra.doc_id] and added.embedded == extra_chunks
        and not added.updated and not added.deleted,
    }
