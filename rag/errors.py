"""Domain errors. Translated to HTTP in rag.api.errors and to exit codes in rag.cli, nowhere else."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the package raises on purpose."""

    code = "rag_error"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConfigError(RagError):
    code = "config_error"
    status = 500


class MissingExtra(ConfigError):
    """An optional part was asked for whose libraries are not installed (`pip install 'rag-zh[eval]'`)."""

    code = "missing_extra"
    status = 500


class BadInput(RagError):
    code = "bad_input"
    status = 400


class TooLarge(BadInput):
    code = "too_large"
    status = 413


class UnsupportedFormat(BadInput):
    code = "unsupported_format"
    status = 415


class DecodeError(BadInput):
    code = "decode_error"
    status = 422


class NotFound(RagError):
    code = "not_found"
    status = 404


class IndexNotFound(NotFound):
    code = "index_not_found"
    status = 404


class IndexMismatch(RagError):
    code = "index_mismatch"
    status = 409


class IndexBusy(RagError):
    """Another writer holds the collection's lock; writes are never queued behind one another silently."""

    code = "index_busy"
    status = 409


class Conflict(RagError):
    """An upload would replace a document that came from another file (ask for it with ?replace=true)."""

    code = "conflict"
    status = 409


class StoreUnavailable(RagError):
    """The store cannot serve: Milvus unreachable, a Milvus Lite file open in another process, a collection that will
    not load. Retrying later (or fixing the deployment) helps; the request itself was fine."""

    code = "store_unavailable"
    status = 503


class TooManyJobs(RagError):
    """The background indexing queue is full (rag.jobs); the client should retry later."""

    code = "too_many_jobs"
    status = 429


class Unauthorized(RagError):
    code = "unauthorized"
    status = 401


class Forbidden(RagError):
    code = "forbidden"
    status = 403


class GenerationError(RagError):
    code = "generation_error"
    status = 502


class GenerationTimeout(GenerationError):
    """The model ran past its time budget (RAG_LLM_TIMEOUT_S); the pipeline answers extractively instead."""

    code = "generation_timeout"
    status = 504
