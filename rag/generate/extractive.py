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
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from rag.answerable import focus_term, question_terms
from rag.embed.base import Embedder
from rag.generate import dates, facts
from rag.generate.base import Draft, Generator
from rag.generate.fit import Cand, Fit
from rag.generate.ground import answer_gaps
from rag.generate.rows import ASKS_MONEY, STATES_AMOUNT, clause_runs, render
from rag.lexical import BM25Index
from rag.types import Citation, Hit
from rag.zh import Tokenizer, clause_spans, norm, numbers, sentence_spans

_ASKS_NUMBER = re.compile(
    r"多少|几|多大|多长|多高|比例|比重|排名|第几|增速|增长|下降|提升|降低|金额|投资|面积|产值|收入|规模"
)
_ASKS_LIST = re.compile(r"哪些|哪几|分别|包括|有哪")
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
MAX_ANSWER = 120
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
# correct fresh-dev3 answer). Not "amount" and "rank": Fit already drops every candidate without them
# (ground.measure_gaps), they refuse no dev answer. Not "place": its candidates are chosen by measure_gaps too, and
# on the quote as trimmed it refused one correct fresh-dev3 answer and no dev unanswerable. Not "qualifier": Fit drops
# its candidates instead (refusing the quote lost a right answer that the next sentence gives).
REFUSED_GAPS = ("subject", "growth", "value", "sector", "period", "topic")


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
        asked = dates.strip_relative(question, dates.relative_time(question)) or question
        terms = question_terms(asked, tokenizer)
        bm25 = self.idf_source()
        weights = {t: (bm25.idf(t) if bm25 else 1.0) or 1.0 for t in terms}
        full = tokenizer.held_full_forms(terms, bm25.idf) if bm25 else {}
        for t, forms in full.items():  # 营收 is found as the passages' 营业收入 (rag.retrieve: BM25 does the same)
            del weights[t]
            weights.update((f, bm25.idf(f)) for f in forms)
        qnums = numbers(question)
        # the noun asked about ("增速" in "…地区生产总值增速是多少"): the sentence that states it is the answer, not its
        # neighbour that shares the question's other terms ("…地区生产总值达4606亿元")
        focus = focus_term(asked, terms, tokenizer)
        focus = norm(full[focus][0] if focus in full else focus)
        cands: list[Cand] = []
        for i, h in enumerate(hits):
            prior = 0.15 * (1.0 / (1 + i))
            for s, e, text in _units(h):
                sc = self._score(text, question, weights, qnums, h) + prior
                # a table row states its header's columns: "营业收入（亿元）" there is the row's too
                if focus and (focus in norm(text) or (h.chunk.kind == "table_row" and focus in norm(h.chunk.context))):
                    sc += FOCUS_BONUS
                cands.append(Cand(i, s, e, sc, text, sc))
        if not cands:
            return Draft("", [], answerable=False)
        self._add_dense(asked, cands)
        cands.sort(key=lambda c: -c.score)
        fits = Fit(question, hits, tokenizer, terms, bm25)
        # a sentence stating no change when a change is asked is no better answer that was dropped: its neighbour
        # stating the change is measured against the rest
        top = max((c.lexical for c in cands if fits.of_kind_asked(c.text)), default=0.0)
        kept: list[Cand] = []
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
        if dates.asks_latest(question):
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
            s, e = self._trim(h, c, weights, qnums, facts.asks_figure(question), bool(ASKS_MONEY.search(question)))
            text, s, e = render(h, _doc_slice(h, s, e), question, s, terms, fits.phases) or ("", s, e)
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

    def _add_dense(self, question: str, cands: list[Cand]) -> None:
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
        self, h: Hit, c: Cand, weights: dict[str, float], qnums: set[str], figure: bool = False, money: bool = False
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
        for s, e in clause_runs(clauses, MAX_ANSWER):
            seg = norm(doc_text[s:e])
            sc = sum(w for term, w in weights.items() if norm(term) in seg)
            sc += (0.5 if _HAS_NUMBER.search(seg) else 0.0) - 0.001 * (e - s)
            # a figure besides the question's own numbers and dates ("2022年，通过…" states no figure asked)
            if figure and facts.has_figure(facts.DATE.sub(" ", facts.without(doc_text[s:e], qnums_sorted))):
                sc += 2.0
            if money and STATES_AMOUNT.search(seg):
                sc += 1.0  # "多大金额" is said by "总金额1351亿元", not by its neighbour "共签约项目111个"
            if sc > best:
                best, best_span = sc, (s, e)
        s, e = best_span
        while e > s and doc_text[e - 1] in "，,、：:；;":
            e -= 1
        return s, e


def _rivals(best: Cand, c: Cand, fits: Fit) -> bool:
    """Does `c` answer about as well as `best` (CLOSE_SHARE of its score) a question asking a figure, stating
    figures (not dates, not the question's own numbers) none of which `best` states?"""
    if not fits.figure or c.score < CLOSE_SHARE * best.score or norm(c.text) == norm(best.text):
        return False
    a, b = fits.own_figures(best.text), fits.own_figures(c.text)
    return bool(a) and bool(b) and not a & b


def _latest_first(cands: list[Cand], hits: list[Hit]) -> list[Cand]:
    """The candidates with the one of the latest year first, among those that answer about as well as the best:
    its year (the sentence's, else the last stated before it in the passage; never a target year, "到2025年") later
    than the best's, or the best states no year at all."""

    def year(c: Cand) -> int:
        h = hits[c.hit_i]
        return dates.stated_year(c.text, h.chunk.text[: c.start - h.chunk.start]) or 0

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
    return list(_chunk_units(c.kind, c.text, c.start, c.end))


@lru_cache(maxsize=4096)
def _chunk_units(kind: str, text: str, start: int, end: int) -> tuple[tuple[int, int, str], ...]:
    """_units of a passage, found once: the same passages come back question after question (a pure function of
    the passage; the index keeps its strings, so their hashes are computed once)."""
    if kind == "table_row" and "\t" in text:
        return ((start, end, text),)
    view = " " * start + text  # _DocView's document offsets
    return tuple((s, e, view[s:e]) for s, e in sentence_spans(view, start, end) if not facts.is_question(view[s:e]))
