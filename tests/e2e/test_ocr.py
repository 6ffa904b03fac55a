"""OCR with the real RapidOCR models: a seed paragraph rendered with a CJK font to a PNG, a two-page TIFF and a scanned
PDF (beside a page with a text layer) is read back with character accuracy >= 0.95, page numbers kept."""

from __future__ import annotations

import io
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest

from rag.chunk import ChunkParams, chunk_document
from rag.ingest import load_paths, read_bytes

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _cjk_font() -> Path:
    """RAG_CJK_FONT, else the font fontconfig picks for Simplified Chinese (fonts-noto-cjk on Debian)."""
    if os.environ.get("RAG_CJK_FONT"):
        return Path(os.environ["RAG_CJK_FONT"])
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return Path(out or "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


FONT = _cjk_font()
ACCURACY_FLOOR = 0.95


def seed_paragraph(min_chars: int = 120, max_chars: int = 200) -> str:
    """The first plain paragraph of seed 001 (cleaned, as indexed) of a length that fits one rendered page."""
    [doc] = load_paths([SEEDS / "001_1671bd4fc93f4603.txt"])
    for para in doc.text.split("\n\n"):
        para = para.strip()
        if min_chars <= len(para) <= max_chars and "\n" not in para and "\t" not in para:
            return para
    raise AssertionError("no seed paragraph of the right length")


def render(text: str, width: int = 1000, size: int = 30):  # PIL.Image.Image
    """Black text on white, wrapped to the width, as a scanner at ~150 dpi would see a printed page."""
    from PIL import Image, ImageDraw, ImageFont

    if not FONT.exists() or ("RAG_CJK_FONT" not in os.environ and "CJK" not in FONT.name):
        pytest.fail(f"no CJK font at {FONT}: apt-get install fonts-noto-cjk (or set RAG_CJK_FONT)", pytrace=False)
    font = ImageFont.truetype(str(FONT), size)
    lines, cur = [], ""
    for ch in text:
        if font.getlength(cur + ch) > width:
            lines.append(cur)
            cur = ""
        cur += ch
    lines.append(cur)
    img = Image.new("L", (width + 120, 120 + len(lines) * int(size * 1.6)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(size * 1.6)), line, font=font, fill=0)
    return img


def norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).split())


def char_accuracy(ref: str, hyp: str) -> float:
    """1 - (Levenshtein distance / reference length), on NFKC text without whitespace."""
    a, b = norm(ref), norm(hyp)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1 - prev[-1] / max(1, len(a))


def _bytes(img, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_scanned_png_reads_back_a_seed_paragraph() -> None:
    para = seed_paragraph()
    [doc] = read_bytes(_bytes(render(para), "PNG"), "扫描件.png")
    acc = char_accuracy(para, doc.text)
    print(f"\nOCR character accuracy (PNG, {len(norm(para))} chars): {acc:.4f}")
    assert acc >= ACCURACY_FLOOR, (acc, doc.text)
    assert doc.meta["pages"] == [[0, len(doc.text), 1]] and doc.meta["ocr"] is True
    assert "\n" not in doc.text  # the wrapped lines of one paragraph are joined again


def test_scanned_pdf_pages_are_ocrd_and_keep_their_numbers() -> None:
    from pypdf import PdfReader, PdfWriter

    from tests.unit.test_ingest_formats import PAGE1, make_pdf

    para = seed_paragraph()
    scan = _bytes(render(para).convert("RGB"), "PDF", resolution=150)
    assert not PdfReader(io.BytesIO(scan)).pages[0].extract_text().strip()  # a scan: no text layer at all
    w = PdfWriter()
    w.append(PdfReader(io.BytesIO(make_pdf([PAGE1]))))
    w.append(PdfReader(io.BytesIO(scan)))
    out = io.BytesIO()
    w.write(out)
    [doc] = read_bytes(out.getvalue(), "混合.pdf")
    (s1, e1, p1), (s2, e2, p2) = doc.meta["pages"]
    assert (p1, p2) == (1, 2) and doc.meta["ocr_pages"] == [2]
    assert "11.4 percent" in doc.text[s1:e1]  # the text layer of page 1, not OCR
    acc = char_accuracy(para, doc.text[s2:e2])
    print(f"\nOCR character accuracy (scanned PDF page, {len(norm(para))} chars): {acc:.4f}")
    assert acc >= ACCURACY_FLOOR, (acc, doc.text[s2:e2])
    chunks = chunk_document(doc, ChunkParams(size=60, max=120, overlap=0))
    assert {c.page for c in chunks if c.start >= s2} == {2} and {c.page for c in chunks if c.end <= e1} == {1}


def test_multipage_tiff_is_one_page_per_frame() -> None:
    para = seed_paragraph()
    half = len(para) // 2
    first, second = render(para[:half]), render(para[half:])
    [doc] = read_bytes(_bytes(first, "TIFF", save_all=True, append_images=[second], compression="tiff_lzw"), "两页.tif")
    assert [p[2] for p in doc.meta["pages"]] == [1, 2]
    (s1, e1, _), (s2, e2, _) = doc.meta["pages"]
    assert char_accuracy(para[:half], doc.text[s1:e1]) >= ACCURACY_FLOOR
    assert char_accuracy(para[half:], doc.text[s2:e2]) >= ACCURACY_FLOOR


def test_a_blank_scan_is_a_clear_400() -> None:
    from PIL import Image

    from rag.errors import BadInput

    with pytest.raises(BadInput, match="空白.jpg: OCR found no text"):
        read_bytes(_bytes(Image.new("RGB", (800, 600), "white"), "JPEG"), "空白.jpg")
