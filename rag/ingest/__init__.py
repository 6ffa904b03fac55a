"""Ingestion: files, folders and BEIR corpora -> Documents with cleaned text.

One reader per format (text, markdown and html here; pdf.py; docx.py; table.py for .xlsx and .csv; pptx.py; ocr.py
for images; BEIR corpus.jsonl), chosen by file extension; an unknown extension fails listing the known ones, and
legacy .doc/.wps/.xls/.ppt files are refused saying what to save them as.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.errors import BadInput, UnsupportedFormat
from rag.ingest.clean import clean
from rag.ingest.decode import decode
from rag.ingest.limits import CURRENT, OCR_CLOCK, IngestLimits, TextBudget
from rag.ingest.sniff import LEGACY, check_content, reject_legacy, safe_name
from rag.types import Document

Reader = Callable[[bytes, str, int], list[Document]]

_SLUG = re.compile(r"[^\w.\-]+")
# A document id is one URL path segment that any client can send back (GET/DELETE /documents/{doc_id}): letters and
# digits of any script, _ . - ~ :, at most 200 characters, not "." or "..".
DOC_ID = re.compile(r"(?!\.{1,2}\Z)[\w.~:-]{1,200}")


def check_doc_id(doc_id: str, name: str = "") -> str:
    if not isinstance(doc_id, str) or not DOC_ID.fullmatch(doc_id):
        where = f"{name}: " if name else ""
        raise BadInput(
            f"{where}invalid document id {doc_id[:40]!r}{'…' if len(str(doc_id)) > 40 else ''}: use 1-200 letters, "
            "digits, _ . - ~ or :"
        )
    return doc_id


def doc_id_for(name: str) -> str:
    """Stable id from a file name: its stem with unsafe characters replaced."""
    stem = Path(name).stem or "doc"
    slug = _SLUG.sub("_", stem).strip("._") or "doc"
    if slug != stem:
        slug = f"{slug}-{hashlib.sha1(stem.encode()).hexdigest()[:6]}"
    return slug[:120]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _title(meta: dict, headings: list, text: str, name: str) -> str:
    if meta.get("title"):
        return str(meta["title"]).strip()
    if headings and headings[0][0] < 400:
        return headings[0][3]
    for line in text.split("\n"):
        line = line.strip()
        if 4 <= len(line) <= 60 and not line.startswith(("☆", "◎")):
            return line
    return Path(name).stem


def one_document(name: str, text: str, title: str, meta: dict) -> list[Document]:
    """The one document a file makes (PDF, scanned image, slides): its id and hash from the name and text."""
    return [
        Document(
            doc_id=doc_id_for(name),
            source=Path(name).name,
            title=title,
            text=text,
            meta=meta,
            content_hash=content_hash(text),
        )
    ]


def read_text(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    raw = decode(data, name)
    html_input = True if name.lower().endswith((".html", ".htm")) else None
    c = clean(raw, dedup_min_chars=dedup_min_chars, html_input=html_input)
    if not c.text.strip():
        raise BadInput(f"{name}: no text left after cleaning")
    meta = dict(c.meta)
    meta["headings"] = [list(h) for h in c.headings]
    return [
        Document(
            doc_id=doc_id_for(name),
            source=Path(name).name,
            title=_title(c.meta, c.headings, c.text, name),
            text=c.text,
            meta=meta,
            content_hash=content_hash(c.text),
        )
    ]


def read_beir(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    """A BEIR corpus.jsonl: one document per line; `_id` becomes the doc_id."""
    docs: list[Document] = []
    for i, line in enumerate(decode(data, name).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            did, text = str(row["_id"]), str(row.get("text", ""))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise BadInput(f"{name}:{i}: not a BEIR corpus line ({e})") from e
        check_doc_id(did, f"{name}:{i}")
        c = clean(text, dedup_min_chars=dedup_min_chars, html_input=False)
        if not c.text.strip():
            continue
        title = str(row.get("title") or "")
        docs.append(
            Document(
                doc_id=did,
                source=Path(name).name,
                title=title or did,
                text=c.text,
                meta={"headings": [list(h) for h in c.headings]},
                content_hash=content_hash(title + c.text),
            )
        )
    return docs


# Imported here, not at the top: these readers use the helpers above.
from rag.ingest.docx import read_docx  # noqa: E402
from rag.ingest.ocr import read_image  # noqa: E402
from rag.ingest.pdf import read_pdf  # noqa: E402
from rag.ingest.pptx import read_pptx  # noqa: E402
from rag.ingest.table import read_csv, read_xlsx  # noqa: E402

READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_text,
    ".markdown": read_text,
    ".html": read_text,
    ".htm": read_text,
    ".jsonl": read_beir,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".xlsx": read_xlsx,
    ".csv": read_csv,
    ".pptx": read_pptx,
    ".png": read_image,
    ".jpg": read_image,
    ".jpeg": read_image,
    ".tif": read_image,
    ".tiff": read_image,
}
KNOWN = {**READERS, **dict.fromkeys(LEGACY, reject_legacy)}  # extensions recognised, legacy ones to refuse clearly


def read_bytes(data: bytes, name: str, dedup_min_chars: int = 50, limits: IngestLimits | None = None) -> list[Document]:
    """Read one uploaded or on-disk file; the extension picks the reader, and the content must match it.

    `limits` (default: IngestLimits(), the upload defaults) bound what the file may cost: decompressed size and parts
    of a DOCX, pages of a PDF, OCR pages, pixels and seconds, rows of a spreadsheet, slides, characters of text (413
    naming the file and the setting). Every document id is checked (check_doc_id)."""
    name = safe_name(name)
    ext = Path(name).suffix.lower()
    reader = KNOWN.get(ext)
    if reader is None:
        raise UnsupportedFormat(
            f"{name}: unsupported file type '{ext or '(none)'}'; supported: {', '.join(sorted(READERS))}"
        )
    check_content(data, ext, name)
    token = CURRENT.set(limits or IngestLimits())
    clock = OCR_CLOCK.set([0.0])
    try:
        docs = reader(data, name, dedup_min_chars)
        budget = TextBudget(name)
        for d in docs:
            budget.add(d.text)
            check_doc_id(d.doc_id, name)
    finally:
        OCR_CLOCK.reset(clock)
        CURRENT.reset(token)
    return docs


def iter_files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in READERS and not f.name.startswith(".") and f.name != "README.md":
                    yield f
        elif p.is_file():
            yield p
        else:
            raise BadInput(f"{p}: no such file or folder")


def load_paths(paths: list[Path], dedup_min_chars: int = 50, limits: IngestLimits | None = None) -> list[Document]:
    """The operator's files and folders (`rag index`): no size limits unless given; ids are checked all the same."""
    docs: list[Document] = []
    for f in iter_files(paths):
        docs.extend(read_bytes(f.read_bytes(), f.name, dedup_min_chars, limits or IngestLimits.unlimited()))
    return docs
