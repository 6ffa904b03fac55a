"""Is the answer in the retrieved passages? Dense similarity barely separates answerable from unanswerable questions
here (mean top-1 cosine 0.92 vs 0.92, also sentence by sentence), so the judgement rests on lexical evidence about
the best window of two sentences among the top passages (BM25's, see RANKING): whether the question's numbers are
there, whether the noun the question asks about ("营业收入", "投资额") is there, whether every term is, whether
the place or organisation it asks about is named by any top passage at all, and the top BM25 score (in units of the
collection's largest idf, so it reads the same in a small upload as in a big corpus). A logistic model fitted on the
dev part of the project's QA set and unanswerable questions made from it (rag/data/answerable.json, written by
`python -m rag.evaluate.calibrate`) turns them into a probability.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError
from rag.generate import dates, facts, subject
from rag.lexical import BM25Index
from rag.types import Document, Hit
from rag.zh import ENTITY_TAGS, Tokenizer, data_file, norm, numbers, sentence_spans

# Question words carry no content; they are in the stopword list, these are multi-char leftovers.
_GENERIC = {
    "哪些",
    "哪几",
    "多少",
    "几个",
    "是什么",
    "什么",
    "怎样",
    "如何",
    "分别",
    "主要",
    "情况",
    "目前",
    "一共",
    "总共",
    "是否",
    "数量",
    "数目",
    "个数",
    "总数",
    "数额",
    "金额",
}  # measure words: the thing measured is the focus


# The asked-about word sits just before the question word ("…营业收入是多少", "…排名第几位").
_ASKS = re.compile(r"是多少|有多少|多少|多大|多长|几|哪|什么|怎样|如何|是否")
_NOUN_TAGS = frozenset({"n", "vn", "nz", "nt", "ns", "nr", "an", "ng", "l", "j"})

# Tried and left out (cross-validated on dev by rag.evaluate.calibrate): `coverage` and `foreign` (a name absent from
# every retrieved document; it carried no weight once `subject_missing` was there), both kept in the features for the
# record; a `no_figure` flag (the best window states no figure for a "how many" question); BM25 over what a passage
# holding every query term would score. They add nothing held out, or only with a weight of the wrong sign.
# Also tried, scored leave-one-origin-out (`python -m rag.evaluate.calibrate --by-origin`: fitted on four of the five
# dev origins, scored on the fifth): the idf-weighted coverage of the best single sentence, the number of the
# collection's terms it lacks, `coverage` beside it, the margin between the top two BM25 scores, and the top BM25 score
# over the query's idf mass. With the extractive generator's refusals none refused more of the held-out unanswerable
# items than these five (0.830 refused, 0.030 false refusals, pooled), two took more false refusals (0.052), and the
# sentence-level ones fitted with the wrong sign beside `all_present`.
FEATURES = ("numbers_missing", "focus_missing", "bm25", "all_present", "subject_missing")

# The ranking the judge reads: BM25's own top passages, the same on every host. The hybrid ranking's near-ties depend
# on the CPU class (int8 or bf16 passage vectors moved held-out refusal figures by up to 3 points), so features
# computed on it made the fit and the refusals differ from host to host; on BM25's passages the cross-validated log
# loss on dev is no worse (0.440 vs 0.445).
RANKING = "bm25"


@lru_cache
def calibration(path: str | None = None) -> dict:
    """Logistic weights over FEATURES and the two refusal thresholds, fitted on the dev items of eval/qa.jsonl by
    `make calibrate` (`python -m rag.evaluate.calibrate`, which writes this file); changing them needs no code
    change."""
    data = json.loads((Path(path) if path else data_file("answerable.json")).read_text(encoding="utf-8"))
    missing = [f for f in FEATURES if f not in data["weights"]]
    if missing:
        raise ConfigError(f"answerability calibration lacks weights for: {', '.join(missing)}")
    return data


def thresholds() -> dict[str, float]:
    """The refusal thresholds chosen with the weights (`refuse_below` for extractive answers, `llm_refuse_below` for
    generated ones); the settings override them."""
    return dict(calibration().get("thresholds") or {"refuse_below": 0.25, "llm_refuse_below": 0.10})


@dataclass
class Judgement:
    confidence: float  # probability that the passages answer the question
    coverage: float
    numbers_missing: list[str]
    missing_terms: list[str]
    best: int  # index of the hit with the best coverage
    features: dict[str, float] = field(default_factory=dict)
    focus: str = ""

    def to_dict(self) -> dict:
        return {
            "confidence": round(self.confidence, 4),
            "coverage": round(self.coverage, 4),
            "numbers_missing": self.numbers_missing,
            "missing_terms": self.missing_terms,
            "focus": self.focus,
            "features": {k: round(v, 4) for k, v in self.features.items()},
        }


def question_terms(question: str, tokenizer: Tokenizer) -> list[str]:
    return [w for w in tokenizer.keywords(question) if w not in _GENERIC]


def rarest_idf(n_passages: int) -> float:
    """The idf of a term found in one passage of `n_passages` (bm25s' Lucene formula). BM25 scores scale with it: a
    five-passage upload scores a perfect match about 20 times lower than the 410-passage seeds, so the judge reads
    BM25 in units of it and one calibration serves collections of any size."""
    return math.log(1 + (max(n_passages, 1) - 0.5) / 1.5)


def focus_term(question: str, terms: list[str], tokenizer: Tokenizer) -> str:
    """The noun the question asks about: the last content noun before its question word ("营业收入" in
    "赣锋锂业2023年营业收入是多少？"); empty when the question has no question word (a summary request)."""
    q = norm(question)
    m = _ASKS.search(q)
    if not m:
        return ""
    head = q[: m.start()]
    tagged = tokenizer.tagged(question)
    tags = dict(tagged)
    ents = {w for w, flag in tagged if flag in ENTITY_TAGS}
    best, at = "", -1
    for t in terms:
        if t in ents or any(ch.isdigit() for ch in t) or tags.get(t, "n") not in _NOUN_TAGS:
            continue
        i = head.rfind(norm(t))
        if i > at:
            best, at = t, i
    return best


# A passage stating no year is read in its document's time where nothing else dates it:
# - entries dated to the day ("7月7日上午，…检察长刘炽赴…", a bulletin's 大事记 or a news day), and passages stating
#   no figure at all (who heads which office, what a plan does), are of the document's year
#   (rag.generate.dates.document_year): the question's "2021年" is not missing there. Not a passage stating figures
#   without a day: a dated document also reports the year before ("…比重达到2.2%" in a 2021 plan);
# - a list under a lead-in line of its section ("到2025年末：" before "——产业集群持续壮大。…超过5000亿元") is of the
#   lead-in's years.
_DAY = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日")
_LEAD_IN = re.compile(r"(?m)([^\n。！？；]{0,40})[：:][ \t]*$")


def _dated(h: Hit, doc: Document | None) -> set[str]:
    """The years (as strings) that date passage `h` when it states none itself (see above)."""
    text = h.chunk.text + " " + h.chunk.heading
    if doc is None or dates.years(text):
        return set()
    out = {str(y) for y in dates.years(_lead_in(h, doc))}
    if _DAY.search(text) or not facts.has_figure(h.chunk.text):
        year = dates.document_year(doc)
        out |= {str(year)} if year else set()
    return out


def _lead_in(h: Hit, doc: Document) -> str:
    """The last line ending in a colon between the passage's section heading and the passage ("到2025年末："); "" when
    the heading is not found before it."""
    start = h.chunk.start
    if not h.chunk.heading or not 0 < start <= len(doc.text):
        return ""
    last = h.chunk.heading.split(" > ")[-1].strip()
    at = doc.text.rfind(last, 0, start) if last else -1
    if at < 0:
        return ""
    leads = _LEAD_IN.findall(doc.text[at + len(last) : start])
    return leads[-1] if leads else ""


def judge(
    question: str,
    hits: list[Hit],
    tokenizer: Tokenizer,
    bm25: BM25Index,
    documents: Mapping[str, Document] | None = None,
    window: int = 3,
) -> Judgement:
    """Probability that the top passages answer the question, from lexical evidence (see the module docstring)."""
    j = evidence(question, hits, tokenizer, bm25, documents, window)
    if j.features:
        cal = calibration()
        z = cal["bias"] + sum(cal["weights"][k] * j.features[k] for k in FEATURES)
        j.confidence = 1.0 / (1.0 + math.exp(-z))
    return j


def evidence(
    question: str,
    hits: list[Hit],
    tokenizer: Tokenizer,
    bm25: BM25Index,
    documents: Mapping[str, Document] | None = None,
    window: int = 3,
) -> Judgement:
    """The judgement's features (confidence left at 0): what the best window of the top passages holds."""
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
    focus = focus_term(question, terms, tokenizer)
    best_cov, best_i, best_missing, best_nums = -1.0, 0, terms, sorted(qnums)
    docs = documents or {}
    for i, h in enumerate(hits[:window]):
        doc = docs.get(h.chunk.doc_id)
        # What the passage is about: its heading path, or else the document's title and opening lines.
        about = h.chunk.heading or (h.title + (doc.text[:200] if doc else ""))
        frame = _normed(" ".join((about, h.chunk.context)))
        whole = _normed(h.chunk.text) + frame
        dated = _dated(h, doc)
        for hay in _windows(h, frame):
            present = [t for t in terms if norm(t) in hay or _loose_in(t, hay) or t in dated]
            cov = sum(weights[t] for t in present) / total if terms else 0.5
            nums_missing = sorted(n for n in qnums if n not in numbers(whole) and n not in whole and n not in dated)
            score = cov - 0.35 * len(nums_missing)
            if score > best_cov:
                best_cov, best_i = score, i
                best_missing = [t for t in terms if t not in present]
                best_nums = nums_missing
    # A name absent from every retrieved document: the passages are about something else.
    seen = [_normed(docs[d].title) + _normed(docs[d].text) for d in {h.chunk.doc_id for h in hits} if d in docs]
    foreign = [t for t in best_missing if t in ents and (not any(norm(t) in x for x in seen) if docs else True)]
    if best_nums and len(qnums) > 1:
        # a question about several years or figures ("2020年和2021年分别…") may be answered by several passages
        pool = norm(" ".join(h.chunk.text for h in hits[:window]))
        best_nums = [n for n in best_nums if n not in numbers(pool) and n not in pool]
    coverage = max(0.0, min(1.0, best_cov + 0.35 * len(best_nums)))
    subject_missing = _subject_missing(question, hits[:window], tokenizer, docs)
    top_bm25 = max((h.scores.get("bm25", 0.0) for h in hits), default=0.0)
    features = {
        "numbers_missing": float(bool(best_nums)),
        "foreign": float(bool(foreign)),
        "focus_missing": float(bool(focus) and focus in best_missing),
        "bm25": math.log1p(top_bm25 / rarest_idf(bm25.size)),
        "coverage": coverage,
        "all_present": float(not best_missing and not best_nums),
        "subject_missing": float(subject_missing),
    }
    return Judgement(0.0, coverage, best_nums, best_missing, best_i, features, focus)


def _subject_missing(question: str, hits: list[Hit], tokenizer: Tokenizer, docs: Mapping[str, Document]) -> bool:
    """One of the question's subjects (its places, organisation and project names; see rag.generate.facts) is named
    by none of the top passages (their text, heading and document title): the passages are about another subject, as
    when "2021年赣州工业投资…" finds the passage on 南昌's 工业投资. Places are matched by their stem (南昌 for
    南昌市), names without their legal form (洪都 for 洪都集团)."""
    texts = " ".join(h.title + " " + h.chunk.text for h in hits)
    places, names = subject.question_subjects(question, tokenizer, texts)
    subjects = {_place_stem(p) for p in places} | {_name_stem(n) for n in names if len(n) >= 4 and n not in places}
    # other proper nouns jieba finds (景德镇 comes out as a person's name, nr), unless a place above holds them; not
    # one with a numeral in it (五百强 is tagged nr too)
    subjects |= {
        w
        for w, f in tokenizer.tagged(question)
        if f in ("nr", "nrt", "nrfg", "ns")
        and len(w) >= 3
        and not _NUMERAL.search(w)
        and not any(w in p or p in w for p in places)
        and not _false_name(w, tokenizer)
    }
    if not subjects:
        return False
    hays = []
    for h in hits:
        doc = docs.get(h.chunk.doc_id)
        hays.append(
            _normed(" ".join((h.title, h.chunk.heading, h.chunk.context, h.chunk.text, doc.title if doc else "")))
        )
    if any(all(norm(s) in hay for s in subjects) for hay in hays):
        return False
    # a question about several places ("赣州与常州高新区…分别") may be answered by a passage on each
    return len(places) < 2 or any(not any(norm(s) in hay for hay in hays) for s in subjects)


# Tags of a single character that is no part of a name: adverbs, prepositions, particles, conjunctions, numerals,
# measure words, pronouns, locatives ("约" in "占地约", "为" in "面积为").
_FUNCTION_TAGS = frozenset({"d", "p", "u", "ul", "uj", "uz", "ug", "uv", "c", "m", "q", "r", "f", "y"})
_NAME_TAGS = ENTITY_TAGS | {"nrt", "nrfg"}


def _false_name(word: str, tokenizer: Tokenizer) -> bool:
    """A name jieba makes of a common word and a function character beside it ("占地约" = 占地 + 约, tagged nr): the
    word alone is tagged as no name and the character as a function word."""
    for part, char in ((word[:-1], word[-1]), (word[1:], word[0])):
        tp, tc = tokenizer.tagged(part), tokenizer.tagged(char)
        if len(tp) == 1 and len(tc) == 1 and tp[0][1] not in _NAME_TAGS and tc[0][1] in _FUNCTION_TAGS:
            return True
    return False


def _place_stem(place: str) -> str:
    m = subject.ADMIN.match(place)
    return m.group(1) if m and len(m.group(1)) >= 2 else place


_NUMERAL = re.compile(r"[\d一二三四五六七八九十百千万亿两]")


def _name_stem(name: str) -> str:
    stem = facts.LEGAL_FORM.sub("", name)
    return stem if len(stem) >= 2 else name


def _windows(h: Hit, frame: str, span: int = 2) -> list[str]:
    """The passage as overlapping windows of `span` sentences, each with the title, heading and table header."""
    return [frame + w for w in _passage_windows(h.chunk.text, h.chunk.kind == "table_row", span)]


@lru_cache(maxsize=8192)
def _passage_windows(text: str, whole: bool, span: int) -> tuple[str, ...]:
    if whole:
        return (_normed(text),)
    sents = [text[s:e] for s, e in sentence_spans(text)] or [text]
    return tuple(norm("".join(sents[i : i + span])) for i in range(max(1, len(sents) - span + 1)))


@lru_cache(maxsize=8192)
def _normed(text: str) -> str:
    """norm() of passage and document texts, which come back request after request (the index keeps the strings,
    so their hashes are computed once)."""
    return norm(text)


def _loose_in(term: str, hay: str) -> bool:
    """A long term counts as present when all its two-character pieces are (e.g. 规上 vs 规模以上 not,
    产业基地项目 split)."""
    t = norm(term)
    if len(t) < 4:
        return False
    return all(t[i : i + 2] in hay for i in range(0, len(t) - 1, 2))
