"""OCR (RapidOCR on onnxruntime, Chinese models shipped in the wheel): images, and PDF pages without a text layer.

An image is read page by page (a multi-page TIFF has several), each page's recognised lines are put back in reading
order (top to bottom, left to right within a line), and the pages are assembled as the PDF reader assembles its pages,
so each passage keeps its page number.
"""

from __future__ import annotations

import io
import re
import threading

from rag.errors import BadInput, ConfigError, TooLarge, UnsupportedFormat
from rag.ingest.limits import current, ocr_timer
from rag.types import Document

# Pixels per page, pages and seconds per file: RAG_MAX_OCR_PIXELS, RAG_MAX_OCR_PAGES, RAG_MAX_OCR_SECONDS (limits.py)
MIN_SIDE = 16
MIN_SCORE = 0.5  # recognised lines below this confidence are dropped

_engine = None
_lock = threading.Lock()  # one recognition at a time: the ONNX sessions already use every core

CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def _ocr():  # rapidocr_onnxruntime.RapidOCR
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:  # pragma: no cover - a dependency of the package
            raise ConfigError(f"OCR needs rapidocr-onnxruntime: pip install rapidocr-onnxruntime ({e})") from e
        _no_spinning()
        _engine = RapidOCR()
    return _engine


def _no_spinning() -> None:
    """onnxruntime's worker threads spin between operators by default; on a shared 2-core host that burns the CPU the
    other threads (queries, embedding) need. Without it, on the 2-core AMD EPYC dev host under load (5 runs each):
    median CPU time per page 3.6 s instead of 6.2 s, wall 15 s instead of 22 s.
    RapidOCR builds its sessions in one static method; if that changes, OCR still works, spinning."""
    try:
        from rapidocr_onnxruntime.utils import infer_engine
    except ImportError:
        return
    cls = infer_engine.OrtInferSession
    build = getattr(cls, "_init_sess_opts", None)
    if build is None or getattr(build, "_rag_no_spin", False):
        return

    def init_sess_opts(config):
        opts = build(config)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        return opts

    init_sess_opts._rag_no_spin = True  # type: ignore[attr-defined]
    cls._init_sess_opts = staticmethod(init_sess_opts)


def _join(a: str, b: str) -> str:
    """Two pieces of one wrapped line or paragraph: no space between Chinese characters, one between Latin words."""
    if not a or not b:
        return a + b
    return a + b if CJK_RE.match(a[-1]) or CJK_RE.match(b[0]) else a + " " + b


def paragraphs(result: list) -> list[str]:
    """RapidOCR's [(box, text, score)] as paragraphs in reading order.

    Boxes whose vertical centres are within half a line height are one line, read left to right. A new paragraph
    starts after a gap taller than 0.8 lines, at an indented line, or after a line that stops well short of the
    right margin; the wrapped lines of a paragraph are joined (without a space between Chinese characters)."""
    items = []
    for box, text, score in result or []:
        if float(score) < MIN_SCORE or not str(text).strip():
            continue
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), max(xs), str(text).strip()))
    if not items:
        return []
    items.sort()
    rows: list[list] = []  # [y, height, left, right, [(x, text)]]
    for y, h, x0, x1, text in items:
        if rows and abs(y - rows[-1][0]) <= max(h, rows[-1][1]) / 2:
            r = rows[-1]
            r[2], r[3] = min(r[2], x0), max(r[3], x1)
            r[4].append((x0, text))
        else:
            rows.append([y, h, x0, x1, [(x0, text)]])
    left = min(r[2] for r in rows)
    right = max(r[3] for r in rows)
    paras: list[str] = []
    prev = None
    for r in rows:
        line = ""
        for _, t in sorted(r[4]):
            line = _join(line, t)
        h = r[1] or 1.0
        new = (
            prev is None
            or (r[0] - prev[0] - (h + prev[1]) / 2 > 0.8 * h)
            or r[2] - left > 1.2 * h
            or right - prev[3] > 2.5 * h
        )
        if new:
            paras.append(line)
        else:
            paras[-1] = _join(paras[-1], line)
        prev = r
    return paras


def ocr_image(image, name: str) -> str:  # PIL.Image.Image
    """The text of one page image, its paragraphs separated by a blank line."""
    import numpy as np

    w, h = image.size
    limit = current().max_ocr_pixels
    if w * h > limit:
        raise TooLarge(f"{name}: image of {w}×{h} pixels is over the OCR limit of {limit} pixels (RAG_MAX_OCR_PIXELS)")
    if min(w, h) < MIN_SIDE:
        return ""
    arr = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()  # RapidOCR takes BGR arrays, as OpenCV reads them
    with _lock, ocr_timer(name):
        result, _ = _ocr()(arr)
    return "\n\n".join(paragraphs(result or []))


