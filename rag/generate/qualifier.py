"""The "qualifier" answer gap: the question asks the figure of a qualified noun ("居民生活用电量", "多少家市级绿色工厂",
"PCT国际专利申请量", "多少名在校学生") and the evidence states its head noun ("用电量", "绿色工厂", "专利申请量",
"学生") with another qualifier or none ("全社会用电量", "国家级绿色工厂", "专利申请量", "需要高关怀的学生"): the
figure is another quantity's. A rule about a modifier and its head noun, read from the question's words as jieba tags
them; the qualifier must be one the documents use (a paraphrase's own word proves nothing)."""

from __future__ import annotations

import re

from rag.generate import facts
from rag.lexical import BM25Index
from rag.types import Hit
from rag.zh import Tokenizer, norm

# the words of a noun phrase: nouns, distinguishing words ("市级"), nominal verbs ("生活"), Latin terms ("PCT")
_NOUNISH = frozenset({"n", "nz", "nt", "l", "j", "vn", "b", "eng", "an"})
# between the noun phrase and the question word: "是 / 有 / 达到 / 同比增长 / 一共"
_BETWEEN = frozenset(
    "是 为 有 达 达到 约 约为 大约 大概 共 一共 总共 共有 累计 合计 同比 环比 增长 增加 下降 减少 提高 了 能 可 将 预计"
    " 可达 实现".split()
)
_LINK = frozenset({"类", "的", "之"})  # "电子信息类项目" is one phrase
# scope, time and accumulation words: not a qualifier of what is counted ("全市…企业总户数" is stated by "企业总户数")
_NOT_QUALIFIER = re.compile(
    r"^(?:全市|全省|全国|全区|全县|全州|我市|我省|本市|该市|市域|全年|年度|累计|总|当年|今年|去年|上年|目前|现有)"
)
_NAMED = re.compile(r"(?:项目|工程|公司|集团|企业|基地|园区|产业园|中心|学校|医院)$")
_CLAUSE = re.compile(r"[，,；;。：:！？!?]")
_ASKED = re.compile(r"^(?:多少|几.?)$")  # "多少", "几", "几个"


def asked_phrase(question: str, tokenizer: Tokenizer) -> tuple[str, list[str]]:
    """The noun phrase whose figure is asked, normalised, and its words: what is counted after "多少 + measure word"
    ("市级绿色工厂"), else the run of nouns before the question word ("居民生活用电量同比增长多少"); ("", []) if
    none."""
    tagged = [(norm(w), f) for w, f in tokenizer.tagged(question)]
    at = next((i for i, (w, _) in enumerate(tagged) if _ASKED.match(w)), None)
    if at is None:
        return "", []
    words: list[str] = []
    j = at + 1
    measured = len(tagged[at][0]) == 2 and tagged[at][0][0] == "几"  # "几个", one word
    if not measured and j < len(tagged) and tagged[j][1] in ("q", "zg", "m") and len(tagged[j][0]) == 1:
        j, measured = j + 1, True
    if measured:  # what follows the measure word is counted
        while j < len(tagged) and (tagged[j][1] in _NOUNISH or tagged[j][0] in _LINK and words):
            words.append(tagged[j][0])
            j += 1
    if not words:
        j = at - 1
        while j >= 0 and at - j <= 3 and tagged[j][0] in _BETWEEN:
            j -= 1
        while j >= 0 and (tagged[j][1] in _NOUNISH or tagged[j][0] in _LINK and words):
            words.insert(0, tagged[j][0])
            j -= 1
    while words and (words[-1] in _LINK):
        words.pop()
    # "…算力产业园项目总投资": the words up to the organisation or project are its name (the subject check's), not a
    # qualifier of the quantity asked
    named = [i for i, w in enumerate(words[:-1]) if _NAMED.search(w)]
    if named:
        words = words[named[-1] + 1 :]
    while words and (words[0] in _LINK or _NOT_QUALIFIER.match(words[0])):
        words.pop(0)
    return "".join(words), words


def qualifier_gap(
    question: str,
    sentence: str,
    tokenizer: Tokenizer,
    bm25: BM25Index | None = None,
    passages: list[Hit] | None = None,
    passage: str = "",
) -> bool:
    """The sentence states the head noun of the phrase asked ("用电量" of "居民生活用电量") but, in that clause and
    the one before it, not the phrase's qualifier ("居民生活"), which the documents use (the collection, `bm25`, or
    else the retrieved `passages`), and the sentence's `passage` never states the whole phrase (a list,
    "国家级重点实验室5家；省级重点实验室158家", may give the figure asked in a later clause than the span quoted)."""
    if not facts.asks_figure(question):
        return False
    phrase, words = asked_phrase(question, tokenizer)
    s = norm(sentence)
    if len(phrase) < 4 or phrase in s or phrase in norm(passage):
        return False
    clauses = _CLAUSE.split(s)
    missing: list[str] = []
    for k, clause in enumerate(clauses):
        head = _longest_head(words, clause)
        if head is None:
            continue
        pieces = [p for w in head for p in [_NOT_QUALIFIER.sub("", w.strip("类的之"))] if len(p) >= 2]
        window = "".join(clauses[max(0, k - 1) : k + 1])
        qualifier = "".join(pieces)
        if not pieces or facts.abbreviated(qualifier, window) or any(p in window for p in pieces):
            return False  # "总投资" is stated by "投资"; "规上企业" by "规模以上工业企业"
        missing = missing or pieces
    return bool(missing) and _used(missing, bm25, passages)


def _longest_head(words: list[str], clause: str) -> list[str] | None:
    """The qualifier's words, before the longest end of the phrase the clause states, cut at the question's word
    boundaries or inside its last word (["市级"] before "绿色工厂" of "市级绿色工厂", not "级绿色工厂"; ["在校"] before
    "学生" of "在校学生"; ["项目", "总"] before "投资" of "项目总投资"); None when the clause states no end of it."""
    last = words[-1] if words else ""
    ends = [("".join(words[i:]), words[:i]) for i in range(1, len(words))]
    ends += [(last[i:], [*words[:-1], last[:i]]) for i in range(1, len(last) - 1)]
    for end, before in sorted(ends, key=lambda e: len(e[0]), reverse=True):
        if len(end) >= 2 and end in clause:
            return before
    return None


def _used(pieces: list[str], bm25: BM25Index | None, passages: list[Hit] | None) -> bool:
    """The documents use each word of the qualifier (the collection, else the retrieved passages)."""
    if bm25 is not None:
        return all(bm25.idf(w) > 0 for w in pieces)
    hay = norm(" ".join(f"{h.title} {h.chunk.text}" for h in passages or []))
    return bool(hay) and all(w in hay for w in pieces)
