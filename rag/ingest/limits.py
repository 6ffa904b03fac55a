"""What one file may cost to read: set from the settings by whoever reads uploads (read_bytes(limits=…)), and read by
the readers through a context variable, so that a reader's signature stays (data, name, dedup_min_chars).

Each limit is the setting of the same name (RAG_ + its name in capitals); the defaults are the settings' defaults."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, fields

from rag.config import Settings
from rag.errors import TooLarge


def _default(name: str):
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class IngestLimits:
    max_unzipped_bytes: int = _default("max_unzipped_bytes")  # a DOCX, all of its parts decompressed
    max_zip_parts: int = _default("max_zip_parts")  # files inside a DOCX
    max_docx_elements: int = _default("max_docx_elements")
    max_pdf_pages: int = _default("max_pdf_pages")
    max_file_chars: int = _default("max_file_chars")
    max_ooxml_unzipped_bytes: int = _default("max_ooxml_unzipped_bytes")  # an .xlsx or .pptx container
    max_ooxml_parts: int = _default("max_ooxml_parts")
    max_ocr_pages: int = _default("max_ocr_pages")  # pages OCR'd per file (TIFF frames, scanned PDF pages)
    max_ocr_pixels: int = _default("max_ocr_pixels")  # per page image
    max_ocr_seconds: float = _default("max_ocr_seconds")  # OCR time per file, checked between pages
    max_table_sheets: int = _default("max_table_sheets")
    max_table_rows: int = _default("max_table_rows")  # data rows per file, all sheets together
    max_table_columns: int = _default("max_table_columns")
    max_cell_chars: int = _default("max_cell_chars")  # longer cells are cut
    max_slides: int = _default("max_slides")
    max_slide_shapes: int = _default("max_slide_shapes")  # per slide, groups included

    @classmethod
    def unlimited(cls) -> IngestLimits:
        """For the operator's own files (`rag index`, `rag bench`): a BEIR corpus may hold far more than one upload.
        Cells are still cut at the upload length (it shapes passages, it is not a cost)."""
        n = 2**62
        return cls(**{f.name: n for f in fields(cls) if f.name != "max_cell_chars"})

    @classmethod
    def of(cls, s: Settings) -> IngestLimits:
        return cls(**{f.name: getattr(s, f.name) for f in fields(cls)})


CURRENT: ContextVar[IngestLimits | None] = ContextVar("ingest_limits", default=None)


def current() -> IngestLimits:
    return CURRENT.get() or IngestLimits()


def setting(name: str) -> str:
    """The environment variable of a limit, for messages: RAG_MAX_TABLE_ROWS."""
    return f"RAG_{name.upper()}"


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


# OCR seconds spent on the file being read (read_bytes sets a fresh clock per file)
OCR_CLOCK: ContextVar[list[float] | None] = ContextVar("ocr_clock", default=None)


class ocr_timer:
    """Times one OCR call against RAG_MAX_OCR_SECONDS for the current file: refuses before the call once the file's
    OCR time is spent (so a page in progress always finishes), and adds the call's time after it."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> None:
        spent = OCR_CLOCK.get()
        limit = current().max_ocr_seconds
        if spent is not None and spent[0] > limit:
            raise TooLarge(
                f"{self.name}: OCR took more than {limit:g} s ({spent[0]:.1f} s so far) and the file has more pages; "
                "the limit is RAG_MAX_OCR_SECONDS"
            )
        self._t0 = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        spent = OCR_CLOCK.get()
        if spent is not None:
            spent[0] += time.monotonic() - self._t0
