"""A jieba dictionary mined from a collection's own text at index time: frequent, cohesive character n-grams.

Candidates are runs of one to three jieba words (so a term never starts or ends inside a word): a word jieba had
to guess (not in its dictionary: 华勤, 赣锋), or a compound of known words that opens with a content word and ends
with a noun. A term is kept when it occurs at least `min_count` times, its parts stick together far more often than
chance (normalised pointwise mutual information at its weakest split), and it is free at both ends: the words seen
just before and just after it vary (boundary entropy), so "华勤千亿产业" (always followed by 基地) is not a term but
"华勤千亿产业基地" is. Words jieba already keeps whole are left out. Each term gets the frequency jieba needs to
keep it whole and a part-of-speech tag: a place (ns) or organisation (nt) by its suffix, another name (nz) when
jieba's own dictionary does not know its pieces (华勤, 赣锋), a noun (n) otherwise. The dictionary is stored with the
index version (rag.indexer) and loaded by that collection's tokenizer (rag.zh.Tokenizer.with_terms).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from rag.zh import CJK, Tokenizer, join_cjk_spaces

FILE = "dictionary.txt"  # its name in an index version folder (named in the manifest)
_RUN = re.compile(rf"[{CJK}]+")
# Function characters never start or end a term (单字 stopwords; 上/下/中 stay: 上海, 下降, 中心).
_EDGE = frozenset("的了和与及或是在有为对于将把被从到由以而并也都就还又等其该此这那之个们吗呢啊着过得地很更最")
_PLACE = ("省", "市", "区", "县", "镇", "乡", "村", "新区", "开发区", "高新区", "经开区", "园区")
_NOT_FIRST = frozenset({"v", "d", "p", "c", "u", "r", "m", "q", "f", "t", "ad", "uj", "ul", "y", "e", "o", "zg"})
_NOT_LAST = _NOT_FIRST | {"a", "vd"}
_ORG = (
    "公司",
    "集团",
    "研究院",
    "研究所",
    "大学",
    "学院",
    "银行",
    "中心",
    "委员会",
    "管委会",
    "局",
    "厅",
    "部",
    "协会",
)


_NUMERAL = frozenset("一二三四五六七八九十两百千几")  # 三大, 两化: counted things, not names (万 is a surname)
_SUFFIX = frozenset(x for x in _PLACE + _ORG if len(x) == 1)


@dataclass(frozen=True)
class MiningParams:
    min_count: int = 3
    max_len: int = 10  # characters
    max_words: int = 3
    min_npmi: float = 0.5  # normalised PMI at the weakest split: 1 when the parts only ever occur together
    min_entropy: float = 0.9  # natural log, each side
    max_terms: int = 2000  # the Milvus store keeps the dictionary in its manifest row (64 KiB)
    max_chars: int = 4_000_000  # longer collections are sampled at an even stride


class Term(NamedTuple):
    """One dictionary entry, in jieba's user-dictionary order (word, frequency, part-of-speech tag)."""

    word: str
    freq: int
    tag: str

    def line(self) -> str:
        return f"{self.word} {self.freq} {self.tag}"


def _runs(texts: Iterable[str], max_chars: int) -> list[str]:
    runs: list[str] = []
    for t in texts:
        t = join_cjk_spaces(unicodedata.normalize("NFKC", t)).lower()
        runs.extend(_RUN.findall(t))
    total = sum(map(len, runs))
    if total > max_chars:
        stride = math.ceil(total / max_chars)
        runs = runs[::stride]
    return runs


def mine(texts: Iterable[str], base: Tokenizer, params: MiningParams | None = None) -> list[Term]:
    """The collection's terms, most frequent first (see the module docstring)."""
    p = params or MiningParams()
    seqs = [base.words(r) for r in _runs(texts, p.max_chars)]
    counts: Counter[tuple[str, ...]] = Counter()
    for ws in seqs:
        for n in range(1, p.max_words + 2):  # one longer than a term, for the neighbours of the longest
            for i in range(len(ws) - n + 1):
                counts[tuple(ws[i : i + n])] += 1
    total = sum(len(ws) for ws in seqs) or 1

    def candidate(g: tuple[str, ...], c: int) -> bool:
        w = "".join(g)
        if c < p.min_count or not 2 <= len(w) <= p.max_len or len(g) > p.max_words:
            return False
        if len(g) == 1:  # a word jieba guessed (not in its dictionary): a name, if it recurs
            return not base.known(w) and w[0] not in _EDGE and w[-1] not in _EDGE and w[0] not in _NUMERAL
        if base.known(w) or any(base.is_stopword(x) or x.isdigit() for x in g):
            return False
        # a term opens with a content word and ends with a noun (or a place / organisation suffix)
        return (
            len(g[0]) > 1
            and base.pos(g[0]) not in _NOT_FIRST
            and (g[-1] in _SUFFIX or (len(g[-1]) > 1 and base.pos(g[-1]) not in _NOT_LAST))
        )

    cands = {g for g, c in counts.items() if candidate(g, c)}
    left: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    right: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for g, c in counts.items():  # neighbours from the (n+1)-grams
        if len(g) >= 2:
            if g[1:] in cands:
                left[g[1:]][g[0]] += c
            if g[:-1] in cands:
                right[g[:-1]][g[-1]] += c
    kept: list[tuple[str, int, tuple[str, ...]]] = []
    for g in cands:
        c = counts[g]
        if min(_free(left[g], c), _free(right[g], c)) < p.min_entropy:
            continue
        if len(g) > 1 and _npmi(g, counts, total) < p.min_npmi:
            continue
        kept.append(("".join(g), c, g))
    kept.sort(key=lambda x: (-x[1] * len(x[0]), x[0]))
    out: list[Term] = []
    seen: set[str] = set()
    for w, c, g in kept:
        if w in seen:
            continue
        seen.add(w)
        out.append(Term(w, max(c, base.freq_to_keep(w)), _tag(w, g, base)))
        if len(out) >= p.max_terms:
            break
    return out


def _npmi(g: tuple[str, ...], counts: Counter[tuple[str, ...]], total: int) -> float:
    """Normalised pointwise mutual information of the term's weakest split into two parts (-1 … 1)."""
    c = counts[g]
    h = math.log(total / c) or 1.0
    return min(math.log(c * total / (counts[g[:i]] * counts[g[i:]])) for i in range(1, len(g))) / h


def _free(neighbours: Counter[str], count: int) -> float:
    """Entropy of the words next to a term; an occurrence at a run's edge (punctuation, a number) counts as a
    distinct neighbour of its own."""
    c = Counter(neighbours)
    edge = count - sum(c.values())
    probs = [v / count for v in c.values()] + [1 / count] * max(edge, 0)
    return -sum(q * math.log(q) for q in probs if q > 0)


def _tag(word: str, pieces: tuple[str, ...], base: Tokenizer) -> str:
    last = pieces[-1]
    if last in _PLACE or base.pos(last) == "ns" or (len(pieces) > 1 and word.endswith(_PLACE[-5:])):
        return "ns"
    if last in _ORG or base.pos(last) == "nt" or last.endswith(("公司", "集团")):
        return "nt"
    if not base.known(pieces[0]):
        return "nz"  # it opens with a word jieba's dictionary does not know: a name
    return "n"


def to_text(terms: list[Term]) -> str:
    return "".join(t.line() + "\n" for t in terms)


def parse(text: str) -> list[Term]:
    out: list[Term] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            out.append(Term(parts[0], int(parts[1]), parts[2]))
    return out


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
