"""Is the answer in the retrieved passages? Dense similarity barely separates answerable from
unanswerable questions here, so the judgement rests on lexical evidence: how much of the question's
content (terms weighted by rarity, plus every number and year) the best passages contain, and BM25.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rag.lexical import BM25Index
from rag.types import Document, Hit
from rag.zh import Tokenizer, norm, numbers, sentence_spans

# Question words carry no content; they are in the stopword list, these are multi-char leftovers.
_GENERIC = {"哪些", "哪几", "多少", "几个", "是什么", "什么", "怎样", "如何", "分别", "主要", "情况", "目前", "一共", "总共", "是否"}


@dataclass
class Judgement:
    confidence: float
    coverage: float
    numbers_missing: list[str]
    missing_terms: list[str]
    best: int  # index of the hit with the best coverage

    def to_dict(self) -> dict:
        return {"confidence": round(self.confidence, 4), "coverage": round(self.coverage, 4),
                "numbers_missing": self.numbers_missing, "missing_terms": self.missing_terms}


def question_terms(question: str, tokenizer: Tokenizer) -> list[str]:
    return [w for w in tokenizer.keywords(question) if w not in _GENERIC]


def judge(question: str, hits: list[Hit], tokenizer: Tokenizer, bm25: BM25Index,
          documents: Mapping[str, Document] | None = None, window: int = 3) -> Judgement:
    """Confidence in [0, 1] that the top passages answer the question."""
    terms = question_terms(question, tokenizer)
    qnums = {n for n in numbers(question) if len(n) >= 2 or "%" in n}
    if not hits:
        return Judgement(0.0, 0.0, sorted(qnums), terms, 0)
    # Terms the collection never uses are the question's own wording (a paraphrase) and prove nothing either
    # way; names and numbers always count, and a missing one weighs double.
    ents = tokenizer.entities(question)
    max_idf = max((bm25.idf(t) for t in terms), default=1.0) or 1.0
    weights = {t: (bm25.idf(t) or max_idf) * (2.0 if t in ents else 1.0) for t in terms if bm25.idf(t) > 0 or t in ents}
    terms = list(weights)
    total = sum(weights.values()) or 1.0
    best_cov, best_i, best_missing, best_nums = -1.0, 0, terms, sorted(qnums)
    docs = documents or {}
    for i, h in enumerate(hits[:window]):
        doc = docs.get(h.chunk.doc_id)
        # What the passage is about: its heading path, or else the document's title and opening lines.
        about = h.chunk.heading or (h.title + (doc.text[:200] if doc else ""))
        frame = norm(" ".join((about, h.chunk.context)))
        whole = norm(h.chunk.text) + frame
        for hay in _windows(h, frame):
            present = [t for t in terms if norm(t) in hay or _loose_in(t, hay)]
            cov = sum(weights[t] for t in present) / total if terms else 0.5
            nums_missing = sorted(n for n in qnums if n not in numbers(whole) and n not in whole)
            score = cov - 0.35 * len(nums_missing)
            if score > best_cov:
                best_cov, best_i = score, i
                best_missing = [t for t in terms if t not in present]
                best_nums = nums_missing
    confidence = max(0.0, min(1.0, best_cov))
    # A number of the question absent from the best passage, or a name absent from every retrieved document:
    # the passages are about something else.
    seen = norm(" ".join(docs[d].title + docs[d].text for d in {h.chunk.doc_id for h in hits} if d in docs))
    foreign = [t for t in best_missing if t in ents and (norm(t) not in seen if docs else True)]
    if best_nums and len(qnums) > 1:
        # a question about several years or figures ("2020年和2021年分别…") may be answered by several passages
        pool = norm(" ".join(h.chunk.text for h in hits[:window]))
        best_nums = [n for n in best_nums if n not in numbers(pool) and n not in pool]
    if best_nums or foreign:
        confidence = min(confidence, 0.3)

    return Judgement(confidence, max(0.0, best_cov), best_nums, best_missing, best_i)


def _windows(h: Hit, frame: str, span: int = 2) -> list[str]:
    """The passage as overlapping windows of `span` sentences, each with the title, heading and table header."""
    c = h.chunk
    sents = [c.text[s:e] for s, e in sentence_spans(c.text)] or [c.text]
    if c.kind == "table_row":
        return [frame + norm(c.text)]
    return [frame + norm("".join(sents[i : i + span])) for i in range(max(1, len(sents) - span + 1))]


def _loose_in(term: str, hay: str) -> bool:
    """A long term counts as present when all its two-character pieces are (e.g. 规上 vs 规模以上 not, 产业基地项目 split)."""
    t = norm(term)
    if len(t) < 4:
        return False
    return all(t[i : i + 2] in hay for i in range(0, len(t) - 1, 2))
