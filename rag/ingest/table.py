"""Spreadsheets (.xlsx with openpyxl, .csv): each row becomes a passage carrying its header, as tables in documents do.

A sheet is written as a "# sheet name" heading followed by tab-separated rows, the shape the DOCX and HTML readers give
their tables; the chunker then makes one passage per row with the header line as its context. Merged cells are
un-merged: a header cell merged across columns names each of them (and, over a second header row, prefixes its
labels: "2022年 产值"), and a cell merged down rows (a category) is repeated on each row it covers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from rag.errors import BadInput, RagError, TooLarge, UnsupportedFormat
from rag.ingest.limits import current
from rag.types import Document

# Sheets, rows (all sheets together), columns and cell length: RAG_MAX_TABLE_SHEETS, RAG_MAX_TABLE_ROWS,
# RAG_MAX_TABLE_COLUMNS, RAG_MAX_CELL_CHARS (limits.py)

_WS = re.compile(r"\s+")


def cell_text(v: object, number_format: str = "") -> str:
    """A cell as text: integers without '.0', percentages as shown, dates as ISO dates, whitespace collapsed."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, int | float):
        if "%" in number_format:
            return _number(float(v) * 100) + "%"
        return _number(v)
    return _WS.sub(" ", str(v)).strip()[: current().max_cell_chars]


def _number(v: float | int) -> str:
    if isinstance(v, int) or float(v).is_integer():
        return str(int(v))
    return f"{v:.10f}".rstrip("0").rstrip(".")


def _trim(rows: list[list[str]]) -> list[list[str]]:
    """Rows without empty trailing columns and without empty rows, padded to one width."""
    rows = [r for r in rows if any(c for c in r)]
    width = max((max((i + 1 for i, c in enumerate(r) if c), default=0) for r in rows), default=0)
    return [(r + [""] * width)[:width] for r in rows]


def header_rows(rows: list[list[str]], merged_across: set[int]) -> int:
    """How many leading rows form the header: two when the first has a cell merged across columns (a group label over
    the labels of the second row), else one."""
    return 2 if len(rows) > 2 and 0 in merged_across else 1


def combine_header(rows: list[list[str]], n: int) -> list[str]:
    if n == 1:
        return rows[0]
    out = []
    for top, sub in zip(rows[0], rows[1], strict=True):
        out.append(f"{top} {sub}".strip() if top and sub and top != sub else (sub or top))
    return out


def table_block(rows: list[list[str]], merged_across: set[int] | None = None) -> str:
    """Tab-separated lines: the (combined) header, then the data rows."""
    rows = _trim(rows)
    if not rows:
        return ""
    n = header_rows(rows, merged_across or set())
    lines = ["\t".join(combine_header(rows, n))] + ["\t".join(r) for r in rows[n:]]
    return "\n".join(line.replace("\n", " ") for line in lines)


def _document(blocks: list[tuple[str, str]], name: str, dedup_min_chars: int, title: str = "") -> list[Document]:
    from rag.ingest import content_hash, doc_id_for
    from rag.ingest.clean import clean

    parts = []
    for heading, block in blocks:
        if block:
            parts.append(f"# {heading}\n\n{block}" if heading else block)
    c = clean("\n\n\n".join(parts), dedup_min_chars=1 << 30, html_input=False)  # rows are never de-duplicated
    if not c.text.strip():
        raise BadInput(f"{name}: no cells with text in the spreadsheet")
    meta = dict(c.meta)
    if title:
        meta["title"] = title
    meta["headings"] = [list(h) for h in c.headings]
    return [
        Document(
            doc_id=doc_id_for(name),
            source=Path(name).name,
            title=title or Path(name).stem,
            text=c.text,
            meta=meta,
            content_hash=content_hash(c.text),
        )
    ]


def _too_many_rows(name: str, limit: int) -> str:
    return f"{name}: more than {limit} rows, over the limit of {limit} rows per file (RAG_MAX_TABLE_ROWS)"


def read_xlsx(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    from openpyxl import load_workbook

    from rag.ingest.sniff import check_ooxml

    check_ooxml(data, name, "xl/workbook.xml", "an Excel .xlsx workbook", "另存为 .xlsx 或 .csv")
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)  # cached values of formulas, not the formulas
    except RagError:
        raise
    except Exception as e:
        raise UnsupportedFormat(f"{name}: not a readable .xlsx workbook ({type(e).__name__}: {e})") from e
    lim = current()
    max_rows, max_cols = lim.max_table_rows, lim.max_table_columns
    sheets = wb.worksheets
    if len(sheets) > lim.max_table_sheets:
        raise TooLarge(
            f"{name}: {len(sheets)} sheets is over the limit of {lim.max_table_sheets} (RAG_MAX_TABLE_SHEETS)"
        )
    blocks: list[tuple[str, str]] = []
    total = 0
    for ws in sheets:
        if ws.max_column > max_cols:
            raise TooLarge(
                f"{name}: sheet '{ws.title}' has {ws.max_column} columns, over the limit of {max_cols} "
                "(RAG_MAX_TABLE_COLUMNS)"
            )
        if total + ws.max_row > max_rows + 2 * (len(blocks) + 1):  # (each sheet may have two header rows)
            raise TooLarge(_too_many_rows(name, max_rows))
        rows = [[cell_text(c.value, c.number_format or "") for c in row] for row in ws.iter_rows()]
        first = next((i for i, r in enumerate(rows) if any(r)), None)
        merged_across: set[int] = set()
        for rng in ws.merged_cells.ranges:
            v = rows[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(rows) else ""
            for r in range(rng.min_row - 1, min(rng.max_row, len(rows))):
                for c in range(rng.min_col - 1, min(rng.max_col, len(rows[r]))):
                    rows[r][c] = v
            if (
                first is not None
                and rng.min_row - 1 == first
                and rng.max_col > rng.min_col
                and rng.max_row == rng.min_row
            ):
                merged_across.add(0)
        if first is None:
            continue
        block = table_block(rows[first:], merged_across)
        total += block.count("\n")  # data rows: the lines after the header
        if total > max_rows:
            raise TooLarge(_too_many_rows(name, max_rows))
        blocks.append((ws.title if len(sheets) > 1 or not ws.title.lower().startswith("sheet") else "", block))
    title = (wb.properties.title or "").strip() if wb.properties else ""
    return _document(blocks, name, dedup_min_chars, title)


def read_csv(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    from rag.ingest.decode import decode

    text = decode(data, name)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    rows: list[list[str]] = []
    lim = current()
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            if len(rows) >= lim.max_table_rows + 1:
                raise TooLarge(_too_many_rows(name, lim.max_table_rows))
            if len(row) > lim.max_table_columns:
                raise TooLarge(
                    f"{name}: {len(row)} columns, over the limit of {lim.max_table_columns} (RAG_MAX_TABLE_COLUMNS)"
                )
            rows.append([cell_text(c) for c in row])
    except csv.Error as e:
        raise BadInput(f"{name}: not a readable CSV file ({e})") from e
    return _document([("", table_block(rows))], name, dedup_min_chars)
