"""Does a passage support a sentence of a generated answer: its numbers, dates, percentages and names occur in the
passage (a figure as a whole number the passage states, not inside another, a count in the passage's measure word and
at its level: not 省级's figure for 国家级), and the passage's supporting sentence is about what the question asks
(its place, the company a figure is said of, the project a table row names). A passage's own question sentences
support nothing. Used by the citation verifier (rag.generate.cite)."""

from __future__ import annotations

import re
from functools import lru_cache

from rag.generate import dates, subject
from rag.generate import facts as grounding
from rag.generate.rows import row_name
from rag.types import Hit
from rag.zh import Tokenizer, clause_spans, norm, numbers, sentence_spans

_ROW_NO = re.compile(r"(?m)^[ \t]*\d{1,4}\t")

MAX_QUOTE = 150


_DIGITS_APART = re.compile(r"(?<=\d)\s+(?=\d)")


_FIGURE = re.compile(r"^\d+(?:\.\d+)?[%％‰]?$")


# what makes a city's name another place's: 南昌县, 南昌高新区, 赣州经开区
_NOT_CITY = r"(?:县|区|镇|乡|高新|经开|开发|新区|经济技术)"


# a passage about an organisation or project named before it: "该公司项目经理…说"
REFERS_TO_ONE = re.compile(r"(?:该|这家|此)(?:公司|企业|集团|项目|厂)")


def bigrams(s: str) -> set[str]:
    t = norm(s)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def overlap(a: str, b: str, ignore: frozenset[str] = frozenset()) -> float:
    """Share of a's character bigrams (less those in `ignore`, e.g. the question's) found in b."""
    ba = bigrams(a) - ignore
    return len(ba & bigrams(b)) / len(ba) if ba else 1.0


def facts(text: str, tokenizer: Tokenizer) -> set[str]:
    """What a sentence must not invent: numbers (with %), years, and proper names."""
    out = {n for n in numbers(text) if len(n.rstrip("%")) >= 1}
    out |= {e for e in tokenizer.entities(text) if len(e) >= 2}
    return out


def haystack(h: Hit) -> str:
    # The heading path names the article a passage belongs to; the document title only when there is none
    # (a news page's title is its first article's, not every article's). A table row's serial number is not a
    # figure it states ("36\t三维重构…" does not support "36个").
    c = h.chunk
    ctx, text = (_ROW_NO.sub("", c.context), _ROW_NO.sub("", c.text)) if c.kind == "table_row" else (c.context, c.text)
    return flat(" ".join((c.heading or h.title, ctx, _statements(text))))


def flat(text: str) -> str:
    """norm() that keeps figures apart: "10000\t2021" (two cells of a row) is not the number 100002021."""
    return norm(_DIGITS_APART.sub("|", text))


def _statements(text: str) -> str:
    """The text less its sentences that are questions: a quoted question states nothing."""
    spans = sentence_spans(text)
    if not any(grounding.is_question(text[a:b]) for a, b in spans):
        return text
    return " ".join(text[a:b] for a, b in spans if not grounding.is_question(text[a:b]))


def about_asked(
    h: Hit, sentence: str, fs: set[str], asked: tuple[list[str], list[str]], question: str, tokenizer: Tokenizer
) -> bool:
    """The passage's sentence that supports `sentence` is about what the question asks: its place (not merely named
    elsewhere in the document) and, for a table row, the project or organisation the question names."""
    places, names = asked
    if h.chunk.kind == "table_row" and not subject.row_name_ok(names, question, row_name(h)):
        return False
    if not places:
        return True
    s, e = best_span(h, sentence, fs)
    c = h.chunk
    context = c.heading + " " + h.title
    known = subject.passage_places(c, h.title, tokenizer)
    span = c.text[s - c.start : e - c.start]
    # "南昌…重点放在哪几个区": the districts the span names are the answer, not what it is about
    kind = subject.asked_place_kind(question)
    return subject.subject_ok(places, span, c.text[: s - c.start], context, known, kind)


