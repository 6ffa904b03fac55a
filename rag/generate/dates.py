"""The time an answer must agree with the question on: years in the question must be the evidence's; relative words
(今年, 去年, 目前, 最新 …) are resolved against the document's date (front matter, a bulletin's issue date, the latest
year it states), and the answer states the year of its figure. Pure functions over text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

# --- time --------------------------------------------------------------------------------------------------------
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)\s*(?=年)")
_YEAR_RANGE = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?:[.年]\d{1,2}月?)?\s*[-—–~至到]\s*((?:19|20)\d\d)(?![\d])")
_CN_DIGIT = {
    "〇": "0",
    "零": "0",
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "○": "0",
    "Ｏ": "0",
    "O": "0",
}
_CN_YEAR = re.compile(r"([一二][〇零○Ｏ一二三四五六七八九O]{3})年")
RELATIVE = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "上一年": -1, "前年": -2}
LATEST = ("目前", "最新", "近年", "近几年", "当前", "现在", "如今", "眼下", "最近")


def years(text: str) -> set[int]:
    """The years a text states: "2021年", "二〇二一年", and every year of a range "2020-2023" / "2021.03-2022.12"."""
    t = text
    out = {int(y) for y in _YEAR.findall(t)}
    out |= {int("".join(_CN_DIGIT[c] for c in y)) for y in _CN_YEAR.findall(t)}
    for a, b in _YEAR_RANGE.findall(t):
        a_, b_ = int(a), int(b)
        if a_ <= b_ <= a_ + 30:
            out |= set(range(a_, b_ + 1))
    return out


# "比上年增长" compares with the year before the figure's: it says nothing of when the question is about
_COMPARED = re.compile(r"(?:比|较|同比|环比|相比|高于|低于|超过)(?:上一年|上年|去年|前年)")


def relative_time(question: str) -> str:
    """The relative time word of a question ("今年", "去年", "目前", "最新" …), or "": none when the question names
    its year ("2020年…比上年增长多少"), and not the base of a comparison ("比上年", "较去年")."""
    q = _COMPARED.sub("", question)
    if years(q):
        return ""
    for w in (*RELATIVE, *LATEST):
        if w in q:
            return w
    return ""


def asks_latest(question: str) -> bool:
    """ "今年 / 目前 / 最新 …": the answer is the latest figure the documents state."""
    w = relative_time(question)
    return bool(w) and (w in LATEST or RELATIVE.get(w) == 0)


_TARGET = re.compile(r"(?:到|(?<!截)至|力争|预计|计划|目标)\s*$")  # "截至2023年" is a fact's date


def _fact_years(text: str) -> list[int]:
    return [
        int(m.group(1)) for m in _YEAR.finditer(text) if not _TARGET.search(text[max(0, m.start() - 4) : m.start()])
    ]


def stated_year(sentence: str, before: str = "") -> int | None:
    """The year a sentence states a fact of: the latest it names, else the last named before it in the passage; a
    target year ("到2025年…达到") is not one."""
    own = _fact_years(sentence)
    if own:
        return max(own)
    prev = _fact_years(before)
    return prev[-1] if prev else None


def document_year(doc: Any) -> int | None:  # a rag.types.Document or anything with .meta and .text
    """The year a document was written: its front matter's date, else the issue date on a bulletin's cover
    ("二〇二一年第九期"), else a year standing alone on one of its first lines."""
    meta: Mapping[str, Any] = getattr(doc, "meta", {}) or {}
    head = (getattr(doc, "text", "") or "")[:600]
    dated = tuple(str(meta.get(key, "")) for key in ("date", "published", "issued", "year"))
    return _document_year(dated, head)


@lru_cache(maxsize=1024)
def _document_year(dated: tuple[str, ...], head: str) -> int | None:
    for value in dated:
        m = re.search(r"(?:19|20)\d\d", value)
        if m:
            return int(m.group())
    m = re.search(r"([一二][〇零○Ｏ一二三四五六七八九O]{3})年第[一二三四五六七八九十\d]+期", head)
    if m:
        return int("".join(_CN_DIGIT[c] for c in m.group(1)))
    m = re.search(r"(?m)^\s*((?:19|20)\d\d)\s*$", head)
    return int(m.group(1)) if m else None


def resolve_year(word: str, doc_year: int | None) -> int | None:
    """今年 → the document's year, 去年 → the one before; None when it cannot be resolved or the word means 'latest'."""
    if word in RELATIVE and doc_year:
        return doc_year + RELATIVE[word]
    return None


def time_ok(asked: set[int], sentence: str, before: str) -> bool:
    """False when the question names years and the evidence states other years only (the sentence's own years,
    else the last year stated before it in the passage)."""
    if not asked:
        return True
    stated = years(sentence)
    if not stated:
        prev = _governing_years(before)
        stated = {prev[-1]} if prev else set()
    return not stated or bool(asked & stated)


# a year in a full date ("2022年4月8日，记者走进…") says when something happened or was reported, not the period the
# figures after it are of
_FULL_DATE = re.compile(r"\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")


def _governing_years(before: str) -> list[int]:
    """The years stated before a sentence that may be the period of its figures, in order: those of full dates left
    out when any other is stated."""
    found = list(_YEAR.finditer(before))
    periods = [int(m.group(1)) for m in found if not _FULL_DATE.match(before, m.end(1))]
    return periods or [int(m.group(1)) for m in found]


def target_year(sentence: str, before: str) -> int | None:
    """The year of a plan's target a sentence states ("到2025年，产业规模达到1万亿元"), or is under when it names no
    year itself and the last year stated before it in the passage is a target's; None for a fact."""
    if _fact_years(sentence):
        return None
    ys = [(m.start(), int(m.group(1))) for m in _YEAR.finditer(sentence)]
    if ys:
        return max(y for _, y in ys)
    prev = list(_YEAR.finditer(before))
    if prev and _TARGET.search(before[max(0, prev[-1].start() - 4) : prev[-1].start()]):
        return int(prev[-1].group(1))
    return None


def figure_year(sentence: str, before: str, doc_year: int | None) -> int | None:
    """The year a figure belongs to: the latest its sentence states, else the last stated before it, else the
    document's year."""
    ys = [y for y in years(sentence) if not doc_year or y <= doc_year + 1]
    if ys:
        return max(ys)
    prev = [int(y) for y in _YEAR.findall(before) if not doc_year or int(y) <= doc_year + 1]  # not a target year
    return prev[-1] if prev else doc_year


def strip_relative(text: str, word: str) -> str:
    """The answer without the question's relative time word where it echoes the question ("南昌今年的GDP是…" →
    "南昌GDP是…"): the year is stated before it instead."""
    return text.replace(word + "的", "").replace(word, "") if word else text
