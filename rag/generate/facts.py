"""What an answer must agree with the question on: its subject, its time, the table column asked, and the unit.

Pure functions over text, shared by the extractive generator, the citation verifier and the pipeline:
- subject: the places (and, for table rows, the project or organisation) the question asks about must be what the
  evidence sentence is about, not merely named elsewhere in the document;
- time: years in the question must be the evidence's; relative words (今年, 去年, 目前, 最新 …) are resolved
  against the document's date, and the answer states the year of its figure;
- columns: a question about a table row is answered from the asked column, or the clauses of a long cell that say it;
- units: an amount in 万元 or 元 is also given in the unit people say (10000000万元 → 1000亿元).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from rag.zh import Tokenizer, norm

# The checks below run for every candidate sentence of every answer, over the same passages and questions again and
# again: normalising a string, finding a passage's places, reading a question's aspect are cached (pure functions of
# their text), so an answer costs lookups, not re-analysis.
norm_cached = lru_cache(maxsize=16384)(norm)

# --- questions ---------------------------------------------------------------------------------------------------
_QUESTION_END = re.compile(r"[？?]\s*[”’」』）)\]】]*\s*$")
_ASKING = re.compile(r"(多少|几[个家项年月天条名位次倍]?|哪[些个里年家一]|什么|怎样|如何|是否|吗|呢)[^，。；]{0,6}$")


_ASKS_FIGURE = re.compile(r"多少|(?<!哪)几[个家项年月天条名位次倍]|多大|多长|多高|百分之几|比例是")
# a figure: digits, or a Chinese numeral with a measure word ("一个完善的…" is not a figure)
_FIGURE = re.compile(
    r"\d|(?:[两三四五六七八九十百千万亿]|一[十百千万亿])[一二两三四五六七八九十百千万亿]*[个家项年月天条名位次倍亩元%]"
)


def asks_figure(question: str) -> bool:
    """ "How many / how much": the answer must state a figure."""
    return bool(_ASKS_FIGURE.search(question))


def has_figure(text: str) -> bool:
    return bool(_FIGURE.search(text))


def is_question(sentence: str) -> bool:
    """A sentence that is itself a question ("2021年南昌…增长了多少？"): never an answer, never evidence."""
    s = sentence.strip()
    return bool(_QUESTION_END.search(s)) or bool(s and s[-1] not in "。；;！!" and _ASKING.search(s) and len(s) < 60)


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


# --- time --------------------------------------------------------------------------------------------------------
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)\s*(?=年)")
_YEAR_RANGE = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?:[.年]\d{1,2}月?)?\s*[-—–~至到]\s*((?:19|20)\d\d)(?![\d])")
_CN_DIGIT = {
    "〇": "0",
    "零": "0",
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "○": "0",
    "Ｏ": "0",
    "O": "0",
}
_CN_YEAR = re.compile(r"([一二][〇零○Ｏ一二三四五六七八九O]{3})年")
RELATIVE = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "上一年": -1, "前年": -2}
LATEST = ("目前", "最新", "近年", "近几年", "当前", "现在", "如今", "眼下", "最近")


def years(text: str) -> set[int]:
    """The years a text states: "2021年", "二〇二一年", and every year of a range "2020-2023" / "2021.03-2022.12"."""
    t = text
    out = {int(y) for y in _YEAR.findall(t)}
    out |= {int("".join(_CN_DIGIT[c] for c in y)) for y in _CN_YEAR.findall(t)}
    for a, b in _YEAR_RANGE.findall(t):
        a_, b_ = int(a), int(b)
        if a_ <= b_ <= a_ + 30:
            out |= set(range(a_, b_ + 1))
    return out


# "比上年增长" compares with the year before the figure's: it says nothing of when the question is about
_COMPARED = re.compile(r"(?:比|较|同比|环比|相比|高于|低于|超过)(?:上一年|上年|去年|前年)")


def relative_time(question: str) -> str:
    """The relative time word of a question ("今年", "去年", "目前", "最新" …), or "": none when the question names
    its year ("2020年…比上年增长多少"), and not the base of a comparison ("比上年", "较去年")."""
    q = _COMPARED.sub("", question)
    if years(q):
        return ""
    for w in (*RELATIVE, *LATEST):
        if w in q:
            return w
    return ""


def asks_latest(question: str) -> bool:
    """ "今年 / 目前 / 最新 …": the answer is the latest figure the documents state."""
    w = relative_time(question)
    return bool(w) and (w in LATEST or RELATIVE.get(w) == 0)


_TARGET = re.compile(r"(?:到|(?<!截)至|力争|预计|计划|目标)\s*$")  # "截至2023年" is a fact's date


def _fact_years(text: str) -> list[int]:
    return [
        int(m.group(1)) for m in _YEAR.finditer(text) if not _TARGET.search(text[max(0, m.start() - 4) : m.start()])
    ]


def stated_year(sentence: str, before: str = "") -> int | None:
    """The year a sentence states a fact of: the latest it names, else the last named before it in the passage; a
    target year ("到2025年…达到") is not one."""
    own = _fact_years(sentence)
    if own:
        return max(own)
    prev = _fact_years(before)
    return prev[-1] if prev else None


def document_year(doc: Any) -> int | None:  # a rag.types.Document or anything with .meta and .text
    """The year a document was written: its front matter's date, else the issue date on a bulletin's cover
    ("二〇二一年第九期"), else a year standing alone on one of its first lines."""
    meta: Mapping[str, Any] = getattr(doc, "meta", {}) or {}
    head = (getattr(doc, "text", "") or "")[:600]
    dated = tuple(str(meta.get(key, "")) for key in ("date", "published", "issued", "year"))
    return _document_year(dated, head)


@lru_cache(maxsize=1024)
def _document_year(dated: tuple[str, ...], head: str) -> int | None:
    for value in dated:
        m = re.search(r"(?:19|20)\d\d", value)
        if m:
            return int(m.group())
    m = re.search(r"([一二][〇零○Ｏ一二三四五六七八九O]{3})年第[一二三四五六七八九十\d]+期", head)
    if m:
        return int("".join(_CN_DIGIT[c] for c in m.group(1)))
    m = re.search(r"(?m)^\s*((?:19|20)\d\d)\s*$", head)
    return int(m.group(1)) if m else None


def resolve_year(word: str, doc_year: int | None) -> int | None:
    """今年 → the document's year, 去年 → the one before; None when it cannot be resolved or the word means 'latest'."""
    if word in RELATIVE and doc_year:
        return doc_year + RELATIVE[word]
    return None