def figure_of_named(h: Hit, sentence: str, fs: set[str], names: list[str], projects: list[str]) -> bool:
    """A figure the sentence gives an organisation or project the question names (`names`, jieba's; `projects`,
    rag.generate.facts.question_projects) is the organisation's in the passage ("南昌华勤电子科技有限公司2021年营业
    收入是1734.5亿元"): the name, or four characters in a row of the project's, is in the span stating it or the
    sentence before, or the passage up to it refers back to one ("该公司…年营收可超35亿元"); not a city-wide
    figure in a passage naming the company elsewhere. A table row is the row's project's (facts.same_project)."""
    s_ = norm(sentence)
    said = [n for n in map(norm, names) if n in s_]
    named = [p for p in projects if grounding.common_run(p, s_) >= 4]
    if h.chunk.kind == "table_row" or not (said or named):
        return True
    stated = dates.years(sentence)
    if not any(_FIGURE.match(f) and not (f.isdigit() and int(f) in stated) for f in fs):
        return True
    c = h.chunk
    s, e = best_span(h, sentence, fs)
    before = [a for a, _ in sentence_spans(c.text) if a < s - c.start]
    near = norm(c.text[before[-1] if before else 0 : e - c.start])
    return (
        any(n in near for n in said)
        or any(grounding.common_run(p, near) >= 4 for p in named)
        or bool(REFERS_TO_ONE.search(c.text[: e - c.start]))
    )


def chinese_numeral(n: int) -> str:
    """99 -> 九十九, 105 -> 一百零五, 2021 -> 二千零二十一 (how article and clause numbers are written)."""
    if n < 0 or n >= 100000:
        return ""
    if n < 10:
        return "零一二三四五六七八九"[n]
    out, zero = "", False
    for value, unit in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            out += (
                ("零" if zero and out else "")
                + ("" if d == 1 and unit == "十" and not out else "零一二三四五六七八九"[d])
                + unit
            )
            zero = False
        elif out:
            zero = True
    return out


def holds(hay: str, f: str) -> bool:
    """The passage states the fact: a figure as a whole number of its own ("130家" is not held by "1308.15亿元",
    "5%" not by "20.5%"), a name as written, or a city as the passage names it without 市 ("南昌市本级财政" from
    "南昌举行…市本级财政"; not "南昌县", another place)."""
    if _FIGURE.match(f):
        return f in _figures(hay) or _spelled_in(f, hay)
    n = norm(f)
    return n in hay or f in _figures(hay) or (n.endswith("市") and _city_in(n[:-1], hay))


def _city_in(stem: str, hay: str) -> bool:
    return (
        len(stem) >= 2
        and subject.is_named_place(stem + "市")
        and bool(re.search(rf"{re.escape(stem)}(?!{_NOT_CITY})", hay))
    )


def _spelled_in(f: str, hay: str) -> bool:
    """The whole number f is in hay as written in Chinese numerals ("第九十九条")."""
    spelled = chinese_numeral(int(f)) if f.isdigit() else ""
    return bool(spelled) and spelled in hay


@lru_cache(maxsize=4096)
def _figures(hay: str) -> frozenset[str]:
    """The numbers a text states ("10%" does not state the 10 of "10万辆")."""
    return frozenset(numbers(hay))


def supports(
    sentence: str,
    h: Hit,
    fs: set[str],
    echo: frozenset[str] = frozenset(),
    given: frozenset[str] = frozenset(),
    premises: str = "",
) -> bool:
    """Every fact of the sentence is in the passage, and its own wording (not the question's echo) overlaps it.
    A fact the sentence repeats from the question (`given`) may instead be in `premises`, the other shown passages
    of the same document: "赣州南康区…98个" is backed by a passage about 南康区 when the document names 赣州 elsewhere.
    Not in another document's: unanswerable questions are mostly a passage's question with one name or year
    changed, and the model repeats the changed one."""
    hay = haystack(h)
    if any(not holds(hay, f) and not (f in given and holds(premises, f)) for f in fs):
        return False
    if _measure_changed(sentence, hay) or _level_changed(sentence, h.chunk.text, fs):
        return False
    for f in fs:  # "第99条" shares its wording with "第九十九条" once written the passage's way
        if f not in _figures(hay) and _spelled_in(f, hay):
            sentence = sentence.replace(f, chinese_numeral(int(f)))
    return overlap(sentence, h.chunk.text + h.chunk.context, echo) >= (0.2 if fs else 0.3)


