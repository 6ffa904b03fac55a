"""Uploads are checked by content, not only by extension, and their names are reduced to a safe base name."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import PurePosixPath

from rag.errors import TooLarge, UnsupportedFormat
from rag.ingest.limits import current

# (magic bytes at offset 0, what the content is)
_MAGIC: tuple[tuple[bytes, str], ...] = (  # signatures long enough never to start a text file
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or DOCX/XLSX)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office (OLE) file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an Ogg media file"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"\x00asm", "a WebAssembly module"),
    (b"\xca\xfe\xba\xbe", "a Java class or Mach-O file"),
)
_TEXT_KINDS = {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".jsonl", ".csv"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def content_kind(data: bytes) -> str | None:
    """What a file's first bytes say it is, when they name a binary format; None for anything else."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[4:8] == b"ftyp":
        return "an MP4/MOV media file"
    return None


def check_content(data: bytes, ext: str, name: str) -> None:
    """Reject a binary format under a text extension (a PNG named .txt); the PDF and DOCX readers check their own."""
    kind = content_kind(data) if ext in _TEXT_KINDS else None
    if kind:
        raise UnsupportedFormat(f"{name}: the content is {kind}, not a {ext} text file")


def check_ooxml(data: bytes, name: str, main_part: str, what: str, save_as: str) -> None:
    """An Office Open XML file (.xlsx, .pptx): a ZIP holding `main_part`, within the part and size budgets."""
    if data[:8] == _OLE:
        raise UnsupportedFormat(
            f"{name}: 这是加密的或旧版（.xls/.ppt）Office 文件，无法读取；请{save_as}（不加密）后再上传"
        )
    if not data.startswith(b"PK\x03\x04"):
        kind = content_kind(data)
        raise UnsupportedFormat(f"{name}: not {what}" + (f" (the content is {kind})" if kind else ""))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise UnsupportedFormat(f"{name}: not {what} (a damaged ZIP container: {e})") from e
    lim = current()  # a zip bomb is refused before anything is decompressed
    if len(infos) > lim.max_ooxml_parts:
        raise TooLarge(f"{name}: {len(infos)} parts is over the limit of {lim.max_ooxml_parts} (RAG_MAX_OOXML_PARTS)")
    unzipped = sum(i.file_size for i in infos)
    if unzipped > lim.max_ooxml_unzipped_bytes:
        raise TooLarge(
            f"{name}: {unzipped} bytes uncompressed is over the limit of {lim.max_ooxml_unzipped_bytes} bytes "
            "(RAG_MAX_OOXML_UNZIPPED_BYTES)"
        )
    if main_part not in names:
        raise UnsupportedFormat(f"{name}: not {what} (no {main_part} inside)")


LEGACY = {
    ".doc": "Word",
    ".wps": "WPS 文字",
    ".xls": "Excel",
    ".et": "WPS 表格",
    ".ppt": "PowerPoint",
    ".dps": "WPS 演示",
}
_SAVE_AS = {
    ".doc": ".docx 或 PDF",
    ".wps": ".docx 或 PDF",
    ".xls": ".xlsx 或 .csv",
    ".et": ".xlsx 或 .csv",
    ".ppt": ".pptx 或 PDF",
    ".dps": ".pptx 或 PDF",
}


def reject_legacy(data: bytes, name: str, dedup_min_chars: int) -> list:
    """Legacy binary Office and WPS files have no reader here: the message says how to convert them."""
    ext = PurePosixPath(name).suffix.lower()
    raise UnsupportedFormat(
        f"{name}: 不支持旧版 {LEGACY.get(ext, 'Office')} 文件（{ext}），"
        f"请在 Office 或 WPS 中另存为 {_SAVE_AS.get(ext, '.docx 或 PDF')} 后再上传"
    )


_SEP = re.compile(r"[\\/]")


def safe_name(name: str | None, default: str = "upload") -> str:
    """The base name of an uploaded file: no folders (either slash), no control or format characters (a U+202E
    right-to-left override would show "evil\u202etxt.exe" as "evilexe.txt"), at most 200 characters."""
    base = _SEP.split(unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")).strip()
    if base in ("", ".", ".."):
        return default
    if len(base) > 200:
        suffix = PurePosixPath(base).suffix[:16]
        base = base[: 200 - len(suffix)] + suffix
    return base