def time_ok(asked: set[int], sentence: str, before: str) -> bool:
    """False when the question names years and the evidence states other years only (the sentence's own years,
    else the last year stated before it in the passage)."""
    if not asked:
        return True
    stated = years(sentence)
    if not stated:
        prev = _governing_years(before)
        stated = {prev[-1]} if prev else set()
    return not stated or bool(asked & stated)


# a year in a full date ("2022年4月8日，记者走进…") says when something happened or was reported, not the period the
# figures after it are of
_FULL_DATE = re.compile(r"\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")


def _governing_years(before: str) -> list[int]:
    """The years stated before a sentence that may be the period of its figures, in order: those of full dates left
    out when any other is stated."""
    found = list(_YEAR.finditer(before))
    periods = [int(m.group(1)) for m in found if not _FULL_DATE.match(before, m.end(1))]
    return periods or [int(m.group(1)) for m in found]


def target_year(sentence: str, before: str) -> int | None:
    """The year of a plan's target a sentence states ("到2025年，产业规模达到1万亿元"), or is under when it names no
    year itself and the last year stated before it in the passage is a target's; None for a fact."""
    if _fact_years(sentence):
        return None
    ys = [(m.start(), int(m.group(1))) for m in _YEAR.finditer(sentence)]
    if ys:
        return max(y for _, y in ys)
    prev = list(_YEAR.finditer(before))
    if prev and _TARGET.search(before[max(0, prev[-1].start() - 4) : prev[-1].start()]):
        return int(prev[-1].group(1))
    return None


