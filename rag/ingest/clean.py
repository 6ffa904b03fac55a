"""Cleaning: one cleaned text per document that every offset points into.

Front matter becomes metadata, HTML becomes paragraphs, markdown and outline headings are
recorded with their offsets, words broken across a blank line are re-joined, layout spaces
between Chinese characters are removed, and repeated paragraphs are kept once.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from rag.zh import CJK, join_cjk_spaces

_FRONT = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_HTMLISH = re.compile(r"<(p|div|br|h[1-6]|li|ul|ol|table|tr|td|th|span|sup|sub|body|html|script|style)\b[^>]*>", re.I)
_SUP = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"}
_MD_HEADING = re.compile(r"^(#{1,6})\s*(.+?)\s*#*\s*$")
# Outline markers of Chinese official documents, by level.
_OUTLINE = [
    (re.compile(r"^[一二三四五六七八九十]+、"), 10),
    (re.compile(r"^[（(][一二三四五六七八九十]+[)）]"), 11),
    (re.compile(r"^\d{1,2}[.、．]\s*(?!\d)"), 12),
    (re.compile(r"^[（(]\d{1,2}[)）]"), 13),
]
_TERMINAL = "。！？!?；;…”」』）)】:：摄"
_HARD_START = re.compile(
    rf"^(#|图|[（(]?[一二三四五六七八九十\d]+[、.．)）]|第[一二三四五六七八九十]+|[◎☆●■▲◆]|[^{CJK}\d])"
)
_CONT_START = re.compile(rf"^[{CJK}]{{1,4}}[，、。；）”…]")


@dataclass
class Cleaned:
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    headings: list[tuple[int, int, int, str]] = field(default_factory=list)  # start, end, level, text


def front_matter(raw: str) -> tuple[dict[str, Any], str]:
    m = _FRONT.match(raw)
    if not m:
        return {}, raw
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, raw
    if not isinstance(meta, dict):
        return {}, raw
    return {str(k): (v if isinstance(v, (str, int, float, list)) else str(v)) for k, v in meta.items()}, raw[m.end() :]


def html_to_text(raw: str) -> str:
    """Block tags to paragraph breaks, cells to tabs, <sup>2</sup> to ², scripts dropped, entities unescaped."""
    t = re.sub(r"<(script|style)\b.*?</\1\s*>", "", raw, flags=re.S | re.I)
    t = re.sub(r"<!--.*?-->", "", t, flags=re.S)
    t = re.sub(
        r"\s*<sup>\s*([0-9\-]{1,3})\s*</sup>", lambda m: "".join(_SUP.get(c, c) for c in m.group(1)), t, flags=re.I
    )
    t = re.sub(r"<h([1-6])\b[^>]*>", lambda m: "\n\n" + "#" * int(m.group(1)) + " ", t, flags=re.I)
    t = re.sub(r"<br\s*/?>", "\n", t, flags=re.I)
    t = re.sub(
        r"</?(p|div|h[1-6]|li|ul|ol|table|tr|section|article|header|footer|blockquote)\b[^>]*>", "\n\n", t, flags=re.I
    )
    t = re.sub(r"</t[dh]>\s*<t[dh]\b[^>]*>", "\t", t, flags=re.I)
    t = re.sub(r"<[^>]+>", "", t)
    return html.unescape(t)


def clean(raw: str, *, dedup_min_chars: int = 50, html_input: bool | None = None) -> Cleaned:
    meta, body = front_matter(raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    if html_input or (html_input is None and _HTMLISH.search(body)):
        title = re.search(r"<title[^>]*>(.*?)</title>", body, re.S | re.I)
        if title and "title" not in meta:
            meta["title"] = html.unescape(title.group(1)).strip()
        body = re.sub(r"<head\b.*?</head>", "", body, flags=re.S | re.I)
        body = html_to_text(body)
    body = body.replace("\u3000", " ").replace("\xa0", " ")
    blocks = _blocks(body)
    blocks = _join_broken(blocks)
    return _assemble(blocks, meta, dedup_min_chars)


def _blocks(body: str) -> list[tuple[str, int]]:
    """Paragraph blocks with the number of blank lines that preceded each."""
    out: list[tuple[str, int]] = []
    blank = 0
    cur: list[str] = []
    for line in body.split("\n"):
        line = line.strip(" \u200b")
        if not line.strip():
            if cur:
                out.append(("\n".join(cur), blank))
                cur, blank = [], 0
            blank += 1
            continue
        if len(line) > 40 or "\t" in line:
            line = join_cjk_spaces(line)
        cur.append(re.sub(r"[ ]{2,}", " ", line))
    if cur:
        out.append(("\n".join(cur), blank))
    return out


def _join_broken(blocks: list[tuple[str, int]]) -> list[str]:
    """Re-join a paragraph that a layout break split mid-word across one blank line."""
    out: list[str] = []
    for text, blank in blocks:
        if out and blank == 1 and _should_join(out[-1], text):
            out[-1] = out[-1] + text
        else:
            out.append(text)
    return out


def _should_join(prev: str, nxt: str) -> bool:
    last = prev.rsplit("\n", 1)[-1]
    first = nxt.split("\n", 1)[0]
    if not last or not first or last[-1] in _TERMINAL or last.startswith("#") or "\t" in last or "\t" in first:
        return False
    if not re.match(rf"[{CJK}\d]", last[-1]) and last[-1] not in "，、":
        return False
    if _HARD_START.match(first):
        return False
    if len(last) >= 18 or (len(last) >= 8 and ("，" in last or "," in last)):
        return True
    return len(last) >= 8 and bool(_CONT_START.match(first))


def _heading_level(block: str) -> tuple[int, str] | None:
    if "\n" in block:
        return None
    m = _MD_HEADING.match(block)
    if m:
        text = m.group(2).strip()
        for pat, level in _OUTLINE:
            if pat.match(text):
                return level, text
        # Plain markdown levels 1-2 are titles; deeper ones nest below any outline heading.
        n = len(m.group(1))
        return (n if n <= 2 else 20 + n), text
    if len(block) <= 40 and block[-1] not in "。！？；，,.;:：":
        for pat, level in _OUTLINE[:2]:
            if pat.match(block):
                return level, block
    return None


def _assemble(blocks: list[str], meta: dict[str, Any], dedup_min_chars: int) -> Cleaned:
    parts: list[str] = []
    headings: list[tuple[int, int, int, str]] = []
    seen: set[str] = set()
    pos = 0
    for block in blocks:
        h = _heading_level(block)
        text = h[1] if h else block
        if not h and len(text) >= dedup_min_chars:
            key = re.sub(r"\s+", "", text)
            if key in seen:
                continue
            seen.add(key)
        if parts:
            pos += 2
        if h:
            headings.append((pos, pos + len(text), h[0], text))
        parts.append(text)
        pos += len(text)
    return Cleaned(text="\n\n".join(parts), meta=meta, headings=headings)