# the level of an honour, a list or a funding scheme: 国家级 / 省级 / 市级 …
_LEVEL = re.compile(r"(国家|省|市|县|区)级")


def _level_changed(sentence: str, text: str, fs: set[str]) -> bool:
    """The sentence gives a figure to one level ("对列入国家级绿色工厂的企业给予10万元") that the passage gives
    another: every clause of the passage stating the figure names a level, none of them the sentence's ("对列入
    省级绿色工厂的企业给予10万元一次性奖励，对列入国家级绿色工厂的企业给予20万元")."""
    levels = set(_LEVEL.findall(sentence))
    figures = [f for f in fs if _FIGURE.match(f) and not (f.isdigit() and int(f) in dates.years(sentence))]
    if not levels or not figures:
        return False
    for f in figures:
        said = [text[a:b] for a, b in clauses(text) if f in _figures(flat(text[a:b]))]
        if said and all(_LEVEL.search(c) for c in said) and not any(set(_LEVEL.findall(c)) & levels for c in said):
            return True
    return False


# a count and what it counts in: "100多台套", "165人", "10万名"
_COUNT = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*([万亿]?)\s*(?:余|多)?\s*({'|'.join(grounding.MEASURE_CLASS)})")


# a whole number and what follows it: a measure word, a unit ("亿元", "%", "平方米"), a date's 年 / 月 / 日
_FIGURE_THEN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])\s*([万亿]?)\s*(?:余|多)?\s*([\u4e00-\u9fff%％‰]?)")


def _measure_changed(sentence: str, hay: str) -> bool:
    """The sentence counts a figure in a measure word the passage never gives it: "100多名员工" from "设备100多台套",
    "占地50亩" from "投资50亿元", "10万名员工" from "10万吨"; "5家" is fine from "5家" (or "5户", "5个"). Only
    figures the passage states with a word after them every time (a bare one, a table cell, is left to the other
    checks; a spelled one too); 个 stands for any measure word but people's."""
    said = [(m.group(1), m.group(2), m.group(3)) for m in _COUNT.finditer(norm(sentence))]
    if not said:
        return False
    held: dict[str, list[tuple[str, str]]] = {}
    for m in _FIGURE_THEN.finditer(hay):
        held.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
    for figure, mag, word in said:
        there = held.get(figure)
        if not there:
            continue
        if not any(m == mag and (not k or grounding.same_count(k, word)) for m, k in there):
            return True
    return False


def clauses(text: str) -> list[tuple[int, int]]:
    return [c for s, e in sentence_spans(text) for c in clause_spans(text, s, e)]


def best_span(h: Hit, text: str, fs: set[str]) -> tuple[int, int]:
    """Document offsets of the passage span (a sentence, or a clause window of a long one) that best supports text."""
    c = h.chunk
    best, span = -1.0, (c.start, min(c.end, c.start + MAX_QUOTE))
    stated = frozenset(dates.years(text))
    weight = {f: _fact_weight(f, stated) for f in fs}
    for s, e in sentence_spans(c.text):
        if grounding.is_question(c.text[s:e]):
            continue
        pieces = [(s, e)] if e - s <= MAX_QUOTE else _windows(c.text, s, e)
        for a, b in pieces:
            seg = c.text[a:b]
            # the figures are what a reader checks first: a span holding them beats one that only shares wording
            sc = overlap(text, seg) + 2 * sum(weight[f] for f in fs if holds(flat(seg), f)) - 0.0005 * (b - a)
            if sc > best:
                best, span = sc, (c.start + a, c.start + b)
    return span


def _windows(text: str, s: int, e: int) -> list[tuple[int, int]]:
    cl = clause_spans(text, s, e)
    out = []
    for i in range(len(cl)):
        for j in range(i, len(cl)):
            if cl[j][1] - cl[i][0] > MAX_QUOTE:
                break
            out.append((cl[i][0], cl[j][1]))
    return out or [(s, min(e, s + MAX_QUOTE))]


def _fact_weight(f: str, years: frozenset[int] = frozenset()) -> float:
    """Figures weigh most; years (those the text states as years: "2023年", not the 2100 of "2100亿元") and names
    place a sentence but rarely decide which span supports it."""
    if "%" in f or "." in f or (f.isdigit() and (len(f) != 4 or int(f) not in years)):
        return 1.5
    return 0.3
