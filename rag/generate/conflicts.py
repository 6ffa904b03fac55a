"""Sources that disagree: the retrieved passages state different values for the attribute the question asks of
its subject ("总投资120亿元的华勤千亿产业基地项目" in a news report, 10000000万元 in a bulletin's table).

The rule is the same for every attribute: same subject, same attribute, different value once units are converted
(亿元 and 万元, 亩 and 平方公里, 万人 and 人, 亿台 and 万台, "2020-2023" and "2020.1-2023.12"). Attributes read:
amounts of money (投资, 收入), areas (占地, 建筑面积), production capacity (年产), construction periods (建设期),
counts with their measure word (多少家 / 个 / 人 …) and percentages (增长, 增速, 占比 …). A count or a percentage is a
figure of a year: two of them disagree only when stated for the same year (the year asked, when one is).

`find` returns the disagreements; `answer` writes the answer that says so and cites each source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rag.generate import dates, facts
from rag.generate.base import Draft
from rag.generate.support import chinese_numeral
from rag.types import Citation, Hit
from rag.zh import join_cjk_spaces, norm

_NUM = r"(\d+(?:\.\d+)?)"
_MULT = {"": 1.0, "千": 1e3, "万": 1e4, "亿": 1e8}


@dataclass(frozen=True)
class _Kind:
    """How one kind of attribute's values are written and compared."""

    name: str
    value: re.Pattern[str]  # groups: number, multiplier (万/亿, may be empty), unit
    base: dict[str, tuple[str, float]]  # unit → (the unit values are compared in, its factor)
    dated: bool = False  # a figure of a year: values of different years do not disagree
    exact: bool = False  # compared as written (a period), not within a tolerance


_MONEY = _Kind(
    "money",
    re.compile(_NUM + r"\s*()(万亿元|亿元|百万元|千元|万元|元)"),
    {u: ("元", float(s)) for u, s in facts.SCALE.items()},
)
# revenue and output value are a year's (营业收入 of 2020 and of 2021 differ): compared only within one year
_REVENUE = _Kind("revenue", _MONEY.value, _MONEY.base, dated=True)
_AREA = _Kind(
    "area",
    re.compile(_NUM + r"\s*()(万亩|亩|平方公里|万平方米|平方米)"),
    {
        "亩": ("亩", 1.0),
        "万亩": ("亩", 1e4),
        "平方公里": ("亩", 1500.0),
        "平方米": ("平方米", 1.0),
        "万平方米": ("平方米", 1e4),
    },
)
_CAPACITY_UNITS = "台套|台|辆|吨|件|套|片|部|只|颗|块|条|箱|瓶|GWh|MWh|GW|MW|千瓦时|千瓦"
_CAPACITY = _Kind(
    "capacity",
    re.compile(_NUM + r"\s*(亿|万|千)?\s*(" + _CAPACITY_UNITS + ")", re.I),  # read in normalised (lowercase) text
    {u.lower(): (u, 1.0) for u in _CAPACITY_UNITS.split("|")},
)
_PERIOD = _Kind(
    "period",
    re.compile(r"((?:19|20)\d\d)(?:[.年]\d{1,2}月?)?\s*[-—–~至到]\s*((?:19|20)\d\d)(?:[.年]\d{1,2}月?)?(?!\d)"),
    {},
    exact=True,
)
# the measure words of counts (rag.generate.facts.MEASURE_CLASS; 亩, 吨, 套 … are areas and capacities), compared
# in their class: "1200人" and "1200名" are one value
_COUNT_UNITS = "家|个|人|名|项|所|座|款|户|位|次|条|台|辆"
_COUNT = _Kind(
    "count",
    re.compile(_NUM + r"\s*(亿|万|千)?\s*(" + _COUNT_UNITS + ")"),
    {u: (facts.MEASURE_CLASS[u], 1.0) for u in _COUNT_UNITS.split("|")},
    dated=True,
)
_PERCENT = _Kind(
    "percent", re.compile(r"(-?\d+(?:\.\d+)?)\s*()([%％])"), {"%": ("%", 1.0), "％": ("%", 1.0)}, dated=True
)

