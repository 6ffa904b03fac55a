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

from rag.generate import dates, subject
from rag.generate import facts as grounding
from rag.generate.base import Draft
from rag.generate.rows import row_name
from rag.generate.support import (
    REFERS_TO_ONE,
    about_asked,
    best_span,
    bigrams,
    facts,
    figure_of_named,
    haystack,
    holds,
    overlap,
    supports,
)
from rag.lexical import BM25Index
from rag.types import Citation, Hit
from rag.zh import Tokenizer, norm, numbers, sentence_spans

# a marker holds passage numbers (one or two digits): "[2021]" in "洪府发[2021]14号" is a year, not a citation
_MARK = re.compile(r"\s*[\[【［]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】］]")
# the year of a document number in square or round brackets, written as GB/T 9704 has it: 洪府发〔2021〕14号
_DOC_NO_YEAR = re.compile(r"(?<=[\u4e00-\u9fff])\s*[\[［【(（〔]\s*((?:19|20)\d\d)\s*[\]］】)）〕]\s*(?=\d{1,4}\s*号)")


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
    stated = {f for f in fs if f.isdigit() and int(f) in dates.years(text)}
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
    echo = frozenset(bigrams(question))
    asked = norm(question)
    same_doc = {h.chunk.doc_id: " ".join(haystack(x) for x in hits if x.chunk.doc_id == h.chunk.doc_id) for h in hits}
    texts = " ".join(h.title + " " + h.chunk.text for h in hits)
    subjects = subject.question_subjects(question, tokenizer, texts) if question else ([], [])
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
                g := (given if REFERS_TO_ONE.search(h.chunk.text) else strict),
                same_doc[h.chunk.doc_id] if g else "",
            )
        }
        off_subject = {
            n
            for n in cands
            if not about_asked(hits[n - 1], text, fs, subjects, question, tokenizer)
            or not figure_of_named(hits[n - 1], text, fs, subjects[1], named_projects)
            or (hits[n - 1].chunk.kind == "table_row" and not grounding.same_project(projects, row_name(hits[n - 1])))
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
                or (fs and not any(all(holds(haystack(h), f) for f in fs) for h in hits))
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
