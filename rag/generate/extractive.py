"""Extractive answers: the sentences of the top passages that answer the question, quoted exactly.

Sentences are scored by the rarity-weighted overlap of the question's terms, its numbers, cues for the
kind of answer asked for (an amount, a list, a name), and the passage's retrieval rank; with an embedder, the best of
them also by their closeness in meaning to the question (everyday words vs the documents' official terms). A sentence
about another place than the question's, stating other years only, stating the noun asked with another qualifier
("国家级绿色工厂" for "市级绿色工厂"), or a list's total for one of its items is never picked; nor is a sentence that
is itself a question. The answer is the best span (trimmed to its most relevant clauses) with its [n] marker; a table
row answers the column asked (or the clauses of its description that say it: by the aspect's words, else by a figure's
unit and label), amounts also in the unit people say.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from rag.answerable import focus_term, question_terms
from rag.embed.base import Embedder
from rag.generate import facts
from rag.generate.base import Draft, Generator
from rag.generate.ground import answer_gaps, counted_noun, measure_gaps
from rag.generate.qualifier import qualifier_gap
from rag.lexical import BM25Index
from rag.types import Citation, Hit
from rag.zh import Tokenizer, clause_spans, join_cjk_spaces, norm, number_spans, numbers, sentence_spans

_ASKS_NUMBER = re.compile(
    r"多少|几|多大|多长|多高|比例|比重|排名|第几|增速|增长|下降|提升|降低|金额|投资|面积|产值|收入|规模"
)
_ASKS_LIST = re.compile(r"哪些|哪几|分别|包括|有哪")
_ASKS_WHO = re.compile(r"谁|哪家|哪个|哪一|什么企业|什么公司|名称|叫什么")
_HAS_NUMBER = re.compile(r"\d")
# a person is asked ("一把手是谁", "项目经理是谁"; not "带头企业是谁", which asks a company)
_ASKS_PERSON = re.compile(r"(?<!企业)(?<!公司)(?<!单位)(?<!机构)(?<!集团)(?<!部门)是谁|谁是|哪位")
# a person quoted with the post they hold, as news does: "集团董事长陈可霸说", "三级调研员周琳介绍" (the post's last
# character, the name, the verb). Only a bonus: an encyclopedia names people without posts, and a sentence without
# one still answers there (dropping those cost 2% of cmrc2018-trial's answers)
_NAMES_PERSON = re.compile(
    r"(?:长|员|人|师|任|记|理|监|裁|授|家|表)[\u4e00-\u9fff]{2,3}(?:说|表示|介绍|告诉|称|指出|透露|坦言|认为)"
)
PERSON_BONUS = 0.3
_ASKS_SPECIFIC = re.compile(r"多少|几|哪|谁|何时|什么时候|是否|多大|多长|多高|多久|多远|多重")
MAX_ANSWER = 120
# money is asked: "多大金额", "多少钱", "投资多少", "奖励…多少"; an amount of money says it
_ASKS_MONEY = re.compile(r"金额|多少钱|多少(?:[万亿千百]*元)|资金|投资|奖励?|补贴|收入|营收")
_STATES_AMOUNT = re.compile(r"\d[\d.,]*\s*(?:余|多)?\s*(?:万亿|亿|千万|百万|万|千)?\s*(?:元|美元)")
# Dense closeness to the question (ExtractiveGenerator._add_dense), chosen on dev: of the 6 best candidates by the
# overlap scores, the one closest in meaning gains 0.2, the others less the farther they are, nothing from 0.05 of
# cosine similarity below it. Encoding all candidates (~25 a question) put the gold sentence first no more often, at
# 4x the cost. On the 356 dev items: 4 more answers right, none lost, no answer refused that was not.
DENSE_BONUS = 0.2
DENSE_SPAN = 0.05
DENSE_TOP = 6
DENSE_CHARS = 200  # what is encoded of a candidate
MAX_CHECKED = 40  # candidates checked for subject and time, best first
FOCUS_BONUS = 0.3
KEEP_AFTER_DROP = 0.7  # once the best were dropped, what is left must score this share of the best to be an answer
CLOSE_SHARE = 0.95  # a candidate scoring this share of the best, stating other figures, is shown beside it
LATEST_SHARE = 0.85  # "今年 / 最新": a sentence of a later year scoring this share of the best answers instead
# The answer gaps (rag.generate.ground.answer_gaps) an extractive answer is refused for, checked on the quote as
# trimmed. Not "year": on the 218 gold evidence sentences of the dev items found among the retrieved passages it finds
# a gap in 4 (the year stated a paragraph earlier, or the question's year a target), and what it adds on dev
# unanswerables comes from sentences with no year anywhere, which is also how a correct answer from a dated list
# reads; time_ok already drops sentences of other years. Not "attribute": on questions written independently it
# refuses correct answers worded with a synonym (GDP / 地区生产总值, 营收 / 营业收入, 公司 / 企业) as often as
# unanswerable ones. "value", its narrow case (the noun right before the question word, "营业收入是多少", or a counted
# noun of three characters or more), refuses 24 of the 159 dev unanswerable questions answered without it (and one
# correct fresh-dev3 answer). Not "amount" and "rank": _Fit already drops every candidate without them
# (ground.measure_gaps), they refuse no dev answer. Not "place": its candidates are chosen by measure_gaps too, and
# on the quote as trimmed it refused one correct fresh-dev3 answer and no dev unanswerable. Not "qualifier": _Fit drops
# its candidates instead (refusing the quote lost a right answer that the next sentence gives).
REFUSED_GAPS = ("subject", "growth", "value", "sector", "period", "topic")
# A table row does not answer when the question says a run of OTHER_ROW characters of another retrieved row's name
# that it lacks, that row being the one the question says most of, NAMED_ROW characters at least (_Fit._other_row)
NAMED_ROW = 4
OTHER_ROW = 3


@dataclass
class _Cand:
    hit_i: int
    start: int  # offsets into the document's cleaned text
    end: int
    score: float
    text: str
    lexical: float = 0.0  # the score before the dense bonus


class ExtractiveGenerator(Generator):
    name = "extractive"

    def __init__(
        self,
        tokenizer: Tokenizer,
        idf_source: Callable[[], BM25Index | None] | None = None,
        embedder: Embedder | None = None,
    ):
        """`idf_source` gives the live index's BM25 statistics at each call (they change when the index does);
        `embedder`, when given, also scores each candidate sentence by its meaning's closeness to the question's."""
        self.tokenizer = tokenizer
        self.idf_source = idf_source or (lambda: None)
        self.embedder = embedder

    def generate(self, question: str, hits: list[Hit], tokenizer: Tokenizer | None = None) -> Draft:
        tokenizer = tokenizer or self.tokenizer
        # "今年 / 最新" are not words to find: the answer states its figure's year instead (rag.generate.ground)
        asked = facts.strip_relative(question, facts.relative_time(question)) or question
        terms = question_terms(asked, tokenizer)
        bm25 = self.idf_source()
        weights = {t: (bm25.idf(t) if bm25 else 1.0) or 1.0 for t in terms}
        qnums = numbers(question)
        # the noun asked about ("增速" in "…地区生产总值增速是多少"): the sentence that states it is the answer, not its
        # neighbour that shares the question's other terms ("…地区生产总值达4606亿元")
        focus = norm(focus_term(asked, terms, tokenizer))
        cands: list[_Cand] = []
        for i, h in enumerate(hits):
            prior = 0.15 * (1.0 / (1 + i))
            for s, e, text in _units(h):
                sc = self._score(text, question, weights, qnums, h) + prior
                # a table row states its header's columns: "营业收入（亿元）" there is the row's too
                if focus and (focus in norm(text) or (h.chunk.kind == "table_row" and focus in norm(h.chunk.context))):
                    sc += FOCUS_BONUS
                cands.append(_Cand(i, s, e, sc, text, sc))
        if not cands:
            return Draft("", [], answerable=False)
        self._add_dense(asked, cands)
        cands.sort(key=lambda c: -c.score)
        fits = _Fit(question, hits, tokenizer, terms, bm25)
        # a sentence stating no change when a change is asked is no better answer that was dropped: its neighbour
        # stating the change is measured against the rest
        top = max((c.lexical for c in cands if fits.of_kind_asked(c.text)), default=0.0)
        kept: list[_Cand] = []
        for c in cands[:MAX_CHECKED]:  # best first, until the answer and its possible second span are found
            if fits(c):
                kept.append(c)
                if len(kept) == 6:
                    break
        cands = kept
        # (on the scores before the dense bonus: meaning reorders the candidates, it does not decide if one is left)
        if not cands or max(c.lexical for c in cands) < KEEP_AFTER_DROP * top:
            # the best sentences were about another place or year: what is left does not answer the question
            return Draft("", [], answerable=False, flags=sorted(fits.dropped) or ["nothing_supported"])
        if facts.asks_latest(question):
            cands = _latest_first(cands, hits)
        best = cands[0]
        picked = [best]
        # Two sentences that answer about as well and state different figures: both are shown, each cited, rather
        # than one picked (the reader sees the sources differ or what each counts); refused when both do not fit
        # (a rival says it of what the best says it of: every question term the best has, a year aside)
        terms_of = lambda c: {t for t in self._covered(c.text, weights) if not t.isdigit()}  # noqa: E731
        rival = next((c for c in cands[1:6] if _rivals(best, c, fits) and terms_of(best) <= terms_of(c)), None)
        if rival is not None:
            if len(best.text) + len(rival.text) > 2 * MAX_ANSWER:
                return Draft("", [], answerable=False, flags=["close_disagree"])
            picked.append(rival)
        # A second, shorter span from another passage when it adds question terms and the answer stays short
        covered = self._covered(best.text, weights)
        for c in cands[1:6]:
            if rival is not None:
                break
            if c.hit_i != best.hit_i and c.score > 0.6 * best.score and len(best.text) + len(c.text) <= MAX_ANSWER:
                # a year the best's passage states before it is no term the best lacks
                extra = {t for t in self._covered(c.text, weights) - covered if not t.isdigit()}
                if extra or _ASKS_LIST.search(question):
                    picked.append(c)
                    break
        parts: list[str] = []
        citations: list[Citation] = []
        numbering: dict[int, int] = {}
        for c in picked:
            h = hits[c.hit_i]
            s, e = self._trim(h, c, weights, qnums, facts.asks_figure(question), bool(_ASKS_MONEY.search(question)))
            text, s, e = _render(h, _doc_slice(h, s, e), question, s, terms, fits.phases) or ("", s, e)
            if c is best:  # the quote as trimmed must itself carry what is asked: else no answer, not a weaker one
                if not fits.states_figure(text):  # a row's clause "2020 年投产并实现产值" for "2020年产值多少"
                    return Draft("", [], answerable=False, flags=["gap:figure"])
                gaps = answer_gaps(question, h, s, e, tokenizer, bm25, hits, only=REFUSED_GAPS)
                if gaps:
                    return Draft("", [], answerable=False, flags=[f"gap:{g}" for g in gaps])
            n = numbering.setdefault(id(c), len(numbering) + 1)
            parts.append(text.rstrip("。；;，,：: ") + f"[{n}]")
            if all(x.n != n for x in citations):
                citations.append(Citation(n, h, _doc_slice(h, s, e), s, e))
        text = "；".join(parts)
        return Draft(text if text.endswith("。") else text + "。", citations)

    def _add_dense(self, question: str, cands: list[_Cand]) -> None:
        """Everyday words ("一把手", "工厂用电") miss the official term ("董事长", "工业用电量") that the overlap scores
        look for: the candidates closest in meaning to the question gain up to DENSE_BONUS, in proportion to how near
        they come to the closest one (within DENSE_SPAN of its cosine similarity)."""
        if self.embedder is None or DENSE_BONUS <= 0:
            return
        best = sorted(cands, key=lambda c: -c.score)[:DENSE_TOP]
        q = self.embedder.embed_query(question)
        v = self.embedder.embed_documents([c.text[:DENSE_CHARS] for c in best])
        sims = v @ q
        top = float(np.max(sims))
        for c, sim in zip(best, sims, strict=True):
            c.score += DENSE_BONUS * max(0.0, 1.0 - (top - float(sim)) / DENSE_SPAN)

    def _score(self, text: str, question: str, weights: dict[str, float], qnums: set[str], h: Hit) -> float:
        t = norm(text)
        total = sum(weights.values()) or 1.0
        hay = t + norm(h.chunk.context) + norm(h.chunk.heading)
        overlap = sum(w for term, w in weights.items() if norm(term) in hay) / total
        in_sent = sum(w for term, w in weights.items() if norm(term) in t) / total
        score = 0.6 * overlap + 0.4 * in_sent
        if qnums:
            score += 0.3 * len(qnums & numbers(t)) / len(qnums)
        if _ASKS_NUMBER.search(question) and _HAS_NUMBER.search(text):
            score += 0.15
        if _ASKS_LIST.search(question) and ("、" in text or "；" in text):
            score += 0.1
        if _ASKS_PERSON.search(question) and _NAMES_PERSON.search(text):
            score += PERSON_BONUS
        return score

    def _covered(self, text: str, weights: dict[str, float]) -> set[str]:
        t = norm(text)
        return {term for term in weights if norm(term) in t}

    def _trim(
        self, h: Hit, c: _Cand, weights: dict[str, float], qnums: set[str], figure: bool = False, money: bool = False
    ) -> tuple[int, int]:
        """Narrow a long sentence to the window of clauses with the most question terms; for a "how many / how much"
        question, one that states a figure besides the question's own and a date (a year is no answer); for a
        question about money, one that states an amount of money."""
        if c.end - c.start <= MAX_ANSWER or h.chunk.kind == "table_row" and "\t" in c.text:
            return c.start, c.end
        doc_text = _DocView(h)
        clauses = clause_spans(doc_text, c.start, c.end)
        best, best_span = -1.0, (c.start, min(c.end, c.start + MAX_ANSWER))
        qnums_sorted = sorted(qnums, key=len, reverse=True)
        for s, e in _clause_runs(clauses, MAX_ANSWER):
            seg = norm(doc_text[s:e])
            sc = sum(w for term, w in weights.items() if norm(term) in seg)
            sc += (0.5 if _HAS_NUMBER.search(seg) else 0.0) - 0.001 * (e - s)
            # a figure besides the question's own numbers and dates ("2022年，通过…" states no figure asked)
            if figure and facts.has_figure(facts.DATE.sub(" ", facts.without(doc_text[s:e], qnums_sorted))):
                sc += 2.0
            if money and _STATES_AMOUNT.search(seg):
                sc += 1.0  # "多大金额" is said by "总金额1351亿元", not by its neighbour "共签约项目111个"
            if sc > best:
                best, best_span = sc, (s, e)
        s, e = best_span
        while e > s and doc_text[e - 1] in "，,、：:；;":
            e -= 1
        return s, e


def _rivals(best: _Cand, c: _Cand, fits: _Fit) -> bool:
    """Does `c` answer about as well as `best` (CLOSE_SHARE of its score) a question asking a figure, stating
    figures (not dates, not the question's own numbers) none of which `best` states?"""
    if not fits.figure or c.score < CLOSE_SHARE * best.score or norm(c.text) == norm(best.text):
        return False
    a, b = fits.own_figures(best.text), fits.own_figures(c.text)
    return bool(a) and bool(b) and not a & b


def _clause_runs(spans: list[tuple[int, int]], limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of every run of consecutive clauses (`spans`, in order) at most `limit` characters long."""
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            a, b = spans[i][0], spans[j][1]
            if b - a > limit:
                break
            yield a, b


def _latest_first(cands: list[_Cand], hits: list[Hit]) -> list[_Cand]:
    """The candidates with the one of the latest year first, among those that answer about as well as the best:
    its year (the sentence's, else the last stated before it in the passage; never a target year, "到2025年") later
    than the best's, or the best states no year at all."""

    def year(c: _Cand) -> int:
        h = hits[c.hit_i]
        return facts.stated_year(c.text, h.chunk.text[: c.start - h.chunk.start]) or 0

    first = year(cands[0])
    later = [c for c in cands[1:] if c.score >= LATEST_SHARE * cands[0].score and year(c) > first]
    if not later:
        return cands
    top = max(later, key=lambda c: (year(c), c.score))
    return [top, *(c for c in cands if c is not top)]


class _DocView(str):
    """The chunk's text addressed with document offsets (chunk.start .. chunk.end)."""

    def __new__(cls, h: Hit) -> _DocView:
        return super().__new__(cls, " " * h.chunk.start + h.chunk.text)


def _doc_slice(h: Hit, s: int, e: int) -> str:
    return h.chunk.text[s - h.chunk.start : e - h.chunk.start]


def _units(h: Hit) -> list[tuple[int, int, str]]:
    """Candidate answer units of a passage in document offsets: sentences (never one that is itself a question),
    or a table row whole."""
    c = h.chunk
    if c.kind == "table_row" and "\t" in c.text:
        return [(c.start, c.end, c.text)]
    view = _DocView(h)
    return [(s, e, view[s:e]) for s, e in sentence_spans(view, c.start, c.end) if not facts.is_question(view[s:e])]


class _Fit:
    """Does a candidate answer what was asked (see rag.generate.facts): a row about the project named, saying what
    is asked; a sentence about the question's place, with a figure when one is asked, in the years asked?"""

    def __init__(
        self, question: str, hits: list[Hit], tokenizer: Tokenizer, terms: list[str], bm25: BM25Index | None = None
    ):
        self.question, self.hits, self.tokenizer, self.terms, self.bm25 = question, hits, tokenizer, terms, bm25
        self.asked = facts.strip_relative(question, facts.relative_time(question)) or question
        texts = " ".join(h.title + " " + h.chunk.text for h in hits)
        self.places, self.names = facts.question_subjects(question, tokenizer, texts)
        self.years = facts.years(question)
        self.place_kind = facts.asked_place_kind(question)
        self.figure = facts.asks_figure(question)
        self.qnums = sorted(_asked_numbers(question), key=len, reverse=True)
        m = facts.MEASURE.search(question)
        self.measure = m.group(1) if m else ""
        # the measure asked after a number in words ("地上十一层"), not a bare "一层" of "一层楼", nor an ordinal
        # ("第九十九条")
        self._cn_count = re.compile(
            rf"(?<![第{_NUMERAL}百千])(?:[两三四五六七八九十百千]|一[十百千])[{_NUMERAL}百千]*(?:余|多)?"
            + (self.measure or "$^")
        )
        self.count = bool(_ASKS_COUNT.search(question))
        self.counted = counted_noun(self.asked, tokenizer)
        self.asks_year = bool(facts.ASKS_YEAR.search(question))
        self.asks_when = bool(facts.ASKS_WHEN.search(question))
        self.change = bool(_ASKS_CHANGE.search(question))
        self.extent = bool(_ASKS_EXTENT.search(question))
        self.projects = facts.question_projects(question)
        self.phases = set(_PHASE.findall(question))
        # what the question says of each retrieved row's name: the row it says most of is the project asked about
        self.shared = {n: facts.name_shared(question, n) for n in (_row_name(h) for h in hits) if n}
        sizes = {n: facts.shared_size(question, p) for n, p in self.shared.items()}
        self.named = max(sizes, key=lambda n: sizes[n]) if sizes and max(sizes.values()) >= NAMED_ROW else ""
        # the retrieved rows whose whole name (less 项目 / 有限公司 …) the question says
        self.said = {n for n in self.shared if _said(n, question)}
        # what the question says of the named row's name, run by run ("江西远锋建材", "装饰膜项目")
        self.named_runs = facts.name_runs(facts.norm_cached(question), self.shared[self.named]) if self.named else []
        self.dropped: set[str] = set()

    def of_kind_asked(self, text: str) -> bool:
        """States a change when one is asked in everyday words."""
        return not self.change or bool(_STATES_CHANGE.search(facts.DATE.sub(" ", text)))

    def own_figures(self, text: str) -> set[str]:
        """The numbers a text states besides the question's own and dates."""
        return numbers(facts.DATE.sub(" ", facts.without(text, self.qnums)))

    def states_figure(self, text: str) -> bool:
        """A figure when one is asked: other than the question's own numbers, and other than a date unless a time
        is asked."""
        own = facts.without(text, self.qnums)
        own = own if self.asks_year or self.asks_when else facts.DATE.sub(" ", own)
        own = _TECH_TAG.sub(" ", own)  # "5G", "3D": names of a technology, not figures
        return not self.figure or facts.has_figure(own) or bool(self.measure and self._cn_count.search(own))

    def _other_row(self, h: Hit) -> bool:
        """Is `h` the row of another project than the one the question names? The question says a run of OTHER_ROW
        characters or more of the name of the retrieved row it says most of (NAMED_ROW at least) that this row's
        name lacks, and does not say this row's whole name: "南昌雨华汽车零部件有限公司的项目占地多少亩" is not
        answered by the row of 江西億立汽车零部件有限公司 ("南昌雨华" is not in its name), however alike the rest of
        their names, when the row of 南昌雨华 is retrieved and says nothing of its area."""
        name = _row_name(h)
        if name and self.said and name not in self.said:
            return True  # "南昌医疗器械产业园…" is not answered by the row of 江西省医疗器械科技产业园
        if (
            not name
            or not self.named
            or name == self.named
            or facts.PROJECT_FORM.sub("", norm(name)) in norm(self.question)
        ):
            return False
        lacking = self.shared[self.named] - self.shared[name]
        return any(all(i + k in lacking for k in range(OTHER_ROW)) for i in lacking)

    def _about_named(self, h: Hit) -> bool:
        """Does a passage (not a row) name the project of the row the question names: four characters in a row of
        what the question says of its name?"""
        hay = norm(h.title + " " + h.chunk.heading + " " + h.chunk.text)
        return facts.same_project([r for r in self.named_runs if len(r) >= NAMED_ROW], hay)

    def __call__(self, c: _Cand) -> bool:
        h = self.hits[c.hit_i]
        before = h.chunk.text[: c.start - h.chunk.start]
        if h.chunk.kind == "table_row" and not (
            facts.row_name_ok(self.names, self.question, _row_name(h))
            and facts.same_project(self.projects, _row_name(h))
        ):
            self.dropped.add("subject_mismatch")
            return False
        if self._other_row(h):
            self.dropped.add("subject_mismatch")
            return False
        if h.chunk.kind != "table_row" and self.named_runs and not self._about_named(h):
            self.dropped.add("subject_mismatch")  # another company's "年营收可超35亿元" is no answer for the row named
            return False
        if h.chunk.kind == "table_row" and _render(h, c.text, self.question, c.start, self.terms, self.phases) is None:
            self.dropped.add("column_missing")
            return False
        context = h.chunk.heading + " " + h.title
        known = facts.passage_places(h.chunk, h.title, self.tokenizer) if self.places else frozenset()
        if not facts.subject_ok(self.places, c.text, before, context, known, self.place_kind):
            self.dropped.add("subject_mismatch")
            return False
        own = facts.without(c.text, self.qnums)  # the question's own numbers ("5G", its year) are no answer
        if not self.states_figure(c.text):
            # "how many" is not answered by a sentence without a figure, nor by a date ("3月2日，记者走进…")
            self.dropped.add("no_figure")
            return False
        if (
            self.measure
            and not re.search(rf"\d[\d.,]*\s*(?:[万亿千百]|余|多)?\s*(?:{self.measure}|个)", own)
            and not self._cn_count.search(own)
        ):
            self.dropped.add("no_figure")  # "多少亩" is answered by so many 亩, not by the project's investment
            return False
        if self.count and not self.measure and not _COUNT.search(facts.DATE.sub(" ", own)):
            self.dropped.add("no_figure")  # "几个" is answered by a count ("16.2个", "13家"), not by "03专项" or "5G"
            return False
        if self.extent and not _STATES_EXTENT.search(facts.DATE.sub(" ", own)):
            self.dropped.add("no_figure")  # "有多长" is answered by so many 米 or months, not by "161台/套"
            return False
        if self.change and not _STATES_CHANGE.search(facts.DATE.sub(" ", own)):
            self.dropped.add("no_figure")  # "省了多少 / 减少了多少" is answered by a change, not by an investment
            return False
        if self.asks_year and not (facts.years(c.text) - self.years):
            self.dropped.add("no_figure")  # "哪一年" is answered by a year
            return False
        if self.asks_when and h.chunk.kind != "table_row" and not facts.WHEN.search(c.text):
            self.dropped.add("no_figure")  # "什么时候" is answered by a time
            return False
        if measure_gaps(self.question, own, h.chunk.context if h.chunk.kind == "table_row" else ""):
            self.dropped.add("no_figure")  # "增长了多少" by a change, "多少亿元" by an amount of money
            return False
        # "多少家市级绿色工厂" is not answered by "国家级绿色工厂5家", nor "居民生活用电量" by "全社会用电量": the
        # figure of another qualifier of the noun asked (rag.generate.qualifier). A candidate dropped, not the answer
        # refused: the sentence after it may state the phrase asked ("规上电子信息产业营业收入" before "规模以上工业
        # 营业收入"). Not a row: its cells are labelled by the header, not qualified in words
        if h.chunk.kind != "table_row" and qualifier_gap(
            self.asked, c.text, self.tokenizer, self.bm25, self.hits, h.chunk.text
        ):
            self.dropped.add("qualifier_mismatch")
            return False
        if h.chunk.kind != "table_row" and _total_of_list(self.question, c.text):
            self.dropped.add("subject_mismatch")  # "A、B、C，共签约项目111个" is no count of A's
            return False
        if self.figure and not self.change and not _RATE_ASKED.search(self.asked) and _only_rates(own):
            self.dropped.add("no_figure")  # "营业收入是多少" is not answered by "营业收入同比增长339.8%"
            return False
        if h.chunk.kind != "table_row" and self.figure and _count_unstated(self.counted, own):
            self.dropped.add("no_figure")  # "多少个法治实践站" is not answered by "建设法治实践站…培养…1000余名"
            return False
        if not facts.time_ok(self.years, c.text, before):
            self.dropped.add("year_mismatch")
            return False
        phases = set(_PHASE.findall(c.text))
        if self.phases and phases and not self.phases & phases:
            self.dropped.add("phase_mismatch")  # "二期" is not answered by what "一期" has
            return False
        if (
            self.figure
            and self.phases
            and phases - self.phases
            and not _phase_states_figure(self.phases, facts.without(c.text, self.qnums))
        ):
            self.dropped.add("phase_mismatch")  # "一期租赁厂房，…二期规划用地约100亩": 100亩 is the 二期's
            return False
        if _other_ordinal(self.terms, c.text):
            self.dropped.add("ordinal_mismatch")  # "第三产业" is not answered by what "第一产业" has
            return False
        return True


_NUMERAL = "一二三四五六七八九十两"


def _said(name: str, question: str) -> bool:
    """Does the question say a row's whole name, less its legal form or 项目 (NAMED_ROW characters at least)?"""
    stem = facts.PROJECT_FORM.sub("", norm(name))
    return len(stem) >= NAMED_ROW and stem in norm(question)


# a total over what the clause before it lists: "A、B、C，共签约项目111个", "…合计6227.3亿元"
_TOTAL = re.compile(r"(?:共|合计|总计|累计|总共)[^，,。；;、]{0,8}?\d")
NAMED_ITEM = 4  # characters in a row, of one listed item and no other, that name it
OTHER_ITEM = 2  # characters in a row, of one listed item and no other, that mention it


# a question asking a rate, share or change (answered by a percentage)
_RATE_ASKED = re.compile(r"增|降|减|涨|跌|率|比|占|百分|%|速|幅|成|指数|倍|提高|提升|下|上升|回落")
_NUMBER_STATED = re.compile(r"\d[\d.,]*\s*(%|％|个百分点)?")


def _only_rates(text: str) -> bool:
    """Every figure the text states (dates and technology names aside) is a percentage."""
    t = _TECH_TAG.sub(" ", facts.DATE.sub(" ", text))
    found = [m.group(1) for m in _NUMBER_STATED.finditer(t)]
    return bool(found) and all(found)


# a technology's name with a digit in it ("5G", "3D", "4K"): no figure of anything
_TECH_TAG = re.compile(r"(?<![\d.])\d[A-Z](?![A-Za-z])")
_CLAUSE_END = re.compile(r"[，,；;。：:！!？?]")


def _count_unstated(counted: str, text: str) -> bool:
    """The sentence names what a "how many" question counts (`counted`, rag.generate.ground.counted_noun) but no
    clause naming it states a figure: its figures count something else ("南昌高新区通过…建设法治实践站…，已累计培养
    法律明白人1000余名" for "多少个法治实践站")."""
    if len(counted) < 2:
        return False
    said = [cl for cl in _CLAUSE_END.split(norm(text)) if norm(counted) in cl]
    return bool(said) and not any(facts.has_figure(facts.DATE.sub(" ", cl)) for cl in said)


def _phase_states_figure(asked: set[str], text: str) -> bool:
    """Does what `text` says of the phases asked state a figure? What it says of a phase runs from its mention to the
    mention of another phase ("一期租赁厂房，…，二期规划用地约100亩"); phases named together ("一期、二期分别…")
    share what follows."""
    marks = list(_PHASE.finditer(text))
    for i, m in enumerate(marks):
        if m.group(1) not in asked:
            continue
        end = len(text)
        for n in marks[i + 1 :]:
            if n.group(1) not in asked and len(text[marks[i].end() : n.start()]) > 3:
                end = n.start()
                break
        if facts.has_figure(facts.DATE.sub(" ", text[m.end() : end])):
            return True
    return False


def _total_of_list(question: str, text: str) -> bool:
    """Does `text` state a total over a list ("A、B、C，共签约项目111个", in the total's clause or the one before it)
    of which the question names one item alone (NAMED_ITEM characters in a row that no other item has) and mentions
    no other (OTHER_ITEM characters)? Then the figure is the list's, not the item's: "2021世界VR产业大会云峰会签约了
    多少个项目" is not answered by the three conferences' 111; "VR、航空、电子信息三场盛会一共…" asks the total."""
    q, t = norm(question), norm(text)
    for m in _TOTAL.finditer(t):
        for seg in re.split(r"[，,；;：:]", t[: m.start()])[-2:]:
            items = [x for x in seg.split("、") if x]
            if len(items) < 2:
                continue
            said = [i for i in range(len(items)) if _says_item(q, items, i, NAMED_ITEM)]
            if len(said) == 1 and not any(
                _says_item(q, items, i, OTHER_ITEM) for i in range(len(items)) if i != said[0]
            ):
                return True
    return False


def _says_item(q: str, items: list[str], i: int, n: int) -> bool:
    """Does `q` have a run of `n` characters of items[i] that no other item has?"""
    it = items[i]
    runs = {it[k : k + n] for k in range(len(it) - n + 1)}
    return any(r in q and not any(r in o for j, o in enumerate(items) if j != i) for r in runs)


def _other_ordinal(terms: list[str], text: str) -> bool:
    """Does `text` name another of a numbered series than the question's ("第一产业" for "第三产业", "十三五" for
    "十四五") and not the question's own? Terms of three characters or more with a numeral in them."""
    t = norm(text)
    for term in terms:
        n = norm(term)
        if len(n) < 3 or n in t:
            continue
        for i, ch in enumerate(n):
            if ch in _NUMERAL and any(n[:i] + o + n[i + 1 :] in t for o in _NUMERAL if o != ch):
                return True
    return False


# "几个 / 多少个": a count is asked, of whatever is counted; the answer states a number with a measure word
_ASKS_COUNT = re.compile(r"(?:多少|(?<!哪)几)个")
_COUNT = re.compile(
    r"(?:\d[\d.,]*|(?:[两三四五六七八九十百千]|一[十百千万])[一二两三四五六七八九十百千]*)\s*(?:[万亿千百])?\s*"
    r"(?:余|多)?\s*[个项家座所条件台名人次户批处只位支种类款]"
)
# a project's phase: "一期", "二期" ("十四五期间" is no phase)
_PHASE = re.compile(r"([一二三四五六七八九十\d]+)期(?!间)")
# a change asked in everyday words ("省了多少", "少了多少", "多长了百分之几", "减少了多少"), and a change stated with
# its figure ("降低75%以上", "下降2.2%", "缩短22.5%")
_ASKS_CHANGE = re.compile(
    r"(?:减少|降低|下降|少了|省了|省下|节约|节省|缩短|缩减|压缩|多了|涨了|长了|增加)[^，。？]{0,4}(?:多少|几)"
)
_STATES_CHANGE = re.compile(
    r"(?:增长|增速|增幅|下降|降幅|提高|提升|回落|上升|减少|增加|降低|缩减|缩短|节约|节省|压缩|减|降|增|涨|省|少|多|高出|"
    r"高于|低于|缩)[^，,。；;\d]{0,8}\d"
)
# a length or a span of time asked ("有多长", "多高", "多长时间", "多长工期"; not "多长了百分之几", a change), and
# one stated ("200余米", "两个月", "一个工作日", "15分钟")
_ASKS_EXTENT = re.compile(r"多长(?!了)|多高(?!了)|多宽|多深|多远")
_STATES_EXTENT = re.compile(
    r"(?:\d[\d.,]*|[两三四五六七八九十百千半一])\s*(?:[万千百]|余|多|个)*\s*"
    r"(?:米|公里|千米|厘米|毫米|月|年|天|日|小时|分钟|秒|周|星期|工作日|km|m\b)"
)


def _asked_numbers(question: str) -> set[str]:
    """The question's numbers with the character that follows each ("10亿" of "收入超过10亿元的企业有多少家", "5G",
    "2021年"): what the question itself says, so that a figure of another measure with the same digits ("10家") is
    still an answer."""
    q = unicodedata.normalize("NFKC", question)
    out = set()
    for _, end, n in number_spans(q):
        nxt = q[end : end + 1]
        out.add(n + nxt if nxt and not n.endswith(("%", "‰")) and (nxt.isalpha() or "\u4e00" <= nxt <= "\u9fff") else n)
    return out


def _header(h: Hit) -> list[str]:
    return h.chunk.context.split("\n", 1)[0].split("\t") if h.chunk.context else []


def _name_index(header: list[str], n_cells: int) -> int:
    return next((i for i, hd in enumerate(header) if "名称" in hd), 1 if n_cells > 1 else 0)


def _row_name(h: Hit) -> str:
    if h.chunk.kind != "table_row" or "\t" not in h.chunk.text:
        return ""
    cells = h.chunk.text.split("\t")
    header = _header(h)
    if len(header) != len(cells):
        return ""
    return cells[_name_index(header, len(cells))].strip()


def _label_unit(hd: str) -> tuple[str, str]:
    m = re.match(r"^(.*?)\s*[（(]([^()（）]+)[)）]\s*$", hd.strip())
    return (m.group(1), m.group(2)) if m else (hd.strip(), "")


def _value(cell: str, unit: str) -> str:
    v = cell.strip()
    if not re.fullmatch(r"[0-9.]+", v):
        return v
    return facts.with_spoken(v, unit) if unit else v


def _render(
    h: Hit, quote: str, question: str, start: int, terms: list[str], asked_phases: set[str]
) -> tuple[str, int, int] | None:
    """Answer text for a quote at document offset `start`, and the span to cite. A table row answers the column the
    question asks about, or the clauses of its long cell that say it ('name：clause', citing those clauses); with no
    column asked, the clauses of its description that say what the question names besides the row's name, else
    'name：header value，…' from its short cells. None when the question asks something specific that the
    row does not say. `asked_phases`: the question's phases (_PHASE), as _Fit found them."""
    end = start + len(quote)
    if h.chunk.kind != "table_row" or "\t" not in quote:
        return quote.replace("\n", " "), start, end
    header = _header(h)
    cells = quote.split("\t")
    if len(header) != len(cells):
        return quote.replace("\t", " "), start, end
    name_i = _name_index(header, len(cells))
    name = join_cjk_spaces(cells[name_i].strip())
    aspect = facts.asked_aspect(question) or ("面积" if _ASKS_SIZE.search(question) else "")
    per = _ASKS_PER.search(question)
    yearly = aspect == "投资" and per and not _NAMES_INVESTMENT.search(question)
    if yearly:
        aspect = ""  # "一年能赚多少钱" asks no investment: only a clause labelled like the question answers it
    col = facts.column_for(aspect, header) if aspect else None
    # a whole project's amount (its 投资金额 column) does not answer one a year or a phase ("每期花多少钱")
    if col is not None and per and _label_unit(header[col])[1].endswith("元"):
        col = None
    # a phase asked ("二期总投资") that neither the row's name nor the column's cell names ("2021-2023 (一期)"): the
    # column is the whole project's, not the phase's; only a clause of its description that names the phase says it
    if col is not None and asked_phases and not asked_phases & set(_PHASE.findall(name + " " + cells[col])):
        col = None
    if col is not None and cells[col].strip():
        label, unit = _label_unit(header[col])
        return f"{name}：{label}{_value(cells[col], unit)}", start, end
    specific = aspect or _ASKS_SPECIFIC.search(question)
    if specific:
        money = aspect == "投资" or bool(_ASKS_MONEY.search(question))
        asked = _asked_figure(question, name)
        beside = _beside_question_word(question, terms)
        offset = 0
        for i, cell in enumerate(cells):
            # the description: a long cell, or a shorter one in words ("新建7万平方米的办公楼、交易中心及仓库等设施")
            if len(cell.strip()) > 40 or (i != name_i and len(_CJK.findall(cell)) >= DESCRIPTION_CJK):
                span = _row_span(
                    cell,
                    aspect,
                    [t for t in terms if norm(t) not in norm(name) or _PHASE.search(t) or t in beside],
                    _asked_measure(question),
                    frozenset(numbers(question)),
                    # what is counted, said by the name too: only a count of it says more than the name
                    need_count=any(norm(t) in norm(name) for t in beside),
                )
                # "二期总投资多少" is answered by an amount of money, not by "二期 200 亩用地…"
                # nor is "房子总共多大" (a floor area) by "规划用地1950亩"
                if (
                    span
                    and not (money and not _STATES_AMOUNT.search(cell[span[0] : span[1]]))
                    and _unit_fits(cell[span[0] : span[1]], asked)
                    and not (yearly and _NAMES_INVESTMENT.search(cell[span[0] : span[1]]))
                ):
                    a, b = start + offset + span[0], start + offset + span[1]
                    return f"{name}：{cell[span[0] : span[1]].strip()}", a, b
            offset += len(cell) + 1
        # the cue lists found nothing: the figure whose unit and label fit the question's (_cell_answer)
        offset = 0
        for i, cell in enumerate(cells):
            if asked and (len(cell.strip()) > 40 or (i != name_i and len(_CJK.findall(cell)) >= DESCRIPTION_CJK)):
                span = _cell_answer(cell, asked)
                if span and not (money and not _STATES_AMOUNT.search(cell[span[0] : span[1]])):
                    a, b = start + offset + span[0], start + offset + span[1]
                    return f"{name}：{cell[span[0] : span[1]].strip()}", a, b
            offset += len(cell) + 1
        # a project named by its capacity ("年装配100万只汽车轮胎总成项目") says the count asked itself
        measure = _asked_measure(question)
        if measure and measure != "个" and re.search(rf"\d[\d.]*\s*[万亿千百]?\s*(?:余|多)?{measure}", name):
            offset = sum(len(x) + 1 for x in cells[:name_i])
            return name, start + offset, start + offset + len(cells[name_i])
        return None  # the row does not say what is asked (its investment is no answer to "多少家企业")
    # "“113”工程指的是什么": the clauses of its description that say what the question names besides the row's name
    said = _described(cells, name_i, question, terms, name)
    if said is not None:
        return (
            f"{name}：{cells[said[0]][said[1] : said[2]].strip()}",
            start + said[3] + said[1],
            start + said[3] + said[2],
        )
    pairs = []
    for i, (hd, cell) in enumerate(zip(header, cells, strict=True)):
        if i == name_i or hd.strip() in ("序号", "") or not cell.strip():
            continue
        label, unit = _label_unit(hd)
        if len(cell.strip()) > 40 and not any(w in question for w in (label, "内容", "建设什么", "做什么", "包括")):
            continue  # long description cells only when asked for
        value = _value(cell, unit) if len(cell) <= 40 else cell.strip()[:80] + "…"
        pairs.append(f"{label}{value}")
    return f"{name}：" + "，".join(pairs), start, end


def _beside_question_word(question: str, terms: list[str]) -> set[str]:
    """The terms that say what is asked: the one right before the question word (one character apart at most) and
    those after it in its clause ("新增" and "生产线" of "…园区要新增多少条生产线"), even where the row's name says
    them too ("…新增封装生产线扩产项目")."""
    q = norm(question)
    m = _ASKS_SPECIFIC.search(q)
    if not m:
        return set()
    tail = re.split(r"[，,；;。？?！!]", q[m.end() :], maxsplit=1)[0]
    out = {t for t in terms if norm(t) in tail}
    for t in terms:
        i = q.rfind(norm(t), 0, m.start())
        if i >= 0 and m.start() - (i + len(norm(t))) <= 1:
            out.add(t)
    return out


def _described(
    cells: list[str], name_i: int, question: str, terms: list[str], name: str
) -> tuple[int, int, int, int] | None:
    """(cell index, start, end, cell offset in the row) of the clauses of a row's description cell that say what the
    question names besides the row's name (_row_span with no aspect), or None."""
    own = [t for t in terms if norm(t) not in norm(name)]
    if not own:
        return None
    offset = 0
    for i, cell in enumerate(cells):
        if i != name_i and (len(cell.strip()) > 40 or len(_CJK.findall(cell)) >= DESCRIPTION_CJK):
            span = _row_span(cell, "", own, "", frozenset(numbers(question)))
            if span:
                return i, span[0], span[1], offset
        offset += len(cell) + 1
    return None


# an amount a year or a phase ("一年能赚多少钱", "每期花多少钱"), and investment named
_ASKS_PER = re.compile(r"每一?(?:年|期)|一年|全年|年均")
_NAMES_INVESTMENT = re.compile(r"投资|投入|花[了费多]")
# "机房有多大": the size of a thing, when no other aspect is asked (rag.generate.facts.ASPECTS' "面积")
_ASKS_SIZE = re.compile(r"多大[？?。]?$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
DESCRIPTION_CJK = 6  # a cell with so many Chinese characters describes the row, however short (not a date, an amount)
# "多少层 / 几颗 / 多少个": the measure word of the count asked
_ASKED_MEASURE = facts.ASKED_MEASURE


def _asked_measure(question: str) -> str:
    m = _ASKED_MEASURE.search(question)
    return m.group(1) if m else ""


def _row_span(
    cell: str,
    aspect: str,
    terms: list[str],
    measure: str = "",
    qnums: frozenset[str] = frozenset(),
    limit: int = 80,
    need_count: bool = False,
) -> tuple[int, int] | None:
    """The (start, end) in a row's long description cell of the shortest run of clauses that best says what is
    asked, or None when none does: a word of the aspect asked (占地 → "占地", "亩") counts 2 and a cue of it 1
    (once each, however many), each of the question's other terms 1 ("一期" picks "一期占地为 870 亩" over
    "项目占地面积为 3000 亩"; "集装箱" extends "设计年吞吐量杂货…" to its container clause) and 0.5 more when its
    figure follows it ("容积率为 0.82"), each of the question's numbers 1 ("用7年时间"), a count with the measure word
    asked ("共 15 层" for "几层") 2, a figure 0.5; a phase ("一期") when the question names none, -1 (`need_count`: a
    run without that count is none). At least 2 is
    needed."""
    cues, words = facts.aspect_words(aspect)
    cue_keys = {norm(w) for w in cues}
    word_keys = {norm(w) for w in words}
    keys = {norm(t) for t in terms if len(t) >= 2} - cue_keys - word_keys
    phases = set(_PHASE.findall(" ".join(terms)))
    count = (
        re.compile(rf"(?:\d[\d.]*|[{_NUMERAL}百千]+)(?:[万亿千百])?(?:余|多)?{re.escape(measure)}") if measure else None
    )
    spans = _pieces(cell, limit)
    best, span = (0.0, 0), None
    for a, b in _clause_runs(spans, limit):
        seg = norm(cell[a:b])
        sc = (2.0 if any(w in seg for w in word_keys) else 0.0) + (1.0 if any(w in seg for w in cue_keys) else 0.0)
        sc += sum(
            1.0 + (0.5 if re.search(rf"{re.escape(k)}[为约达是共:：]{{0,2}}\d", seg) else 0.0) for k in keys if k in seg
        )
        sc += sum(1.0 for n in qnums if n in seg)
        if not phases and len(set(_PHASE.findall(seg))) == 1:
            sc -= 1.0  # "总共占地多少亩" is the whole project's, not "一期占地为 870 亩" (a list of phases is not one)
        if count is not None and count.search(seg):
            sc += 2.0
        elif count is not None and need_count:
            continue
        if aspect not in ("布局", "内容", "位置", "产品") and re.search(r"\d", seg):
            sc += 0.5
        if (sc, -(b - a)) > best:
            best, span = (sc, -(b - a)), (a, b)
    if span is None or best[0] < 2.0:
        return None
    a, b = span
    while b > a and cell[b - 1] in "，,、；;。 ":
        b -= 1
    return a, b


def _pieces(cell: str, limit: int) -> list[tuple[int, int]]:
    """A description cell's clauses (facts.clauses), one longer than `limit` also cut at its list's 、: "主要购置激光
    直写光刻系统、…、超景深三维显微镜等 400 多台(套)研发和试验设备。" states its count in its last item."""
    out = []
    for a, b in facts.clauses(cell):
        if b - a <= limit:
            out.append((a, b))
            continue
        for m in re.finditer(r"[^、]+、?", cell[a:b]):
            out.append((a + m.start(), a + m.end()))
    return out


# --- what a row's cell says of the column asked, whatever the words -------------------------------------------------
# A question's words for a column are many ("占多少地", "盖多少平米的房子", "一年能印多少票证"); what holds across them
# is the unit of the figure asked and the words next to it. _cell_answer reads a description cell's figures each with
# its unit and the words around it (its label "项目占地", what it counts "工业铝型材"), and keeps the one whose unit
# fits the question's and whose words the question shares; it backs the cue lists of facts.ASPECTS where they find
# nothing.
_UNIT_CLASS = {
    "亩": "area",
    "公顷": "area",
    "平方公里": "area",
    "平方米": "area",
    "平米": "area",
    "平方": "area",
    "㎡": "area",
    "m²": "area",
    "m2": "area",
    "元": "money",
    "钱": "money",
}
# the units a question may ask in, longest first ("平方米" before "平方"), and the units a cell states
_ASK_UNITS = sorted([*_UNIT_CLASS, *"台名人家层只辆吨件套座所栋户架艘株颗条个项位批轴", "标箱"], key=len, reverse=True)
_ASKED_FIGURE = re.compile(
    r"(?:多少|多大|(?<!哪)几)[十百千万亿]*(" + "|".join(map(re.escape, _ASK_UNITS)) + r")?(?:的)?([\u4e00-\u9fff]{0,8})"
)
_CELL_FIGURE = re.compile(
    r"\d[\d.,]*\s*(?:[十百千万亿]+)?\s*(?:余|多)?\s*"
    r"(平方米|平方公里|平米|平方|㎡|m\s*<sup>\s*2|m²|m2|亩|公顷|万元|亿元|元|标箱|[台名人家层只辆吨件套座所栋户架艘株颗条个项位批轴])?"
)
# the class of a figure asked in no unit of its own ("占多少地", "营收能有多少"), from the question's words
_CLASS_HINTS = (
    ("area", re.compile(r"盖|楼|房子|建筑|面积|占|用地|地块|块地|(?:多少|多大)的?地")),
    ("money", re.compile(r"钱|值|收|额|花")),
)
# characters of a question that say nothing of the column asked
_FILLER = set("多少几是的有要能会可大概一共总吗呢么什这那个项目了在到约将和及与为对其后")
CELL_LABEL = 10  # characters before a figure that label it ("项目占地面积约")
CELL_TAIL = 8  # characters after its unit that say what it counts ("万吨工业铝型材")


@dataclass(frozen=True)
class _Asked:
    unit: str  # the unit asked ("平米", "辆"), or ""
    kind: str  # its class ("area", "money"), or the measure word itself, or ""
    noun: str  # what is counted ("票证", "智能门禁系统"), two characters or more, or ""
    words: frozenset[str]  # the question's characters besides the project's name and filler


def _asked_figure(question: str, name: str) -> _Asked | None:
    """What a question asks of a row named `name`, as _cell_answer reads it, or None when it asks no figure it can
    read (no unit, nothing counted, no class hinted)."""
    q = norm(question)
    shared = facts.name_shared(question, name)
    rest = "".join(" " if i in shared else ch for i, ch in enumerate(q))
    m = _ASKED_FIGURE.search(rest)
    if not m:
        return None
    unit = m.group(1) or ""
    # what is counted may be in the name too ("虹鑫铝材年产 5 万吨工业铝型材项目…一年出多少铝型材")
    whole = _ASKED_FIGURE.search(q)
    noun = whole.group(2) if whole and (whole.group(1) or "") == unit else ""
    kind = _UNIT_CLASS.get(unit, unit)
    if not kind:
        kind = next((k for k, rx in _CLASS_HINTS if rx.search(rest)), "")
    noun = noun if len(noun) >= 2 else ""
    words = frozenset(ch for ch in rest if _CJK.match(ch) and ch not in _FILLER)
    if not kind and not noun:
        return None
    return _Asked(unit, kind, noun, words)


def _unit_kind(unit: str) -> str:
    """The class of a unit: "area" (亩, 平方米, ㎡ …), "money" (元, 万元, 亿元), else the measure word itself."""
    u = re.sub(r"\s|<sup>", "", unit)
    if u in ("万元", "亿元"):
        return "money"
    if u.startswith("m"):
        return "area"
    return _UNIT_CLASS.get(u, u)


def _same_unit(a: str, b: str) -> bool:
    """Are two area units the same ("平米" and "㎡": square metres)?"""
    sqm = lambda u: "sqm" if re.sub(r"\s|<sup>", "", u) in ("平方米", "平米", "平方", "㎡", "m²", "m2") else u  # noqa: E731
    return sqm(a) == sqm(b)


def _unit_fits(text: str, asked: _Asked | None) -> bool:
    """Does `text` state a figure in the unit asked, when an area or an amount of money is asked?"""
    if asked is None or asked.kind not in ("area", "money"):
        return True
    return any(_unit_kind(m.group(1) or "") == asked.kind for m in _CELL_FIGURE.finditer(text))


def _cell_answer(cell: str, asked: _Asked, limit: int = 80) -> tuple[int, int] | None:
    """The (start, end) in `cell` of the clause that states the figure asked, or None. A figure answers when its unit
    fits the one asked (a count in 个 fits any count) and either its label shares two of the
    question's characters, or it counts the noun asked, or the unit asked is one of its own (not 个, not money); the
    clause whose figure shares most wins."""
    best, span = 0.0, None
    for a, b in _pieces(cell, limit):
        seg = cell[a:b]
        for m in _CELL_FIGURE.finditer(seg):
            counted = bool(asked.noun) and asked.noun in norm(seg[m.end() : m.end() + CELL_TAIL + len(asked.noun)])
            kind = _unit_kind(m.group(1) or "")
            generic = kind == "个" and asked.kind not in ("area", "money", "")
            if not kind and not (counted and asked.kind in ("", "个")):
                continue  # a bare figure ("5亿印制票证") only counting the noun asked
            if kind and asked.kind and kind != asked.kind and not generic:
                continue
            shared = len(asked.words & set(seg[max(0, m.start() - CELL_LABEL) : m.start()]))
            own_unit = (
                bool(asked.unit)
                and kind == asked.kind
                and kind not in ("个", "money")
                and (kind != "area" or _same_unit(m.group(1), asked.unit))
            )
            if not (shared >= 2 or counted or own_unit):
                continue
            score = shared + (3.0 if counted else 0.0) + (1.0 if kind == asked.kind else 0.0)
            score += 1.0 if asked.unit and kind == "area" and _same_unit(m.group(1), asked.unit) else 0.0
            if score > best:
                best, span = score, (a, b)
    if span is None or span[1] - span[0] > limit:
        return None
    a, b = span
    while b > a and cell[b - 1] in "，,、；;。 ":
        b -= 1
    return a, b