# the question's aspect of a project (rag.generate.facts.ASPECTS) → the kind of its values
_BY_ASPECT = {"投资": _MONEY, "收入": _REVENUE, "占地": _AREA, "建筑面积": _AREA, "产能": _CAPACITY, "建设期": _PERIOD}
# percentages: the question's word → the words a clause states it with (增长 and 增速 say the same)
_RATES = (
    ("增长", ("增长", "增速", "增幅")),
    ("增速", ("增长", "增速", "增幅")),
    ("增幅", ("增长", "增速", "增幅")),
    ("下降", ("下降", "降幅", "减少")),
    ("降幅", ("下降", "降幅", "减少")),
    ("占比", ("占比", "比重", "占")),
    ("比重", ("占比", "比重", "占")),
)
_ASKS_RATE = re.compile(r"多少|百分之几|几个百分点|是多少|多大|几成")
_COUNT_Q = re.compile(r"(?:有|共有|拥有|累计|已有|达)?(?:多少|几)(万)?(" + _COUNT_UNITS + r")([\u4e00-\u9fff]{2,})")
_LEAD = re.compile(r"^(?:(?:19|20)\d\d年(?:末|底|全年|上半年|前三季度)?|[，,、的\s])+")
_TRAIL = re.compile(
    r"(?:的|同比|比上年|较上年|年均|累计|共|有|拥有|共有|实现|达到|了|目前|已|年度|全年|营业|主营业务|年)+$"
)
_YEAR_IN = re.compile(r"(?:19|20)\d\d年(?:末|底|全年|上半年|前三季度)?")
_TOLERANCE = 0.01
_WINDOW = 14  # characters after the attribute's word where its value is read


@dataclass
class Value:
    value: str  # as the answer writes it: "120亿元", "10000000万元（即1000亿元）"
    amount: float  # comparable across sources in `unit` (元, 亩, 台 …; a period: its first year * 10000 + its last)
    hit_i: int
    start: int  # the span to quote, in document offsets
    end: int
    unit: str = ""
    year: int | None = None  # the year a dated figure is stated for


@dataclass
class Conflict:
    subject: str
    attribute: str
    values: list[Value] = field(default_factory=list)

    def to_dict(self, numbering: dict[int, int]) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "attribute": self.attribute,
            "values": [{"value": v.value, "n": numbering[v.hit_i]} for v in self.values],
        }


@dataclass(frozen=True)
class _Asked:
    subject: str
    attribute: str  # as the question says it ("总投资", "增长", "企业")
    kind: _Kind
    cues: tuple[str, ...]  # the words of a clause that state the attribute
    unit: str = ""  # a count's measure word: values in another are about something else


def subject_and_attribute(question: str) -> tuple[str, str, str]:
    """("华勤千亿产业基地项目", "总投资", "投资") for "华勤千亿产业基地项目总投资多少？"; empty when the question
    does not ask a comparable value of a named subject. The third item: the aspect of a project
    (rag.generate.facts.ASPECTS), or "增长" / "占比" … for a percentage, "count" for a count."""
    a = _asked(question)
    if a is None:
        return "", "", ""
    if a.kind in (_PERCENT, _COUNT):
        return a.subject, a.attribute, a.cues[0] if a.kind is _PERCENT else "count"
    return a.subject, a.attribute, facts.asked_aspect(question)


def _asked(question: str) -> _Asked | None:
    q = re.sub(r"\s+", "", question)  # as asked (not lowercased: the subject is shown)
    aspect = facts.asked_aspect(question)
    kind = _BY_ASPECT.get(aspect)
    if kind is not None:
        cues, _ = facts.aspect_words(aspect)
        found = [(q.find(c), c) for c in cues if c in q]
        if not found:
            return None
        i, cue = min(found)
        attribute = cue
        if i > 0 and q[i - 1] == "总" and not cue.startswith("总"):
            i, attribute = i - 1, "总" + cue
        return _named(q, i, attribute, kind, tuple(cues))
    if _ASKS_RATE.search(q):
        found = [(q.find(w), w, says) for w, says in _RATES if w in q]
        if found:
            i, word, says = min(found)
            return _named(q, i, word, _PERCENT, says)
    m = _COUNT_Q.search(q)
    if m:
        noun = re.split(r"[？?。，,吗呢了]", m.group(3))[0][:4]
        return _named(q, m.start(), noun, _COUNT, (noun[:2],), facts.MEASURE_CLASS[m.group(2)])
    return None


