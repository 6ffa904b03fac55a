"""Any local sentence-transformers model folder (bge-large-zh, bge-m3, all-MiniLM …), loaded offline."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from rag.embed.base import Embedder
from rag.errors import ConfigError

# Query instructions of well-known Chinese retrieval models whose folders do not declare prompts.
_KNOWN_QUERY_PROMPTS = {
    "bge-large-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-base-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-small-zh": "为这个句子生成表示以用于检索相关文章：",
    "e5": "query: ",
}


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, path: str, threads: int = 0, batch_size: int = 16):
        folder = Path(path).expanduser()
        if not path or not (folder / "modules.json").exists() and not (folder / "config.json").exists():
            raise ConfigError(f"RAG_EMBEDDER_PATH must be a local sentence-transformers model folder, got '{path}'")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._query_prompt, self._doc_prompt = self._prompts(folder.name)
        digest = hashlib.sha1(json.dumps(sorted(p.name for p in folder.iterdir())).encode()).hexdigest()[:8]
        self.id = f"st:{folder.name}:{digest}"

    def _prompts(self, name: str) -> tuple[str, str]:
        prompts = getattr(self._model, "prompts", {}) or {}
        q = prompts.get("query") or next((v for k, v in _KNOWN_QUERY_PROMPTS.items() if k in name.lower()), "")
        d = prompts.get("document") or prompts.get("passage") or ("passage: " if q == "query: " else "")
        return q, d

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self._query_prompt if is_query else self._doc_prompt
        with self._lock:
            v = self._model.encode(
                [prefix + t for t in texts],
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(v, dtype=np.float32)
