"""PowerPoint .pptx (python-pptx): the text of each slide as one page, so passages never straddle two slides.

A slide's title becomes a "# " heading (the heading path of its passages), its text frames and tables follow in
reading order (top to bottom, then left to right), group shapes included, and its notes come last. Each slide is a page
span ([start, end, slide number]), so a passage cites its slide as a PDF passage cites its page.
"""

from __future__ import annotations

import io
import re

from rag.errors import BadInput, RagError, TooLarge, UnsupportedFormat
from rag.ingest.limits import current
from rag.types import Document

# Slides per file and shapes per slide: RAG_MAX_SLIDES, RAG_MAX_SLIDE_SHAPES (limits.py)

_WS = re.compile(r"[ \t\u3000\xa0]+")


def _shapes(shapes, budget: list[int]) -> list:  # pptx.shapes.SlideShapes
    """Leaf shapes in reading order, groups flattened."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out = []
    for sh in shapes:
        budget[0] -= 1
        if budget[0] < 0:
            raise TooLarge(f"more than {current().max_slide_shapes} shapes on one slide (RAG_MAX_SLIDE_SHAPES)")
        if sh.shape_type == MSO_SHAPE_TYPE.GROUP:
            out.extend(_shapes(sh.shapes, budget))
        else:
            out.append(sh)
    return sorted(out, key=lambda s: ((s.top or 0) // 20000, s.left or 0))  # rows of ~0.5 mm, then left to right


def _frame_text(frame) -> str:  # pptx.text.text.TextFrame
    paras = [_WS.sub(" ", p.text.replace("\v", " ")).strip() for p in frame.paragraphs]
    return "\n".join(p for p in paras if p)


def slide_text(slide, number: int) -> str:  # pptx.slide.Slide
    """One slide as markdown-ish text: '# title' ('# 幻灯片 N' when it has none, so that no passage runs on from the
    slide before), then its text frames and tables, then its notes."""
    title_shape = slide.shapes.title
    title = (
        _WS.sub(" ", title_shape.text_frame.text).strip()
        if title_shape is not None and title_shape.has_text_frame
        else ""
    )
    blocks: list[str] = [f"# {' '.join(title.split())}" if title else f"# 幻灯片 {number}"]
    for sh in _shapes(slide.shapes, [current().max_slide_shapes]):
        if title_shape is not None and sh.shape_id == title_shape.shape_id:
            continue
        if getattr(sh, "has_table", False) and sh.has_table:
            rows = [
                "\t".join(_WS.sub(" ", c.text).replace("\n", " ").strip() for c in row.cells) for row in sh.table.rows
            ]
            rows = [r for r in rows if r.strip()]
            if rows:
                blocks.append("\n".join(rows))
        elif sh.has_text_frame:
            text = _frame_text(sh.text_frame)
            if text:
                blocks.append(text)
    if slide.has_notes_slide:
        notes = (
            _frame_text(slide.notes_slide.notes_text_frame) if slide.notes_slide.notes_text_frame is not None else ""
        )
        if notes:
            blocks.append(notes)
    return "\n\n\n".join(blocks) if len(blocks) > 1 else ""


def read_pptx(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    from pptx import Presentation

    from rag.ingest import _title, one_document
    from rag.ingest.pdf import assemble_pages
    from rag.ingest.sniff import check_ooxml

    check_ooxml(data, name, "ppt/presentation.xml", "a PowerPoint .pptx presentation", "另存为 .pptx 或 PDF")
    try:
        prs = Presentation(io.BytesIO(data))
        slides = list(prs.slides)
        if len(slides) > current().max_slides:
            raise TooLarge(f"{name}: {len(slides)} slides is over the limit of {current().max_slides} (RAG_MAX_SLIDES)")
        try:
            pages = [slide_text(s, i) for i, s in enumerate(slides, 1)]
        except TooLarge as e:
            raise TooLarge(f"{name}: {e.message}") from e
        title = (prs.core_properties.title or "").strip()
    except RagError:
        raise
    except Exception as e:
        raise UnsupportedFormat(f"{name}: not a readable .pptx presentation ({type(e).__name__}: {e})") from e
    p = assemble_pages(pages, dedup_min_chars)
    if not p.text.strip():
        raise BadInput(f"{name}: no text on any slide")
    meta: dict = {"pages": p.pages, "page_count": len(pages), "slides": len(pages), "headings": p.headings}
    if title:
        meta["title"] = title
    return one_document(name, p.text, _title(meta, p.headings, p.text, name), meta)
