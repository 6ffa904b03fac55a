"""Citation verification for generated answers.

Every sentence is checked against the passages it cites: its numbers, dates, percentages and names must occur
in a cited passage (a figure as a whole number the passage states, not inside another), and it must share wording
with it; the passage span that supports it must not leave open what the question asks (REFUSED_GAPS of
rag.generate.ground.answer_gaps: a place only compared with, no change for "增长了多少", no amount for "多少钱", not
the value asked, nor its qualifier: 全社会用电量 for 居民生活用电量), and a count must be in the measure word the
passage gives it ("100多名员工" is not "100多台套") and at the level it gives it (not 省级's figure for 国家级).
Markers to passages that do not support the sentence are removed, and so are markers to a passage whose supporting
sentence is about another place than the question's, or gives the figure said of the company asked to something
else, or to a table row about another project than the one the question names; a sentence without a marker gets one
when a passage clearly supports it; a sentence no one passage supports is cited clause by clause when passages
support each of its runs of clauses ("2023年赣州…，常州高新区…" from two documents); a sentence stating a number
that no passage contains is dropped, and so is a sentence that is itself a question. A passage's own question
sentences support nothing. Each citation's quote is the passage span that best supports its sentences, exact in the
document's cleaned text. Markers are renumbered 1..k in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from rag.generate import facts as grounding
from rag.generate.base import Draft
from rag.lexical import BM25Index
from rag.types import Citation, Hit
from rag.zh import Tokenizer, clause_spans, norm, numbers, sentence_spans

# a marker holds passage numbers (one or two digits): "[2021]" in "洪府发[2021]14号" is a year, not a citation
_MARK = re.compile(r"\s*[\[【［]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】］]")
# the year of a document number in square or round brackets, written as GB/T 9704 has it: 洪府发〔2021〕14号
_DOC_NO_YEAR = re.compile(r"(?<=[\u4e00-\u9fff])\s*[\[［【(（〔]\s*((?:19|20)\d\d)\s*[\]］】)）〕]\s*(?=\d{1,4}\s*号)")
_ROW_NO = re.compile(r"(?m)^[ \t]*\d{1,4}\t")
_DIGITS_APART = re.compile(r"(?<=\d)\s+(?=\d)")
_FIGURE = re.compile(r"^\d+(?:\.\d+)?[%％‰]?$")
# what makes a city's name another place's: 南昌县, 南昌高新区, 赣州经开区
_NOT_CITY = r"(?:县|区|镇|乡|高新|经开|开发|新区|经济技术)"
REFUSAL_CUES = (
    "无法从文档中找到答案",
    "资料中没有",
    "资料未提及",
    "资料中未提及",
    "没有提到",
    "未提供",
    "无法回答",
    "没有相关信息",
)
MAX_QUOTE = 150
# a passage about an organisation or project named before it: "该公司项目经理…说"
_REFERS_TO_ONE = re.compile(r"(?:该|这家|此)(?:公司|企业|集团|项目|厂)")
# The answer gaps (rag.generate.ground.answer_gaps) for which a passage's span does not back a sentence of the
# model's answer: what the question asks that the span does not itself carry. Chosen on the dev items (the model
# paraphrases, so a gap kind that drops dev answers it got right is left out): "value" (the noun whose value is asked,
# when the retrieved passages use it: "年产值" is not answered by a sentence stating only 总投资), "period" (去年 is
# not answered by 今年's figure), "sector" (电子信息产业 not by 航空装备产业's) and "qualifier" (居民生活用电量 not by
# 全社会用电量's, 市级绿色工厂 not by 国家级绿色工厂's) drop none of the dev answers the model got right.
REFUSED_GAPS: tuple[str, ...] = (
    "subject",
    "growth",
    "amount",
    "place",
    "value",
    "period",
    "sector",
    "qualifier",
)
CLOSER = 0.2  # how much more of a sentence's wording another passage must hold to be cited beside the model's choice
_LEAD_IN = re.compile(
    r"^((根据|据)(以上|上述|所给|提供的)?资料(编号|内容)?(显示|可知)?[，,：:]\s*|资料编号[：:]?[，,]?\s*)"
)
# a list item's number ("1. ", "2、", "（3）", "四、") is layout, not a figure the sentence states
_ENUM = re.compile(r"^\s*(?:\d{1,2}[.．、)）](?!\d)|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,2}、)\s*")


@dataclass
class _Sentence:
    text: str  # without markers
    marks: list[int]
    end_punct: str
    item: bool = False  # a numbered list item in the model's answer


def _bigrams(s: str) -> set[str]:
    t = norm(s)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def overlap(a: str, b: str, ignore: frozenset[str] = frozenset()) -> float:
    """Share of a's character bigrams (less those in `ignore`, e.g. the question's) found in b."""
    ba = _bigrams(a) - ignore
    return len(ba & _bigrams(b)) / len(ba) if ba else 1.0


def facts(text: str, tokenizer: Tokenizer) -> set[str]:
    """What a sentence must not invent: numbers (with %), years, and proper names."""
    out = {n for n in numbers(text) if len(n.rstrip("%")) >= 1}
    out |= {e for e in tokenizer.entities(text) if len(e) >= 2}
    return out


def is_refusal(text: str) -> bool:
    return any(c in text for c in REFUSAL_CUES)


def _split(answer: str) -> list[_Sentence]:
    out: list[_Sentence] = []
    for s, e in sentence_spans(answer):
        raw = answer[s:e]
        marks = [int(x) for m in _MARK.finditer(raw) for x in re.split(r"[,，、]", m.group(1))]
        bare = _MARK.sub("", raw).strip()
        enum = _ENUM.match(bare)
        # "根据资料[1]，…": the marker counts, the lead-in goes
        bare = _LEAD_IN.sub("", bare[enum.end() :] if enum else bare)
        punct = ""
        while bare and bare[-1] in "。！？；;!?":
            punct = bare[-1] + punct
            bare = bare[:-1]
        if not re.search(r"\w", bare):  # "。[1]、[2]": the markers and their separators, no words
            bare = ""
        if bare:  # a line introducing a list keeps its colon
            out.append(_Sentence(bare, marks, punct or ("" if bare[-1] in "：:" else "。"), item=bool(enum)))
        elif marks and out:
            out[-1].marks.extend(marks)  # a marker after the full stop belongs to the sentence before
    return out


def _haystack(h: Hit) -> str:
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


def _row_name(h: Hit) -> str:
    c = h.chunk
    if c.kind != "table_row" or "\t" not in c.text or not c.context:
        return ""
    header, cells = c.context.split("\n", 1)[0].split("\t"), c.text.split("\t")
    if len(header) != len(cells):
        return ""
    return cells[next((i for i, hd in enumerate(header) if "名称" in hd), 1 if len(cells) > 1 else 0)]


def about_asked(
    h: Hit, sentence: str, fs: set[str], asked: tuple[list[str], list[str]], question: str, tokenizer: Tokenizer
) -> bool:
    """The passage's sentence that supports `sentence` is about what the question asks: its place (not merely named
    elsewhere in the document) and, for a table row, the project or organisation the question names."""
    places, names = asked
    if h.chunk.kind == "table_row" and not grounding.row_name_ok(names, question, _row_name(h)):
        return False
    if not places:
        return True
    s, e = best_span(h, sentence, fs)
    c = h.chunk
    context = c.heading + " " + h.title
    known = grounding.passage_places(c, h.title, tokenizer)
    span = c.text[s - c.start : e - c.start]
    # "南昌…重点放在哪几个区": the districts the span names are the answer, not what it is about
    kind = grounding.asked_place_kind(question)
    return grounding.subject_ok(places, span, c.text[: s - c.start], context, known, kind)


def _figure_of_named(h: Hit, sentence: str, fs: set[str], names: list[str], projects: list[str]) -> bool:
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
    stated = grounding.years(sentence)
    if not any(_FIGURE.match(f) and not (f.isdigit() and int(f) in stated) for f in fs):
        return True
    c = h.chunk
    s, e = best_span(h, sentence, fs)
    before = [a for a, _ in sentence_spans(c.text) if a < s - c.start]
    near = norm(c.text[before[-1] if before else 0 : e - c.start])
    return (
        any(n in near for n in said)
        or any(grounding.common_run(p, near) >= 4 for p in named)
        or bool(_REFERS_TO_ONE.search(c.text[: e - c.start]))
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


def _fact_weight(f: str, years: frozenset[int] = frozenset()) -> float:
    """Figures weigh most; years (those the text states as years: "2023年", not the 2100 of "2100亿元") and names
    place a sentence but rarely decide which span supports it."""
    if "%" in f or "." in f or (f.isdigit() and (len(f) != 4 or int(f) not in years)):
        return 1.5
    return 0.3


def _holds(hay: str, f: str) -> bool:
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
        and grounding.is_named_place(stem + "市")
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
    hay = _haystack(h)
    if any(not _holds(hay, f) and not (f in given and _holds(premises, f)) for f in fs):
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
    figures = [f for f in fs if _FIGURE.match(f) and not (f.isdigit() and int(f) in grounding.years(sentence))]
    if not levels or not figures:
        return False
    for f in figures:
        said = [text[a:b] for a, b in _clauses(text) if f in _figures(flat(text[a:b]))]
        if said and all(_LEVEL.search(c) for c in said) and not any(set(_LEVEL.findall(c)) & levels for c in said):
            return True
    return False


def _clauses(text: str) -> list[tuple[int, int]]:
    return [c for s, e in sentence_spans(text) for c in clause_spans(text, s, e)]


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


_CLAUSE_BREAK = re.compile(r"[，,]")
MAX_CLAUSES = 6


def _clause_runs(
    text: str, fs: set[str], tokenizer: Tokenizer, supported: Callable[[str, set[str]], dict[int, float]]
) -> list[tuple[str, dict[int, float]]]:
    """A sentence no one passage supports, as runs of its clauses each supported by some passage (`supported`: the
    passages supporting a text with the facts given), longest runs first; [] unless every clause is in one. A run
    must state a fact of its own besides the sentence's years, and it carries those years: "2023年赣州…4606亿元，
    常州高新区…2100亿元" is two runs, each of 2023; "2022年，新余GDP为…" is none (its year is the figure's)."""
    clauses = [c.strip() for c in _CLAUSE_BREAK.split(text)]
    if not 2 <= len(clauses) <= MAX_CLAUSES or not all(clauses):
        return []
    stated = {f for f in fs if f.isdigit() and int(f) in grounding.years(text)}
    out: list[tuple[str, dict[int, float]]] = []
    i = 0
    while i < len(clauses):
        for j in range(len(clauses) if i else len(clauses) - 1, i, -1):
            run = "，".join(clauses[i:j])
            own = facts(run, tokenizer)
            if not own - stated:
                continue
            cands = supported(run, own | stated)
            if cands:
                out.append((run, cands))
                i = j
                break
        else:
            return []
    return out


