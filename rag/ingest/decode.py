"""Bytes -> str with encoding detection; undecodable or binary input is rejected naming the file."""

from __future__ import annotations

import codecs
import re

from rag.errors import DecodeError, UnsupportedFormat

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMMON = re.compile(r"[\t\n\r\x20-\x7e\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (BOM), GB18030/GBK; reject binary files."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name)
    if b"\x00" in data[:4096]:
        # UTF-16 without BOM: every other byte NUL in ASCII-heavy text. Both byte orders usually decode; the one
        # that reads as Chinese, ASCII and CJK punctuation is right (景 as LE is 潦).
        texts = []
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if _plausible(text):
                texts.append(text)
        if texts:
            return max(texts, key=_common_share)
        raise UnsupportedFormat(f"{name}: looks like a binary file, not text")
    for enc in ("utf-8", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # noqa: BLE001 - detection is best effort
        best = None
    if best is not None:
        text = str(best)
        if _plausible(text):
            return text
    raise DecodeError(f"{name}: cannot decode as UTF-8, GB18030/GBK or UTF-16")


def _strict(data: bytes, enc: str, name: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as e:
        raise DecodeError(f"{name}: invalid {enc} at byte {e.start}") from e


def _plausible(text: str) -> bool:
    if not text:
        return True
    bad = len(_CONTROL.findall(text)) + text.count("\ufffd")
    return bad / len(text) < 0.01


def _common_share(text: str) -> float:
    return len(_COMMON.findall(text)) / max(1, len(text))
