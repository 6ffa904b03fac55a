"""Unanswerable questions made from answerable ones, for fitting the answerability judge (rag.evaluate.calibrate).

A dev set has few unanswerable questions (11 of 89 at first), too few to fit or choose thresholds on. Each answerable
dev question is turned into unanswerable ones by swapping one thing the question is about for something the collection
never pairs with the rest of the question:
- a year: one the evidence document never states, stated in no passage together with the question's anchor terms;
- a place: a place named elsewhere in the collection (another seed), named in no passage with the anchor terms;
- an organisation or project name: another such name of the collection, under the same condition;
- a figure in the question ("总投资150亿元的…"): the figure changed, in no passage with the anchor terms.
The anchor terms are the question's two rarest content terms other than the swapped one (by the collection's idf):
no passage holds the swapped term with either, so no passage can state the swapped fact. These questions are for
fitting only (answerable.json records that they were used); the reported figures are on real items.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.generate import dates, subject
from rag.zh import Tokenizer, norm, numbers

YEARS = tuple(range(2010, 2027))
KINDS = ("year", "place", "name", "figure")
_SINGLE_DOC = {"numeric", "factoid", "paraphrase", "list"}


@dataclass(frozen=True)
class Corpus:
    """Normalised passage texts (heading, title and text) and document texts of a collection."""

    passages: tuple[str, ...]
    documents: dict[str, str]  # doc_id → normalised text

    def together(self, a: str, others: Iterable[str]) -> bool:
        """Does any passage hold `a` together with one of `others`?"""
        a = norm(a)
        os = [norm(o) for o in others if o]
        return any(a in p and any(o in p for o in os) for p in self.passages)


def corpus_of(data) -> Corpus:  # a rag.store IndexData
    passages = tuple(
        norm(" ".join((c.heading or "", data.documents[c.doc_id].title if c.doc_id in data.documents else "", c.text)))
        for c in data.chunks
    )
    return Corpus(passages, {d: norm(doc.title + doc.text) for d, doc in data.documents.items()})


def _anchors(question: str, skip: str, tokenizer: Tokenizer, idf) -> list[str]:
    terms = [
        t
        for t in tokenizer.keywords(question)
        if len(t) >= 2 and not numbers(t) and norm(t) not in norm(skip) and norm(skip) not in norm(t)
    ]
    return sorted(terms, key=lambda t: -idf(t))[:2]


def _names(text: str, tokenizer: Tokenizer, tags: frozenset[str]) -> list[str]:
    return [w for w, f in tokenizer.tagged(text) if f in tags and len(w) >= 2]


_ORG_SUFFIX = ("股份有限公司", "有限责任公司", "有限公司", "公司", "集团", "研究院", "大学", "项目")


def _stem(place: str) -> str:
    m = subject.ADMIN.match(place)
    return m.group(1) if m else place


def _org_suffix(name: str) -> str:
    """The kind of an organisation or project name ("公司", "集团" …), "" for a bare suffix or another word."""
    for suf in _ORG_SUFFIX:
        if name.endswith(suf):
            own = name[: -len(suf)]
            return suf if len(own) >= 2 and not own.endswith(("有限", "股份", "实业")) else ""
    return ""


def candidates(corpus_texts: Sequence[str], tokenizer: Tokenizer) -> tuple[list[str], list[str]]:
    """(place stems, organisation names) of the collection, most frequent first: the replacements tried. A place is
    swapped by its stem (南昌 for 南昌市), so that "南昌高新区" becomes "新余高新区"."""
    places: Counter[str] = Counter()
    names: Counter[str] = Counter()
    for t in corpus_texts:
        for p in subject.places(t, tokenizer):
            stem = _stem(p)
            if len(stem) >= 2 and (p != stem or p.endswith("州")) and dict(tokenizer.tagged(stem)).get(stem) == "ns":
                places[stem] += 1
        names.update(w for w in _names(t, tokenizer, frozenset({"nt", "nz"})) if _org_suffix(w))
    return [p for p, _ in places.most_common()], [n for n, _ in names.most_common()]


def synthesize(
    items: Iterable[dict],
    corpus: Corpus,
    tokenizer: Tokenizer,
    idf,
    places: Sequence[str],
    names: Sequence[str],
) -> list[dict]:
    """Unanswerable variants of the answerable single-document items, at most one per kind per item; each with
    "type": "unanswerable", "synthetic": kind and "source": the item's id."""
    out: list[dict] = []
    for item in items:
        if item.get("type") not in _SINGLE_DOC:
            continue
        q = item["question"]
        doc = item.get("doc")
        doc_text = corpus.documents.get(str(doc).removesuffix(".txt"), "") if isinstance(doc, str) else ""
        made = [
            _swap_year(q, doc_text, corpus, tokenizer, idf),
            _swap_place(q, corpus, tokenizer, idf, places),
            _swap_name(q, corpus, tokenizer, idf, names),
            _swap_figure(q, corpus, tokenizer, idf),
        ]
        for kind, new in zip(KINDS, made, strict=True):
            if new and new != q:
                out.append(
                    {
                        "id": f"{item['id']}-{kind}",
                        "question": new,
                        "type": "unanswerable",
                        "split": item.get("split", "dev"),
                        "synthetic": kind,
                        "source": item["id"],
                    }
                )
    return out