def _named(q: str, i: int, attribute: str, kind: _Kind, cues: tuple[str, ...], unit: str = "") -> _Asked | None:
    subject = _TRAIL.sub("", _YEAR_IN.sub("", _LEAD.sub("", q[:i])))
    return _Asked(subject, attribute, kind, cues, unit) if len(subject) >= 4 else None


def _read(kind: _Kind, text: str) -> tuple[str, float, str] | None:
    """The first value of the kind in the text: (as written, amount in its comparable unit, that unit)."""
    m = kind.value.search(text)
    if not m:
        return None
    if kind is _PERIOD:
        a, b = int(m.group(1)), int(m.group(2))
        return (m.group(0), a * 10000.0 + b, "period") if a <= b <= a + 30 else None
    unit, factor = kind.base.get(m.group(3)) or kind.base[m.group(3).lower()]
    shown = unit if kind is _CAPACITY else m.group(3)  # "20GWh", not the normalised "20gwh"
    return m.group(1) + (m.group(2) or "") + shown, float(m.group(1)) * _MULT[m.group(2) or ""] * factor, unit


_SUFFIX = re.compile(r"(?:建设项目|项目|工程|[（(][^()（）]*[)）])+$")


def same_project(name: str, subject: str) -> bool:
    """A row's name and the question's subject name one project: equal once 项目 / 工程 / "(一期)" are set aside, or
    the subject holds the whole name ("南昌VR科创城" and "VR 科创城"; not "南昌 VR 科创城智慧城市建设项目")."""
    a, b = _SUFFIX.sub("", norm(name)), _SUFFIX.sub("", norm(subject))
    return bool(a) and len(a) >= 2 and (a == b or a in b)


def _row_value(h: Hit, i: int, asked: _Asked, aspect: str) -> Value | None:
    """The asked column of a table row about the subject, or the clauses of its description that state it."""
    c = h.chunk
    header = c.context.split("\n", 1)[0].split("\t") if c.context else []
    cells = c.text.split("\t")
    if len(header) != len(cells) or asked.kind.dated:
        return None
    name_i = next((k for k, hd in enumerate(header) if "名称" in hd), 1 if len(cells) > 1 else 0)
    if not same_project(cells[name_i], asked.subject):
        return None
    col = facts.column_for(aspect, header)
    offset = sum(len(x) + 1 for x in cells[:col]) if col is not None else 0
    if col is not None and re.fullmatch(r"[0-9.]+", cells[col].strip()):
        m = re.search(r"[（(]([^()（）]+)[)）]", header[col])
        unit = m.group(1).strip() if m else ""
        if asked.kind in (_MONEY, _REVENUE) and unit in facts.SCALE:
            v = cells[col].strip()
            return Value(facts.with_spoken(v, unit), float(v) * facts.SCALE[unit], i, c.start, c.end, "元")
        return None
    if col is not None and asked.kind is _PERIOD:
        got = _read(_PERIOD, cells[col])
        if got and _PERIOD.value.fullmatch(cells[col].strip()):
            s = c.start + offset + cells[col].index(cells[col].strip())
            return Value(got[0], got[1], i, s, s + len(cells[col].strip()), got[2])
        return None
    if asked.kind in (_AREA, _CAPACITY):  # stated in a long description cell ("项目占地面积为 3000 亩")
        offset = 0
        for cell in cells:
            if len(cell.strip()) > 40:
                span = facts.clauses_about(cell, aspect, [])
                got = _read(asked.kind, cell[span[0] : span[1]]) if span else None
                if span and got:
                    return Value(got[0], got[1], i, c.start + offset + span[0], c.start + offset + span[1], got[2])
            offset += len(cell) + 1
    return None


