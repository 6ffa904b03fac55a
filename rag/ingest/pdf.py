"""PDF reader (pypdf): the text layer page by page, cleaned, with each page's span in the cleaned text.

Each page is cleaned on its own (so a page break is always a paragraph break and page offsets are exact) and the
cleaned pages are joined with a blank line; headings are shifted to the joined text and a long paragraph repeated
on a later page is kept once, as clean() does within one text.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field

from rag.errors import BadInput, TooLarge, UnsupportedFormat
from rag.ingest import _title, ocr, one_document
from rag.ingest.clean import clean
from rag.ingest.limits import TextBudget, current
from rag.types import Document

log = logging.getLogger("rag.ingest")


@dataclass
class Paged:
    text: str
    headings: list[list] = field(default_factory=list)  # [start, end, level, text], as clean() records them
    pages: list[list[int]] = field(default_factory=list)  # [start, end, page_number] into text; empty pages omitted


def assemble_pages(pages: list[str], dedup_min_chars: int = 50) -> Paged:
    """Clean each page and join the cleaned pages with a blank line, keeping page spans and heading offsets exact."""
    parts: list[str] = []
    headings: list[list] = []
    spans: list[list[int]] = []
    seen: set[str] = set()
    pos = 0
    for number, raw in enumerate(pages, 1):
        c = clean(raw, dedup_min_chars=dedup_min_chars, html_input=False)
        heading_at = {h[0]: h for h in c.headings}
        page_start: int | None = None
        offset = 0  # where the current paragraph starts in this page's cleaned text
        for para in c.text.split("\n\n"):
            here, offset = offset, offset + len(para) + 2
            if not para:
                continue
            h = heading_at.get(here)
            if h is None and len(para) >= dedup_min_chars:
                key = re.sub(r"\s+", "", para)
                if key in seen:  # a paragraph an earlier page already had (clean() dedups within a page)
                    continue
                seen.add(key)
            if parts:
                pos += 2
            if page_start is None:
                page_start = pos
            if h is not None:
                headings.append([pos, pos + len(para), h[2], h[3]])
            parts.append(para)
            pos += len(para)
        if page_start is not None:
            spans.append([page_start, pos, number])
    return Paged(text="\n\n".join(parts), headings=headings, pages=spans)


def _open(data: bytes, name: str):  # pypdf.PdfReader
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise UnsupportedFormat(f"{name}: not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")  # an owner password alone still lets anyone read the text
            except (DependencyError, NotImplementedError) as e:
                raise BadInput(
                    f"{name}: the PDF is encrypted and cannot be decrypted here ({e}); upload an unencrypted copy"
                ) from e
            if not ok:
                raise BadInput(f"{name}: the PDF is password-protected; upload an unencrypted copy")
        return reader
    except BadInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as e:
        raise UnsupportedFormat(f"{name}: not a readable PDF ({type(e).__name__}: {e})") from e


def read_pdf(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    reader = _open(data, name)
    texts: list[str] = []
    budget = TextBudget(name)
    try:
        pages = len(reader.pages)
        if pages > current().max_pdf_pages:
            raise TooLarge(f"{name}: {pages} pages; the limit is {current().max_pdf_pages} (RAG_MAX_PDF_PAGES)")
        for page in reader.pages:
            texts.append(budget.add(page.extract_text() or ""))
    except BadInput:
        raise
    except Exception as e:
        raise UnsupportedFormat(
            f"{name}: could not read the PDF's text (page {len(texts) + 1}: {type(e).__name__}: {e})"
        ) from e
    scanned = ocr.fill_scanned_pages(reader.pages, texts, name)  # pages without a text layer: OCR of their images
    p = assemble_pages(texts, dedup_min_chars)
    if not p.text.strip():
        raise BadInput(f"{name}: the PDF has no text layer and OCR found no text in it")
    meta: dict = {"pages": p.pages, "page_count": len(texts), "headings": p.headings}
    if scanned:
        meta["ocr_pages"] = scanned
    try:
        info_title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # noqa: BLE001 - a broken info dictionary is not worth rejecting the file for
        info_title = ""
    if info_title:
        meta["title"] = info_title
    # a title line must be near the top of the first page: a short line deeper in is a caption or a footer
    top = "\n".join(p.text[: p.pages[0][1]].split("\n")[:8])
    title = _title(meta, p.headings, top, name)
    return one_document(name, p.text, title, meta)