def figure_year(sentence: str, before: str, doc_year: int | None) -> int | None:
    """The year a figure belongs to: the latest its sentence states, else the last stated before it, else the
    document's year."""
    ys = [y for y in years(sentence) if not doc_year or y <= doc_year + 1]
    if ys:
        return max(ys)
    prev = [int(y) for y in _YEAR.findall(before) if not doc_year or int(y) <= doc_year + 1]  # not a target year
    return prev[-1] if prev else doc_year


def strip_relative(text: str, word: str) -> str:
    """The answer without the question's relative time word where it echoes the question ("南昌今年的GDP是…" →
    "南昌GDP是…"): the year is stated before it instead."""
    return text.replace(word + "的", "").replace(word, "") if word else text


# --- units -------------------------------------------------------------------------------------------------------
SCALE = {"元": 1, "万元": 10**4, "亿元": 10**8, "千元": 10**3, "百万元": 10**6, "万亿元": 10**12}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万亿元|亿元|百万元|千元|万元|元)")


def _fmt(x: float) -> str:
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return s if s else "0"


def spoken_amount(value: str, unit: str) -> str:
    """An amount in the unit people say: ("10000000", "万元") → "1000亿元", ("35000", "元") → "3.5万元";
    "" when the figure is already in that unit or is not an amount of money."""
    try:
        x = float(value.replace(",", "")) * SCALE[unit]
    except (KeyError, ValueError):
        return ""
    target = "亿元" if x >= 10**8 else "万元" if x >= 10**4 else "元"
    if target == unit:
        return ""
    return _fmt(x / SCALE[target]) + target


def with_spoken(value: str, unit: str) -> str:
    """ "10000000万元（即1000亿元）", or "3000万元" when no other unit reads better."""
    spoken = spoken_amount(value, unit)
    return f"{value}{unit}（即{spoken}）" if spoken else f"{value}{unit}"


_IN_TEXT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万元|元)(?!\s*[（(]即)")


def add_spoken(text: str) -> str:
    """Every amount of an answer also in the unit people say: "投资金额是105000万元[1]" →
    "投资金额是105000万元（即10.5亿元）[1]"."""

    def repl(m: re.Match[str]) -> str:
        spoken = spoken_amount(m.group(1), m.group(2))
        return f"{m.group(0)}（即{spoken}）" if spoken else m.group(0)

    return _IN_TEXT.sub(repl, text)


def amount_yuan(text: str) -> float | None:
    """The first amount of money in a text, in 元 ("120亿元" → 1.2e10)."""
    m = _AMOUNT.search(text.replace(" ", ""))
    return float(m.group(1)) * SCALE[m.group(2)] if m else None


# --- table columns -----------------------------------------------------------------------------------------------
# What a question asks of a table row: (aspect, cues in the question, words of the column header that holds it,
# words of the clauses of a description cell that state it).
ASPECTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("投资", ("投资", "金额", "总投资", "投资额", "多少钱", "花多少"), ("投资", "金额"), ("投资",)),
    (
        "建设期",
        ("建设期", "工期", "哪几年", "哪一年", "什么时候", "何时", "多久", "哪年", "周期", "建成", "开工", "完工"),
        ("建设期", "工期", "期限", "年限"),
        ("建设期",),
    ),
    ("占地", ("占地", "用地", "多少亩", "多大面积", "面积"), ("占地", "用地"), ("占地", "用地", "亩")),
    ("建筑面积", ("建筑面积",), ("建筑面积",), ("建筑面积", "平方米")),
    (
        "产能",
        ("年产", "产能", "产量", "生产多少", "能产多少", "出货"),
        ("产能", "产量"),
        ("年产", "产能", "产量", "出货"),
    ),
    ("收入", ("收入", "产值", "营收", "销售额"), ("收入", "产值"), ("收入", "产值", "销售")),
    ("泊位", ("泊位",), ("泊位",), ("泊位",)),
    ("车位", ("车位", "停车", "停多少"), ("车位",), ("车位",)),
    ("布局", ("布局", "分几期", "几期", "分期"), ("布局",), ("布局", "分期", "期建设")),
    (
        "内容",
        ("主要内容", "建设内容", "建设什么", "做什么", "干什么", "包括什么", "包括哪些", "建什么", "主要建设"),
        ("内容",),
        ("建设", "主要"),
    ),
    # where a project is: its description's opening clause says so ("南昌市青云谱区广州路以北", "位于南昌县向塘开发区")
    (
        "位置",
        ("在哪里", "在哪儿", "建在哪", "位于哪", "落户哪", "落在哪", "在什么地方", "什么位置", "选址", "地点", "位置"),
        ("位置", "地点", "选址", "地址"),
        ("位于", "选址", "坐落", "地块", "路以", "区", "县", "镇", "街道", "路"),
    ),
    # what a project makes ("主要生产哪些产品"): the clause that says what it produces
    (
        "产品",
        ("生产什么", "生产哪些", "产什么", "什么产品", "哪些产品", "主要产品", "产品有哪些", "产品是什么"),
        ("产品",),
        ("生产", "产品"),
    ),
    # the size of a thing ("机房有多大"): asked in no words of its own, so never found by asked_aspect; the extractive
    # generator asks it of a row when nothing else is asked
    ("面积", (), ("面积",), ("面积", "占地", "用地", "亩", "平方米", "㎡", "m²")),
)