def best_span(h: Hit, text: str, fs: set[str]) -> tuple[int, int]:
    """Document offsets of the passage span (a sentence, or a clause window of a long one) that best supports text."""
    c = h.chunk
    best, span = -1.0, (c.start, min(c.end, c.start + MAX_QUOTE))
    stated = frozenset(grounding.years(text))
    weight = {f: _fact_weight(f, stated) for f in fs}
    for s, e in sentence_spans(c.text):
        if grounding.is_question(c.text[s:e]):
            continue
        pieces = [(s, e)] if e - s <= MAX_QUOTE else _windows(c.text, s, e)
        for a, b in pieces:
            seg = c.text[a:b]
            # the figures are what a reader checks first: a span holding them beats one that only shares wording
            sc = overlap(text, seg) + 2 * sum(weight[f] for f in fs if _holds(flat(seg), f)) - 0.0005 * (b - a)
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


def verify(
    answer: str,
    hits: list[Hit],
    tokenizer: Tokenizer,
    max_chars: int = 0,
    question: str = "",
    gaps: Collection[str] = REFUSED_GAPS,
    bm25: BM25Index | None = None,
) -> Draft:
    """Check and repair the markers of a generated answer; build exact citations. A passage whose supporting span
    leaves one of `gaps` of the question open (rag.generate.ground.answer_gaps) supports nothing of it; `bm25`, the
    collection's term statistics, tells which of the question's words the documents use (else the passages do)."""
    # here: ground imports conflicts, which imports this module
    from rag.generate.ground import answer_gaps

    answer = _DOC_NO_YEAR.sub(r"〔\1〕", answer.strip())
    if not answer or (is_refusal(answer) and not numbers(_MARK.sub("", answer))):
        return Draft(answer, [], answerable=False, flags=["model_refused"] if answer else ["empty_answer"])
    flags: list[str] = []
    kept: list[tuple[str, list[int], str, bool]] = []
    echo = frozenset(_bigrams(question))
    asked = norm(question)
    same_doc = {h.chunk.doc_id: " ".join(_haystack(x) for x in hits if x.chunk.doc_id == h.chunk.doc_id) for h in hits}
    texts = " ".join(h.title + " " + h.chunk.text for h in hits)
    subjects = grounding.question_subjects(question, tokenizer, texts) if question else ([], [])
    named = set(subjects[1])
    # the project or organisation the question names ("江西阿顺供应链有限公司食品供应项目"): another project's table row
    # is about another project, whatever its columns say (as for the extractive generator)
    projects = grounding.question_projects(question)
    # those a passage names ("南昌华勤电子科技"), not a phrase the pattern caught ("…让搞科技的中小公司")
    normed = [norm(h.chunk.text) for h in hits]
    named_projects = [p for p in projects if any(grounding.common_run(p, t) >= 4 for t in normed)]

    def candidates(text: str, fs: set[str]) -> tuple[dict[int, float], set[int], list[str]]:
        """The passages (number: wording overlap) that support `text` and are about what is asked; those that would
        but are about another subject or leave a gap of the question open; and the flags saying so."""
        why: list[str] = []
        # names the sentence repeats from the question; never figures or years
        # ("2023年…产量增长18%" from a 2022 passage); the organisation or project the question asks about only for a
        # passage that refers back to one ("该公司…年营收可超35亿元"): a city-wide figure is not the company's because
        # another passage of the document names the company
        given = frozenset(f for f in fs if norm(f) in asked and not any(ch.isdigit() for ch in f))
        strict = frozenset(f for f in given if f not in named)
        cands = {
            i + 1: overlap(text, h.chunk.text + h.chunk.context, echo)
            for i, h in enumerate(hits)
            if supports(
                text,
                h,
                fs,
                echo,
                g := (given if _REFERS_TO_ONE.search(h.chunk.text) else strict),
                same_doc[h.chunk.doc_id] if g else "",
            )
        }
        off_subject = {
            n
            for n in cands
            if not about_asked(hits[n - 1], text, fs, subjects, question, tokenizer)
            or not _figure_of_named(hits[n - 1], text, fs, subjects[1], named_projects)
            or (hits[n - 1].chunk.kind == "table_row" and not grounding.same_project(projects, _row_name(hits[n - 1])))
        }
        if off_subject:
            why.append("subject_mismatch")
            cands = {n: v for n, v in cands.items() if n not in off_subject}
        if question and gaps and cands:
            open_ = {
                n: answer_gaps(
                    question, hits[n - 1], *best_span(hits[n - 1], text, fs), tokenizer, bm25, hits, only=gaps
                )
                for n in cands
            }
            open_ = {n: g for n, g in open_.items() if g}
            if open_:
                why.extend(f"gap:{g}" for g in sorted({g for gs in open_.values() for g in gs}))
                cands = {n: v for n, v in cands.items() if n not in open_}
                off_subject = off_subject | set(open_)
        return cands, off_subject, why

    for sent in _split(answer):
        if grounding.is_question(sent.text + sent.end_punct):
            flags.append("question_dropped")  # a question is never an answer
            continue
        fs = facts(sent.text, tokenizer)
        cands, off_subject, why = candidates(sent.text, fs)
        runs = [] if cands or off_subject else _clause_runs(sent.text, fs, tokenizer, lambda t, f: candidates(t, f)[0])
        if runs and max_chars and kept and sum(len(k[0]) for k in kept) + len(sent.text) > max_chars:
            flags.append("trimmed")
            break
        if runs:
            # no one passage states all of it ("2023年赣州…4606亿元，常州高新区…2100亿元" from two documents): each
            # run of its clauses is cited to a passage that states it
            for k, (text, run_cands) in enumerate(runs):
                marks = [n for n in dict.fromkeys(sent.marks) if n in run_cands]
                marks = marks or [max(run_cands, key=lambda n: (run_cands[n], -n))]
                last = k == len(runs) - 1
                kept.append((text, marks, sent.end_punct if last else "，", sent.item and k == 0))
            flags.append("clauses_cited_apart")
            continue
        flags.extend(why)
        marks = [n for n in dict.fromkeys(sent.marks) if n in cands]
        if len(marks) < len(set(sent.marks)):
            flags.append("marker_removed")
        better = max(cands, key=lambda n: (cands[n], -n)) if cands else 0
        if marks and better not in marks and cands[better] >= CLOSER + max(cands[m] for m in marks):
            marks.append(better)  # another passage states the sentence far more closely than the one cited
            flags.append("marker_added")
        if not marks:
            if cands:
                marks = [better]
                flags.append("marker_added")
            elif (
                off_subject
                or numbers(sent.text)
                or len(norm(sent.text)) < 8
                or (fs and not any(all(_holds(_haystack(h), f) for f in fs) for h in hits))
            ):
                # a figure no passage supports (about the subject asked), or a fragment ("资料编号为"):
                # never shown as fact
                flags.append("sentence_dropped")
                continue
            else:
                flags.append("unsupported_sentence")
        if max_chars and kept and sum(len(k[0]) for k in kept) + len(sent.text) > max_chars:
            flags.append("trimmed")  # a short answer: later sentences only repeat or drift
            break
        kept.append((sent.text, marks, sent.end_punct, sent.item))
    if not any(marks for _, marks, _, _ in kept):  # no sentence a passage supports: nothing to show as an answer
        return Draft("", [], answerable=False, flags=flags + ["nothing_supported"])
    order: dict[int, int] = {}
    parts = []
    items = 0
    for text, marks, punct, item in kept:
        new = [order.setdefault(m, len(order) + 1) for m in marks]
        if item:  # list items stay a numbered list, renumbered over the items kept
            items += 1
            text = ("\n" if parts else "") + f"{items}. {text}"
        parts.append(text + "".join(f"[{n}]" for n in new) + punct)
    citations = []
    for old, new in order.items():
        h = hits[old - 1]
        said = "".join(k[0] for k in kept if old in k[1])
        s, e = best_span(h, said, facts(said, tokenizer))
        citations.append(Citation(new, h, h.chunk.text[s - h.chunk.start : e - h.chunk.start], s, e))
    return Draft("".join(parts), sorted(citations, key=lambda c: c.n), answerable=True, flags=sorted(set(flags)))
