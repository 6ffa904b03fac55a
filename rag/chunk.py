"""Sentence- and table-aware chunking with exact offsets into the cleaned text.

Invariant: document.text[chunk.start:chunk.end] == chunk.text for every chunk.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass

from rag.types import Chunk, Document
from rag.zh import clause_spans, sentence_spans

# Bumped whenever the same text would be cut differently; an index built by another version is re-chunked.
# 2: a table-of-contents line is never a table header. 3: table-of-contents lines are not passages.
# 4: nor part of one in running text (a TOC line between sentences used to be packed into their passage).
CHUNKER_VERSION = 4


@dataclass(frozen=True)
class ChunkParams:
    size: int = 300
    max: int = 500
    overlap: int = 60

    def as_dict(self) -> dict[str, int]:
        return {"size": self.size, "max": self.max, "overlap": self.overlap, "version": CHUNKER_VERSION}


@dataclass
class _Block:
    start: int
    end: int
    heading: str  # the heading path in force
    section: int  # increments at every heading, so chunks never straddle one


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    h = hashlib.sha1(f"{start}:{end}:{text}".encode()).hexdigest()[:10]
    return f"{doc_id}#{h}"


def _blocks(doc: Document) -> list[_Block]:
    """Paragraph blocks of the cleaned text with their heading path; heading lines themselves are dropped."""
    text = doc.text
    headings = sorted((tuple(h) for h in doc.meta.get("headings", [])), key=lambda h: h[0])
    heading_at = {h[0]: h for h in headings}
    stack: list[tuple[int, str]] = []
    section = 0
    out: list[_Block] = []
    pos = 0
    while pos < len(text):
        nxt = text.find("\n\n", pos)
        end = len(text) if nxt < 0 else nxt
        if end > pos:
            h = heading_at.get(pos)
            if h is not None:
                level = int(h[2])
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, str(h[3])))
                section += 1
            else:
                out.append(_Block(pos, end, " > ".join(t for _, t in stack), section))
        pos = end + 2 if nxt >= 0 else len(text)
    return out


def _is_table(text: str, b: _Block) -> bool:
    lines = text[b.start : b.end].split("\n")
    return len(lines) >= 2 and sum("\t" in ln for ln in lines) >= max(2, len(lines) - 1)


def chunk_document(doc: Document, params: ChunkParams) -> list[Chunk]:
    text = doc.text
    chunks: list[Chunk] = []
    header = ""
    pending: list[tuple[int, int]] = []  # sentence spans waiting to be packed, all in one section
    pending_block: _Block | None = None

    def flush() -> None:
        nonlocal pending
        if pending and pending_block is not None:
            chunks.extend(_pack(doc, pending, pending_block.heading, params))
        pending = []

    for b in _blocks(doc):
        if pending_block is not None and b.section != pending_block.section:
            flush()
        if _is_table(text, b):
            flush()
            header = _table_rows(doc, b, header, params, chunks)
            pending_block = b
            continue
        pending_block = b
        for i, (s, e) in enumerate(_runs_without_toc(text, b.start, b.end)):
            if i:
                flush()  # no passage spans a table-of-contents line it leaves out
            pending.extend(sentence_spans(text, s, e))
    flush()
    _set_pages(doc, chunks)
    return chunks


def _set_pages(doc: Document, chunks: list[Chunk]) -> None:
    """A paged document (PDF) records [start, end, page] spans; a chunk's page is the one its start falls in."""
    pages = doc.meta.get("pages")
    if not pages:
        return
    starts = [int(p[0]) for p in pages]
    for c in chunks:
        c.page = int(pages[max(bisect_right(starts, c.start) - 1, 0)][2])


def _table_rows(doc: Document, b: _Block, header: str, params: ChunkParams, out: list[Chunk]) -> str:
    """Each row its own passage, carrying the table's header line (repeated headers across pages are reused)."""
    text = doc.text
    pos = b.start
    orphan: tuple[int, int] | None = None  # a header line no row has followed yet

    def keep_orphan() -> None:
        if orphan is not None:
            s0, e0 = orphan
            out.append(Chunk(chunk_id(doc.doc_id, s0, e0, text[s0:e0]), doc.doc_id, text[s0:e0], s0, e0, b.heading))

    for line in text[b.start : b.end].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        if not line.strip():
            continue
        if is_toc_entry(line):
            continue
        first = line.split("\t", 1)[0].strip()
        if "\t" in line and not first[:1].isdigit() and not header_like_row(header, line):
            keep_orphan()
            header, orphan = line, (s, e)
            continue
        orphan = None
        if e - s <= params.max:
            out.append(Chunk(chunk_id(doc.doc_id, s, e, line), doc.doc_id, line, s, e, b.heading, header, "table_row"))
            continue
        cells = line.split("\t")
        row_key = "\t".join(cells[:2])
        ctx = f"{header}\n{row_key}" if header else row_key
        for c in _pack(doc, sentence_spans(text, s, e), b.heading, params):
            c.context, c.kind = ctx, "table_row"
            out.append(c)
    keep_orphan()
    return header


# a table-of-contents entry: a dot leader then a page number
# ("……通知 洪府发[2021]14号 ..... 4", "(一) 指导思想.....\t22")
_TOC_ENTRY = re.compile(r"(?:\.{4,}|…{2,}|·{4,})\s*\d{1,4}(?:\s|$)")


def is_toc_entry(line: str) -> bool:
    """A table-of-contents line only points to where the text is: it is not indexed. Its titles are the headings
    of the passages it points to, and as passages of their own they outranked those passages for any question
    naming the section."""
    entries = len(_TOC_ENTRY.findall(line))
    return entries > 0 and len(_TOC_ENTRY.sub("", line)) <= 120 * entries


def _runs_without_toc(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """text[start:end] as the runs of lines between its table-of-contents lines."""
    runs: list[tuple[int, int]] = []
    run, pos = start, start
    for line in text[start:end].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        if is_toc_entry(line):
            runs.append((run, s))
            run = min(e + 1, end)
    runs.append((run, end))
    return [(s, e) for s, e in runs if text[s:e].strip()]


def header_like_row(header: str, line: str) -> bool:
    """A data row whose first cell is text (not a number) when a header is already known."""
    return bool(header) and line.count("\t") == header.count("\t") and line != header


def _split_long(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    if e - s <= limit:
        return [(s, e)]
    out: list[tuple[int, int]] = []
    for cs, ce in clause_spans(text, s, e):
        while ce - cs > limit:
            out.append((cs, cs + limit))
            cs += limit
        out.append((cs, ce))
    return out


def _pack(doc: Document, spans: list[tuple[int, int]], heading: str, params: ChunkParams) -> list[Chunk]:
    """Greedy packing of sentences up to `size` (never past `max`), with up to `overlap` chars carried over."""
    text = doc.text
    units: list[tuple[int, int]] = []
    for s, e in spans:
        units.extend(_split_long(text, s, e, params.max))
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        start = units[i][0]
        j = i
        end = units[i][1]
        while j + 1 < len(units) and units[j + 1][1] - start <= params.max and end - start < params.size:
            j += 1
            end = units[j][1]
        piece = text[start:end]
        chunks.append(Chunk(chunk_id(doc.doc_id, start, end, piece), doc.doc_id, piece, start, end, heading))
        if j + 1 >= len(units):
            break
        # carry the last sentences (up to `overlap` chars) into the next chunk
        k = j + 1
        while k - 1 > i and units[j][1] - units[k - 1][0] <= params.overlap:
            k -= 1
        i = k
    return chunks