@lru_cache(maxsize=4096)
def asked_aspect(question: str) -> str:
    """Which aspect of a row the question asks about ("投资", "占地", "产能" …), or ""."""
    # "建成后 / 投产后 …的年产值" asks what follows completion, not when it is
    q = re.sub(r"(?:建成|完工|投产|达产|开工)(?=后)", "", norm(question))
    best, key = "", (-1, -1)
    for name, cues, _, _ in ASPECTS:
        for c in cues:
            i = q.find(norm(c))
            if i >= 0 and (len(c), i) > key:  # the most specific cue wins ("建筑面积" over "面积"), then the later one
                best, key = name, (len(c), i)
    land = _ASKS_LAND.search(q)
    if land and (len(land.group()), land.start()) > key:
        best = "占地"
    return best


# land asked in everyday words: "要多少地", "占多大一块地" (not "多少地区", "什么地方")
_ASKS_LAND = re.compile(r"(?:多少|多大)(?:一?块|片|的)?(?:土)?地(?![区方址点产价铁标域位图])")


def aspect_words(aspect: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(cues in a question, words of a clause that states it) of an aspect."""
    for name, cues, _, words in ASPECTS:
        if name == aspect:
            return cues, words
    return (), ()


def column_for(aspect: str, header: list[str]) -> int | None:
    """The index of the header cell that holds the aspect (投资 → "投资金额 (万元)"), or None."""
    return _column_for(aspect, tuple(header))


@lru_cache(maxsize=1024)
def _column_for(aspect: str, header: tuple[str, ...]) -> int | None:
    cols = next((h for name, _, h, _ in ASPECTS if name == aspect), ())
    for i, h in enumerate(header):
        hn = norm(h)
        if any(norm(w) in hn for w in cols) and not any(x in hn for x in ("序号", "名称")):
            return i
    return None


def clauses(text: str) -> list[tuple[int, int]]:
    """Clauses split at commas, semicolons and full stops (not at 、, which lists within a clause)."""
    out, pos = [], 0
    for m in re.finditer(r"[，,；;。]", text):
        if m.end() - pos > 1:
            out.append((pos, m.end()))
        pos = m.end()
    if len(text) - pos > 0:
        out.append((pos, len(text)))
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in out if text[a:b].strip()]


def clauses_about(cell: str, aspect: str, terms: Iterable[str], limit: int = 80) -> tuple[int, int] | None:
    """The (start, end) in `cell` of the run of clauses of a long description cell that states the aspect
    (占地 → "项目占地面积为 3000 亩"), or None when no clause does."""
    return _clauses_about(cell, aspect, tuple(terms), limit)


@lru_cache(maxsize=2048)
def _clauses_about(cell: str, aspect: str, terms: tuple[str, ...], limit: int) -> tuple[int, int] | None:
    cues, words = aspect_words(aspect)
    own = {norm(w) for w in (*cues, *words)}
    keys = own | {norm(t) for t in terms if len(t) >= 2}
    spans = clauses(cell)
    best, span = 0.0, None
    for i, (a, b) in enumerate(spans):
        seg = norm(cell[a:b])
        sc = sum(2.0 if k in own else 1.0 for k in keys if k and k in seg)
        sc += 0.5 if aspect not in ("布局", "内容") and re.search(r"\d", seg) else 0.0
        if sc > best:
            best, span = sc, (a, b)
            # a following clause that continues it ("分三期建设，一期占地为 870 亩") when it fits
            if (
                i + 1 < len(spans)
                and spans[i + 1][1] - a <= limit
                and re.search(r"\d", cell[spans[i + 1][0] : spans[i + 1][1]])
                and any(k in norm(cell[spans[i + 1][0] : spans[i + 1][1]]) for k in keys if k)
            ):
                span = (a, spans[i + 1][1])
    if span is None or best < 2.0:
        return None
    a, b = span
    while b > a and cell[b - 1] in "，,、；;。 ":
        b -= 1
    return a, b


# What a question asks for and how an answer states it, shared by the extractive and the LLM paths

# Measure words and the class of things each counts: words of one class count the same things ("多少名员工" is
# answered by "1200人", "多少家企业" by "5户", "几台设备" by "100台套"); 个 (ANY_MEASURE) counts anything but people.
# The one table the question side (MEASURE, ASKED_MEASURE), the LLM verifier (rag.generate.cite, rag.generate.chat)
# and rag.generate.conflicts read, each the words it needs.
MEASURE_CLASS: dict[str, str] = {
    **dict.fromkeys(("名", "人", "位"), "人"),
    **dict.fromkeys(("家", "户"), "家"),
    **dict.fromkeys(("座", "栋"), "座"),
    **dict.fromkeys(("台", "套"), "台"),
    **{w: w for w in "个项亩辆吨件所层只架艘款株头条次篇部批场颗处分"},  # 分: a score ("得了多少分")
}
ANY_MEASURE = "个"
PEOPLE = "人"  # the class 个 does not count


def same_measure(word: str) -> tuple[str, ...]:
    """The measure words that count what `word` counts, `word` first: its class's, and 个 unless people are
    counted ("多少名院士" is not answered by "院士工作站5个")."""
    kind = MEASURE_CLASS.get(word, word)
    same = [w for w, k in MEASURE_CLASS.items() if k == kind and w != word]
    return (word, *same, *(() if kind in (PEOPLE, ANY_MEASURE) else (ANY_MEASURE,)))


def same_count(a: str, b: str) -> bool:
    """Two measure words (or units) can count the same things: one class, or 个 beside anything but people."""
    ka, kb = MEASURE_CLASS.get(a, a), MEASURE_CLASS.get(b, b)
    return ka == kb or (ka == ANY_MEASURE and kb != PEOPLE) or (kb == ANY_MEASURE and ka != PEOPLE)


def _measures(words: Iterable[str]) -> str:
    return "|".join(words)


# "多少亩 / 几台": the count asked, in a measure word the answer must state it in (or 个, which stands for any; 个,
# 元 and 年 themselves are not checked: said in too many ways)
MEASURE = re.compile(r"(?:多少|(?<!哪)几)(" + _measures(w for w in MEASURE_CLASS if w != ANY_MEASURE) + ")")
# "多少层 / 几颗 / 多少个": the measure word of the count asked, 个 included
ASKED_MEASURE = re.compile(r"(?:多少|(?<!哪)几)(" + _measures(MEASURE_CLASS) + ")")

# a date: "2022年4月8日", "3月2日", "2023年" (a year stated with its 年)
DATE = re.compile(r"(?:(?:19|20)\d\d\s*年\s*)?\d{1,2}\s*月\s*(?:\d{1,2}\s*日)?|(?:19|20)\d\d\s*年(?:底|初|末|中)?")

ASKS_YEAR = re.compile(r"哪一年|哪年|何年|哪一年份")
ASKS_WHEN = re.compile(r"什么时候|何时")
WHEN = re.compile(r"(?:19|20)\d\d|\d+\s*月|[今明去后前]年|年底|年初|年内|年中|季度|上半年|下半年")


def without(text: str, nums: list[str]) -> str:
    """`text` without the whole numbers in `nums` (the 5 of "5G", not the 5 of "1500个")."""
    for n in nums:
        text = re.sub(rf"(?<![\d.]){re.escape(n)}(?![\d.])", " ", text)
    return text


# a project or organisation the question names: "姚湾作业区综合码头项目建成后…", "江西卫棉纺织集团2023年…" (the
# name before 项目 / 集团 / 公司, at least four characters)
_PROJECT = re.compile(r"[\w“”（）()·-]{4,40}?(?:项目|集团|公司)")
# What a name ends with that a mention of it may leave out. LEGAL_FORM: an organisation's legal form ("…有限公司",
# rag.answerable's name stems); PROJECT_FORM: that or "项目" / "建设项目" (the projects a question names, a table
# row's name as a question says it)
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
LEGAL_FORM = re.compile(f"(?:{'|'.join(_LEGAL_FORMS)})$")
PROJECT_FORM = re.compile(f"(?:{'|'.join((*_LEGAL_FORMS, '建设项目', '项目'))})$")


def question_projects(question: str) -> list[str]:
    """The projects and organisations a question names (normalised, without 项目 / 公司 …, at least four characters)."""
    return [p for p in (PROJECT_FORM.sub("", norm(m)) for m in _PROJECT.findall(question)) if len(p) >= 4]


def same_project(projects: list[str], row_name: str) -> bool:
    """A row answers a question naming a project only when the names share four characters in a row (another
    project's row is another project, whatever its columns say)."""
    r = norm(row_name)
    if not projects or not r:
        return True
    return any(common_run(p, r) >= 4 for p in projects)


def common_run(a: str, b: str) -> int:
    """The length of the longest run of characters a and b share."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def name_shared(question: str, name: str) -> frozenset[int]:
    """The positions in the normalised question of the characters that lie in a run of two or more that a row's name
    has too ("南昌雨华汽车零部件有限公司的项目…" shares "南昌雨华汽车零部件有限公司" and "项目" with "南昌雨华汽车零部件
    有限公司年产20万台套…项目", only "汽车零部件有限公司" and "项目" with "江西億立汽车零部件有限公司…项目")."""
    return _name_shared(norm_cached(question), norm_cached(name))


def shared_size(question: str, positions: frozenset[int]) -> int:
    """How much of a name the question says (name_shared's positions): each distinct run of them counted once (a
    name the question repeats, "…激光陀螺", is said once)."""
    return sum(len(r) for r in set(name_runs(norm_cached(question), positions)))


def name_runs(q: str, positions: frozenset[int]) -> list[str]:
    """The runs of the normalised question `q`'s characters at `positions` (name_shared's), in order."""
    out, run = [], ""
    for i, ch in enumerate(q + "\0"):
        if i in positions:
            run += ch
        elif run:
            out.append(run)
            run = ""
    return out


@lru_cache(maxsize=4096)
def _name_shared(q: str, n: str) -> frozenset[int]:
    covered: set[int] = set()
    for i in range(len(q) - 1):
        j = i + 2
        while j <= len(q) and q[i:j] in n:
            j += 1
        if j - 1 - i >= 2:
            covered.update(range(i, j - 1))
    return frozenset(covered)


def abbreviated(term: str, hay: str) -> bool:
    """Every character of `term`, in order, within a span of at most twice its length + 2: an abbreviation's full
    form (营收 in 营业收入, 规上 in 规模以上)."""
    if len(term) < 2:
        return False
    i = hay.find(term[0])
    while i >= 0:
        j = i
        for ch in term[1:]:
            j = hay.find(ch, j + 1, i + 2 * len(term) + 2)
            if j < 0:
                break
        else:
            return True
        i = hay.find(term[0], i + 1)
    return False