def _swap_year(q: str, doc_text: str, corpus: Corpus, tokenizer: Tokenizer, idf) -> str:
    ys = sorted(dates.years(q))
    if len(ys) != 1 or not re.search(rf"{ys[0]}\s*年", q):
        return ""
    y = ys[0]
    anchors = _anchors(q, str(y), tokenizer, idf)
    # the nearest years first: "2022年" for a 2021 question is the swap a reader makes
    for new in sorted((x for x in YEARS if x != y), key=lambda x: (abs(x - y), x)):
        if str(new) in doc_text or corpus.together(f"{new}年", anchors):
            continue
        return re.sub(rf"{y}(\s*年)", rf"{new}\1", q, count=1)
    return ""


def _swap_place(q: str, corpus: Corpus, tokenizer: Tokenizer, idf, places: Sequence[str]) -> str:
    asked = [p for p in places if p in q]
    others = [w for w in subject.places(q, tokenizer) if not any(a in w for a in asked)]
    if len(asked) != 1 or q.count(asked[0]) != 1 or others:
        return ""  # a question about two places stays answerable about the other one
    p = asked[0]
    anchors = _anchors(q, p, tokenizer, idf)
    for new in places:
        if subject.same_place(new, p) or new in q or corpus.together(new, anchors):
            continue
        return q.replace(p, new, 1)
    return ""


def _swap_name(q: str, corpus: Corpus, tokenizer: Tokenizer, idf, names: Sequence[str]) -> str:
    asked = [w for w in names if w in q] or [w for w in _names(q, tokenizer, frozenset({"nt", "nz"})) if _org_suffix(w)]
    if not asked:
        return ""
    n = max(asked, key=len)
    kind = _org_suffix(n)
    anchors = _anchors(q, n, tokenizer, idf)
    for new in names:
        if _org_suffix(new) != kind or norm(new) in norm(q) or norm(n) in norm(new) or norm(new) in norm(n):
            continue
        if corpus.together(new, anchors):
            continue
        return q.replace(n, new, 1)
    return ""


_FIG = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?=\s*(?:亿元|万元|元|个|家|亩|%|万|亿|名|位|项|GWh|吨|台))")


def _swap_figure(q: str, corpus: Corpus, tokenizer: Tokenizer, idf) -> str:
    m = next((m for m in _FIG.finditer(q) if not dates.years(q[m.start() : m.end() + 1])), None)
    if not m:
        return ""
    old = m.group(1)
    anchors = _anchors(q, old, tokenizer, idf)
    value = float(old)
    for factor in (1.5, 2, 3, 0.5):
        x = value * factor
        new = str(int(x)) if x == int(x) and "." not in old else f"{x:.1f}"
        if new == old or corpus.together(new, anchors):
            continue
        return q[: m.start()] + new + q[m.end() :]
    return ""