def _text_values(h: Hit, i: int, asked: _Asked) -> list[Value]:
    """Values stated in a clause that names the subject and the attribute ("总投资120亿元的华勤千亿产业基地项目")."""
    out: list[Value] = []
    text = h.chunk.text
    core = _SUFFIX.sub("", norm(asked.subject))
    if core not in facts.norm_cached(text):  # the passage never names the subject: no clause of it can
        return out
    pos = 0
    for piece in re.split(r"(?<=[，,、；;。！？\n])", text):
        a, pos = pos, pos + len(piece)
        p = norm(join_cjk_spaces(piece))
        if core not in p or facts.is_question(piece):
            continue
        for cue in asked.cues:
            j = p.find(norm(cue))
            if j < 0:
                continue
            # a count's noun follows its value ("4家企业上榜"): read from the subject on
            window = p[p.find(core) : j + len(cue)] if asked.kind is _COUNT else p[j : j + len(cue) + _WINDOW]
            got = _read(asked.kind, window)
            if got and (not asked.unit or got[2] == asked.unit):
                # quote the clause as it stands in the document
                s, e = a, a + len(piece.rstrip("，,、；;。 \n"))
                year = dates.figure_year(piece, text[:a], None) if asked.kind.dated else None
                out.append(Value(got[0], got[1], i, h.chunk.start + s, h.chunk.start + e, got[2], year))
                break
    return out


def _differ(a: Value, b: Value, kind: _Kind) -> bool:
    if kind.exact:
        return a.amount != b.amount
    return abs(a.amount - b.amount) > _TOLERANCE * max(abs(a.amount), abs(b.amount))


def find(question: str, hits: list[Hit]) -> list[Conflict]:
    """The asked attribute of the asked subject, where the passages give different values (one value per passage,
    values in one unit; a dated figure only against others of its year, the year asked when one is)."""
    asked = _asked(question)
    if asked is None:
        return []
    aspect = facts.asked_aspect(question)
    values: list[Value] = []
    for i, h in enumerate(hits):
        if h.chunk.kind == "table_row" and "\t" in h.chunk.text:
            v = _row_value(h, i, asked, aspect)
            found = [v] if v else []
        else:
            found = _text_values(h, i, asked)
        if found and all(x.hit_i != i for x in values):
            values.append(found[0])
    if asked.kind.dated:
        wanted = dates.years(question)
        values = [v for v in values if v.year is not None and (not wanted or v.year in wanted)]
    groups: dict[tuple[str, int | None], list[Value]] = {}
    for v in values:
        groups.setdefault((v.unit, v.year), []).append(v)
    for group in groups.values():
        distinct: list[Value] = []
        for v in group:
            if all(_differ(v, d, asked.kind) for d in distinct):
                distinct.append(v)
        if len(distinct) >= 2:
            return [Conflict(asked.subject, asked.attribute, distinct)]
    return []


def answer(conflict: Conflict, hits: list[Hit]) -> tuple[Draft, dict[str, Any]]:
    """ "两份文档说法不同：《A》称…120亿元[1]；《B》为10000000万元（即1000亿元）[2]。" with a citation per source,
    and the `conflicts` item of the response."""
    numbering = {v.hit_i: n for n, v in enumerate(conflict.values, 1)}
    docs = {hits[v.hit_i].chunk.doc_id for v in conflict.values}
    head = f"{_count(len(docs))}份文档说法不同" if len(docs) > 1 else "文档中说法不同"
    parts, citations = [], []
    for v in conflict.values:
        h, n = hits[v.hit_i], numbering[v.hit_i]
        title = h.title if len(h.title) <= 30 else h.title[:29] + "…"
        when = f"{v.year}年" if v.year else ""
        parts.append(f"《{title}》中{when}{conflict.subject}{conflict.attribute}为{v.value}[{n}]")
        c = h.chunk
        citations.append(Citation(n, h, c.text[v.start - c.start : v.end - c.start], v.start, v.end))
    text = f"{head}：" + "；".join(parts) + "。"
    return Draft(text, citations, flags=["conflict"]), conflict.to_dict(numbering)


def _count(n: int) -> str:
    return "两" if n == 2 else chinese_numeral(n)
