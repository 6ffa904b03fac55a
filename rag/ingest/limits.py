"""What one file may cost to read: set from the settings by whoever reads uploads (read_bytes(limits=…)), and read by
the readers through a context variable, so that a reader's signature stays (data, name, dedup_min_chars)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from rag.config import Settings
from rag.errors import TooLarge


@dataclass(frozen=True)
class IngestLimits:
    max_unzipped_bytes: int = 64 * 1024 * 1024  # RAG_MAX_UNZIPPED_BYTES
    max_zip_parts: int = 1000  # RAG_MAX_ZIP_PARTS
    max_docx_elements: int = 500_000  # RAG_MAX_DOCX_ELEMENTS
    max_pdf_pages: int = 2000  # RAG_MAX_PDF_PAGES
    max_file_chars: int = 2_000_000  # RAG_MAX_FILE_CHARS

    @classmethod
    def of(cls, s: Settings) -> IngestLimits:
        return cls(s.max_unzipped_bytes, s.max_zip_parts, s.max_docx_elements, s.max_pdf_pages, s.max_file_chars)


CURRENT: ContextVar[IngestLimits | None] = ContextVar("ingest_limits", default=None)


def current() -> IngestLimits:
    return CURRENT.get() or IngestLimits()


class TextBudget:
    """Counts the characters a reader extracts from one file and refuses the file once it passes RAG_MAX_FILE_CHARS."""

    def __init__(self, name: str, limit: int | None = None):
        self.name = name
        self.limit = current().max_file_chars if limit is None else limit
        self.used = 0

    def add(self, text: str) -> str:
        self.used += len(text)
        if self.used > self.limit:
            raise TooLarge(f"{self.name}: more than {self.limit} characters of text (RAG_MAX_FILE_CHARS)")
        return text
