"""The subject an answer must agree with the question on: the places (and, for table rows, the project or
organisation) the question asks about must be what the evidence sentence is about, not merely named elsewhere in the
document. Pure functions over text, shared by the extractive generator, the citation verifier, the judge and the
indexer (each passage's place names are found once, at index time)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from rag.generate.facts import norm_cached
from rag.zh import Tokenizer, norm

# --- subject -----------------------------------------------------------------------------------------------------
# Province-level names contain the city a question asks about: naming one is not naming another subject.
_BROAD = (
    "中国",
    "全国",
    "国家",
    "全省",
    "全市",
    "省",
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
)
_PLACE_TAGS = frozenset({"ns"})
_NAME_TAGS = frozenset({"nz", "nt"})


@lru_cache(maxsize=4096)
def is_broad(place: str) -> bool:
    p = re.sub(r"(省|市|自治区|特别行政区)$", "", place)
    return p in _BROAD or place in _BROAD


ADMIN = re.compile(r"^(.{2,}?)(?:高新区|经开区|开发区|新区|地区|市|省|县|区|镇|乡|旗)$")
_SUFFIXES = r"(?:高新区|经开区|开发区|新区|市|县|区|镇|乡)"
_GENERIC_PREFIX = re.compile(
    r"^(?:各|全|本|我|该|此|周边|沿海|内陆|文明|国家级|省级|市级|县级|[一二三四五六七八九十两多几\d]+$|[两多几\d])"
)


@lru_cache(maxsize=4096)
def is_named_place(word: str) -> bool:
    """A place name proper, not one of the common nouns jieba also tags ns (城市, 新区, 上市, 深度 …): a name with
    an administrative suffix (南昌市, 南康区, 新余高新区) or a two-character …州 (赣州, 常州)."""
    if len(word) == 2 and word.endswith("州"):
        return True
    m = ADMIN.match(word)
    return bool(m) and not _GENERIC_PREFIX.match(m.group(1)) and not word.endswith("城市") and not is_broad(m.group(1))


# The rules index_places stores each passage's places by: an index built by other rules is rebuilt (rag.indexer)
PLACES = "named-places+parks-in-block"

# What follows a place's name to name a park of it ("永宁" + "工业园区"): jieba tags the name ns and the rest a noun
_PARKS = frozenset({"工业园区", "产业园区", "园区", "高新区", "经开区", "开发区", "经济开发区", "高新技术产业开发区"})


def _is_park(word: str) -> bool:
    return any(word.endswith(p) for p in _PARKS)


def with_parks(tagged: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """jieba's (word, tag) pairs with a place name and the park word after it joined into one place ("永宁工业园区",
    ns): a question about a park is about it, not about the town it is in."""
    out: list[tuple[str, str]] = []
    for w, f in tagged:
        if out and w in _PARKS and out[-1][1] in _PLACE_TAGS and not is_broad(out[-1][0]) and not _is_park(out[-1][0]):
            out[-1] = (out[-1][0] + w, out[-1][1])
        else:
            out.append((w, f))
    return out


def places(text: str, tokenizer: Tokenizer) -> list[str]:
    """Place names proper of the text in order (see is_named_place), broad ones (provinces, 全国) left out."""
    return [w for w, f in with_parks(tokenizer.tagged(text)) if f in _PLACE_TAGS and is_named_place(w)]


@lru_cache(maxsize=4096)
def known_places(text: str, tokenizer: Tokenizer) -> frozenset[str]:
    """The places a text (a passage with its heading and title) names, with their suffix and without it:
    {"南昌市", "南昌", "新余高新区", "新余"} (normalised). Tagged once per passage (cached): a sentence's places are
    then found by string search, so checking forty candidate sentences costs one part-of-speech pass per passage."""
    return _with_bare(places(text, tokenizer))


def _with_bare(names: Iterable[str]) -> frozenset[str]:
    """Place names with their administrative suffix and without it, normalised."""
    out = set()
    for w in names:
        out.add(norm(w))
        m = ADMIN.match(w)
        if m:
            out.add(norm(m.group(1)))
    return frozenset(out)


def passage_places(chunk: Any, title: str, tokenizer: Tokenizer) -> frozenset[str]:  # a rag.types.Chunk
    """known_places of a passage with its heading and its document's title: those stored with it at index time, or
    found now (and cached) for a passage of an older index."""
    if chunk.places is not None:
        return _frozen(tuple(chunk.places))
    return known_places(chunk.heading + " " + title + "\n" + chunk.text, tokenizer)


# The last characters a place name proper can have (is_named_place: a two-character …州, or ADMIN's suffixes).
_PLACE_ENDS = frozenset("州区市省县镇乡旗")


def index_places(chunk: Any, title: str, tokenizer: Tokenizer) -> tuple[str, ...]:
    """What passage_places finds, computed for the index (not kept in the answers' cache): the same places as
    known_places, tagging only the blocks of text that hold a character a place name can end with."""
    text = chunk.heading + " " + title + "\n" + chunk.text
    tagged = with_parks(tokenizer.tagged_blocks(text, _PLACE_ENDS))
    return tuple(sorted(_with_bare(w for w, f in tagged if f in _PLACE_TAGS and is_named_place(w))))


@lru_cache(maxsize=8192)
def _frozen(places: tuple[str, ...]) -> frozenset[str]:
    return frozenset(places)  # one set per passage, its hash computed once (the checks' caches are keyed by it)


def _named_in(text: str, known: frozenset[str]) -> list[tuple[int, str]]:
    """(position, name) of the known places in the text, a name inside a longer one at the same place left out."""
    t = norm(text)
    found = []
    for n in known:
        i = t.find(n)
        while i >= 0:
            found.append((i, n))
            i = t.find(n, i + 1)
    return [
        (i, n) for i, n in found if not any(j <= i and i + len(n) <= j + len(m) and len(m) > len(n) for j, m in found)
    ]


def question_subjects(question: str, tokenizer: Tokenizer, texts: str = "") -> tuple[list[str], list[str]]:
    """(places, names) the question asks about: its place names (jieba's ns that is a place proper, or a name that
    `texts`, the retrieved passages, write with an administrative suffix: 南昌 where they say 南昌市 — not 上市 or
    深度, which jieba also tags ns), and its project/organisation names (nz, nt)."""
    tagged = with_parks(tokenizer.tagged(question))
    ps = [
        w
        for w, f in tagged
        if f in _PLACE_TAGS
        and len(w) >= 2
        and not is_broad(w)
        and (is_named_place(w) or re.search(re.escape(w) + _SUFFIXES, texts + question))
    ]
    ns = [w for w, f in tagged if f in _NAME_TAGS and len(w) >= 2]
    return ps, ns


@lru_cache(maxsize=4096)
def same_place(a: str, b: str) -> bool:
    """南昌 ~ 南昌市 ~ 南昌经开区 (one contains the other, once 市/县/区 suffixes are set aside)."""
    a, b = norm(a), norm(b)
    return (
        a in b
        or b in a
        or (len(a) >= 2 and len(b) >= 2 and re.sub("[市县区省]$", "", a) == re.sub("[市县区省]$", "", b))
    )


@lru_cache(maxsize=4096)
def _inside(place: str, asked: str) -> bool:
    """A park or district named after the city asked is in it (内江高新区 in 内江市); not the other way round: a
    city's figure is not its park's."""
    stem = re.sub("[市县区省]$", "", norm(asked))
    return len(stem) >= 2 and norm(place).startswith(stem)


def sentence_place(sentence: str, before: str, context: str, known: frozenset[str], answer_kind: str = "") -> list[str]:
    """The places a passage sentence is about: those it names (not those of `answer_kind`, the kind of place the
    question asks for: "区" for "哪几个区"); else the subject of the last sentence before it in the passage that names
    one; else those of its heading or title."""
    return list(_sentence_place(sentence, before, context, known, answer_kind))


# a sentence's own place is the first it names, not one it compares it with ("南昌GDP…仅相当于武汉的37%，郑州的48%")
_COMPARED_BEFORE = re.compile(r"(?:比|较|相当于|仅次于|高于|低于|超过|不及|落后于|领先于?|与|同|跟)$")
_SENTENCE_END = re.compile(r"[。！？!?\n]")


# a place in a company's name ("随州市丰碑商务服务有限公司") says where it is registered, not what a passage is about
_IN_FIRM = re.compile(r"[^，。；、,;\s“”\"]{0,12}?(?:有限公司|股份|集团|公司)")


def _subject_of(text: str, known: frozenset[str]) -> tuple[str, ...]:
    """The place the last sentence of `text` that names one as its own is about: the first it names that is neither
    what it is compared with nor part of a company's name (else the last place `text` names)."""
    ends = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    last: tuple[str, ...] = ()
    for a, b in reversed(list(zip(ends, ends[1:], strict=False))):
        found = sorted(_named_in(text[a:b], known))
        if not found:
            continue
        t = norm_cached(text[a:b])
        last = last or (found[-1][1],)
        own = [
            n
            for i, n in found
            if not _COMPARED_BEFORE.search(t[max(0, i - 3) : i]) and not _IN_FIRM.match(t, i + len(n))
        ]
        if own:
            return (own[0],)
    return last


@lru_cache(maxsize=8192)
def _sentence_place(
    sentence: str, before: str, context: str, known: frozenset[str], answer_kind: str = ""
) -> tuple[str, ...]:
    if not known:
        return ()
    found = [n for _, n in _named_in(sentence, known) if not (answer_kind and n.endswith(answer_kind))]
    if found:
        return tuple(found)
    if before and (prev := _subject_of(before, known)):
        return prev
    return tuple(n for _, n in _named_in(context, known)) if context else ()


# "哪几个区 / 哪个县": the places of that kind a sentence names are its answer, not its subject
_ASKS_PLACE_KIND = re.compile(r"哪(?:一|个|一个|几个|些)?([县区镇乡])")


def asked_place_kind(question: str) -> str:
    """The kind of place a question asks for ("区" for "南昌发展流量经济重点放在哪几个区"), else ""."""
    m = _ASKS_PLACE_KIND.search(question)
    return m.group(1) if m else ""


def subject_ok(
    asked: list[str], sentence: str, before: str, context: str, known: frozenset[str], answer_kind: str = ""
) -> bool:
    """False when the question asks about places and the evidence sentence is about another one
    ("2023年南昌地区生产总值" answered by "2023年，赣州地区生产总值达4606亿元"). `known`: the places of the passage
    (known_places of its heading, title and text); `answer_kind`: the kind of place the question asks for
    (asked_place_kind), whose places in the sentence are what it answers, not what it is about."""
    if not asked:
        return True
    s = norm_cached(sentence)
    if any(norm_cached(a) in s for a in asked):
        return True
    about = _sentence_place(sentence, before, context, known, answer_kind)
    if not about:
        return True
    return any(same_place(a, p) or _inside(p, a) for a in asked for p in about)


def row_name_ok(names: list[str], question: str, row_name: str) -> bool:
    """A table row answers a question about a named project or organisation only when the row is about it:
    its name cell holds the name, or the question holds the row's name."""
    r, q = norm(row_name), norm(question)
    if not r:
        return True
    if r in q or (len(r) >= 4 and r[:-2] in q and len(r) - 2 >= 4):
        return True
    return not names or any(norm(n) in r for n in names)