def _open_image(data: bytes, name: str):  # PIL.Image.Image
    from PIL import Image, UnidentifiedImageError

    if not data.startswith(_IMAGE_MAGIC):
        raise UnsupportedFormat(f"{name}: not a PNG, JPEG or TIFF image")
    try:
        with _pixel_limit():
            img = Image.open(io.BytesIO(data))
            img.size  # noqa: B018 - the header is parsed here
        return img
    except Image.DecompressionBombError as e:
        raise TooLarge(
            f"{name}: image is over the OCR limit of {current().max_ocr_pixels} pixels (RAG_MAX_OCR_PIXELS)"
        ) from e
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise UnsupportedFormat(f"{name}: not a readable image ({type(e).__name__}: {e})") from e


_pixels_lock = threading.RLock()


class _pixel_limit:
    """Pillow's own bomb check at our limit while an image is opened or decoded. It is a process-wide setting, so one
    thread at a time changes and restores it."""

    def __enter__(self) -> None:
        from PIL import Image

        _pixels_lock.acquire()
        self._old, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, current().max_ocr_pixels

    def __exit__(self, *exc: object) -> None:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = self._old
        _pixels_lock.release()


def image_pages(data: bytes, name: str) -> list[str]:
    """OCR text of each page (frame) of a PNG, JPEG or TIFF file."""
    from PIL import ImageSequence

    img = _open_image(data, name)
    n = getattr(img, "n_frames", 1)
    limit = current().max_ocr_pages
    if n > limit:
        raise TooLarge(f"{name}: {n} pages is over the OCR limit of {limit} pages per file (RAG_MAX_OCR_PAGES)")
    pages: list[str] = []
    try:
        for frame in ImageSequence.Iterator(img):
            with _pixel_limit():
                page = frame.copy()  # decoded here, under the limit
            pages.append(ocr_image(page, name))
    except (OSError, ValueError, SyntaxError) as e:
        raise UnsupportedFormat(f"{name}: could not decode page {len(pages) + 1} ({type(e).__name__}: {e})") from e
    return pages


def pdf_page_text(page, name: str, number: int) -> str:  # pypdf.PageObject
    """OCR of a PDF page without a text layer: its embedded images (a scan is one image per page), top to bottom."""
    from PIL import Image

    texts: list[str] = []
    try:
        images = list(page.images)
    except Exception as e:
        raise UnsupportedFormat(f"{name}: could not read the images of page {number} ({type(e).__name__}: {e})") from e
    for im in images:
        try:
            with _pixel_limit():
                pil = im.image if im.image is not None else Image.open(io.BytesIO(im.data))
                pil.load()
            texts.append(ocr_image(pil, name))
        except Image.DecompressionBombError as e:
            raise TooLarge(
                f"{name}: an image on page {number} is over the OCR limit of {current().max_ocr_pixels} pixels "
                "(RAG_MAX_OCR_PIXELS)"
            ) from e
        except (OSError, ValueError, SyntaxError):
            continue  # an image Pillow cannot decode (a mask, an exotic filter) holds no text we can read
    return "\n\n".join(t for t in texts if t.strip())


def fill_scanned_pages(pages, texts: list[str], name: str) -> list[int]:  # pypdf page list
    """OCR the pages whose text layer is empty (texts[i] == ""), in place; the page numbers that had images to read.
    At most RAG_MAX_OCR_PAGES pages with images are read: a longer scan is refused before any OCR (blank pages are
    free)."""
    todo = []
    for i, t in enumerate(texts):
        if t.strip():
            continue
        try:
            has_images = bool(pages[i].images)
        except Exception:  # noqa: BLE001 - a damaged image list: pdf_page_text reports it
            has_images = True
        if has_images:
            todo.append(i)
    limit = current().max_ocr_pages
    if len(todo) > limit:
        raise TooLarge(
            f"{name}: {len(todo)} scanned pages (no text layer) is over the OCR limit of {limit} pages per file "
            "(RAG_MAX_OCR_PAGES)"
        )
    for i in todo:
        texts[i] = pdf_page_text(pages[i], name, i + 1)
    return [i + 1 for i in todo]


def read_image(data: bytes, name: str, dedup_min_chars: int) -> list[Document]:
    from rag.ingest import _title, one_document
    from rag.ingest.pdf import assemble_pages

    pages = image_pages(data, name)
    p = assemble_pages(pages, dedup_min_chars)
    if not p.text.strip():
        raise BadInput(f"{name}: OCR found no text in the image")
    meta: dict = {"pages": p.pages, "page_count": len(pages), "headings": p.headings, "ocr": True}
    return one_document(name, p.text, _title(meta, p.headings, p.text, name), meta)
