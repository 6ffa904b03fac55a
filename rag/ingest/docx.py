"""DOCX reader (python-docx): paragraphs and tables in document order, heading styles as markdown headings.

"Heading 1..6" / "标题 1..6" (and "Title") become "#" lines, so clean() records them as headings; a table becomes
tab-separated rows, which the chunker turns into one passage per row. Paragraphs are separated by two blank lines
so that clean() never re-joins them: in a DOCX a paragraph break is the author's, not a layout accident.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from rag.errors import BadInput, DecodeError, TooLarge, UnsupportedFormat
from rag.ingest import _title, content_hash, doc_id_for
from rag.ingest.clean import clean
from rag.ingest.limits import TextBudget, current
from rag.types import Document

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: a password-protected .docx or a legacy .doc
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-6])$", re.I)


def heading_level(style_name: str) -> int | None:
    """Markdown level for a paragraph style name, or None for body text."""
    name = style_name.strip()
    if name.lower() in ("title", "标题"):
        return 1
    m = _HEADING_STYLE.match(name)
    return int(m.group(1)) if m else None


def _table_rows(table) -> list[str]:  # docx.table.Table
    rows: list[str] = []
    for row in table.rows:
        cells, last = [], None
        for cell in row.cells:
            if cell._tc is last:  # a horizontally merged cell is repeated once per grid column
                continue
            last = cell._tc
            cells.append(re.sub(r"\s+", " ", cell.text).strip())
        if any(cells):
            rows.append("\t".join(cells))
    return rows


def check_package(data: bytes, name: str) -> None:
    """Refuse a zip bomb before python-docx inflates it: the parts' declared sizes (zipfile never reads past them),
    their number, and the XML elements python-docx would build objects for (413, naming the file and the setting)."""
    lim = current()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > lim.max_zip_parts:
                raise TooLarge(
                    f"{name}: {len(infos)} parts in the DOCX package; the limit is {lim.max_zip_parts} "
                    "(RAG_MAX_ZIP_PARTS)"
                )
            total = sum(i.file_size for i in infos)
            if total > lim.max_unzipped_bytes:
                raise TooLarge(
                    f"{name}: {total} bytes decompressed; the limit is {lim.max_unzipped_bytes} "
                    "(RAG_MAX_UNZIPPED_BYTES)"
                )
            elements = 0
            for i in infos:
                if i.filename.lower().endswith((".xml", ".rels")):
                    xml = z.read(i)
                    elements += xml.count(b"<") - xml.count(b"</") - xml.count(b"<?") - xml.count(b"<!")
            if elements > lim.max_docx_elements:
                raise TooLarge(
                    f"{name}: {elements} XML elements; the limit is {lim.max_docx_elements} (RAG_MAX_DOCX_ELEMENTS)"
                )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as e:
        raise UnsupportedFormat(f"{name}: not a readable DOCX file ({type(e).__name__})") from e


def docx_to_markdown(data: bytes, name: str) -> tuple[str, str]:
    """(markdown-ish text, core-properties title) of a DOCX file, within the limits of rag.ingest.limits."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from lxml.etree import LxmlError

    if data[:8] == _OLE:
        raise BadInput(f"{name}: a password-protected DOCX or a legacy Word .doc; save it as an unencrypted .docx")
    check_package(data, name)
    budget = TextBudget(name)
    try:
        d = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in d.iter_inner_content():
            if isinstance(item, Table):
                rows = _table_rows(item)
                if rows:
                    blocks.append(budget.add("\n".join(rows)))
                continue
            text = item.text.strip()
            if not text:
                continue
            level = heading_level(getattr(item.style, "name", "") or "")
            blocks.append(budget.add(f"{'#' * level} {' '.join(text.split())}" if level else text))
        title = (d.core_properties.title or "").strip()
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise UnsupportedFormat(f"{name}: not a readable DOCX file ({type(e).__name__}: {e})") from e
    except LxmlError as e:  # a part that is not well-formed XML
        raise DecodeError(f"{name}: the DOCX holds malformed XML ({type(e).__name__})") from e
    return "\n\n\n".join(blocks), title


def read_docx(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    raw, title = docx_to_markdown(data, name)
    c = clean(raw, dedup_min_chars=dedup_min_chars, html_input=False)
    if not c.text.strip():
        raise BadInput(f"{name}: no text in the document")
    meta = dict(c.meta)
    if title:
        meta["title"] = title
    meta["headings"] = [list(h) for h in c.headings]
    return [
        Document(
            doc_id=doc_id_for(name),
            source=Path(name).name,
            title=_title(meta, c.headings, c.text, name),
            text=c.text,
            meta=meta,
            content_hash=content_hash(c.text),
        )
    ]
