"""A table row as an answer: the column the question asks (or the clauses of the row's description that say it: by the
aspect's words, else by a figure's unit and label), amounts also in the unit people say; and the question cues the
extractive generator's other stages share with it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.generate import facts
from rag.types import Hit
from rag.zh import join_cjk_spaces, norm, numbers

ASKS_SPECIFIC = re.compile(r"多少|几|哪|谁|何时|什么时候|是否|多大|多长|多高|多久|多远|多重")
# money is asked: "多大金额", "多少钱", "投资多少", "奖励…多少"; an amount of money says it
ASKS_MONEY = re.compile(r"金额|多少钱|多少(?:[万亿千百]*元)|资金|投资|奖励?|补贴|收入|营收")
STATES_AMOUNT = re.compile(r"\d[\d.,]*\s*(?:余|多)?\s*(?:万亿|亿|千万|百万|万|千)?\s*(?:元|美元)")
# a project's phase: "一期", "二期" ("十四五期间" is no phase)
PHASE = re.compile(r"([一二三四五六七八九十\d]+)期(?!间)")
NUMERAL = "一二三四五六七八九十两"


def clause_runs(spans: list[tuple[int, int]], limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of every run of consecutive clauses (`spans`, in order) at most `limit` characters long."""
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            a, b = spans[i][0], spans[j][1]
            if b - a > limit:
                break
            yield a, b


def _header(h: Hit) -> list[str]:
    return h.chunk.context.split("\n", 1)[0].split("\t") if h.chunk.context else []


def _name_index(header: list[str], n_cells: int) -> int:
    return next((i for i, hd in enumerate(header) if "名称" in hd), 1 if n_cells > 1 else 0)


def row_name(h: Hit) -> str:
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


def render(
    h: Hit, quote: str, question: str, start: int, terms: list[str], asked_phases: set[str]
) -> tuple[str, int, int] | None:
    """Answer text for a quote at document offset `start`, and the span to cite. A table row answers the column the
    question asks about, or the clauses of its long cell that say it ('name：clause', citing those clauses); with no
    column asked, the clauses of its description that say what the question names besides the row's name, else
    'name：header value，…' from its short cells. None when the question asks something specific that the
    row does not say. `asked_phases`: the question's phases (PHASE), as Fit found them."""
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
    if col is not None and asked_phases and not asked_phases & set(PHASE.findall(name + " " + cells[col])):
        col = None
    if col is not None and cells[col].strip():
        label, unit = _label_unit(header[col])
        return f"{name}：{label}{_value(cells[col], unit)}", start, end
    specific = aspect or ASKS_SPECIFIC.search(question)
    if specific:
        money = aspect == "投资" or bool(ASKS_MONEY.search(question))
        asked = asked_figure(question, name)
        beside = _beside_question_word(question, terms)
        offset = 0
        for i, cell in enumerate(cells):
            # the description: a long cell, or a shorter one in words ("新建7万平方米的办公楼、交易中心及仓库等设施")
            if len(cell.strip()) > 40 or (i != name_i and len(_CJK.findall(cell)) >= DESCRIPTION_CJK):
                span = _row_span(
                    cell,
                    aspect,
                    [t for t in terms if norm(t) not in norm(name) or PHASE.search(t) or t in beside],
                    _asked_measure(question),
                    frozenset(numbers(question)),
                    # what is counted, said by the name too: only a count of it says more than the name
                    need_count=any(norm(t) in norm(name) for t in beside),
                )
                # "二期总投资多少" is answered by an amount of money, not by "二期 200 亩用地…"
                # nor is "房子总共多大" (a floor area) by "规划用地1950亩"
                if (
                    span
                    and not (money and not STATES_AMOUNT.search(cell[span[0] : span[1]]))
                    and _unit_fits(cell[span[0] : span[1]], asked)
                    and not (yearly and _NAMES_INVESTMENT.search(cell[span[0] : span[1]]))
                ):
                    a, b = start + offset + span[0], start + offset + span[1]
                    return f"{name}：{cell[span[0] : span[1]].strip()}", a, b
            offset += len(cell) + 1
        # the cue lists found nothing: the figure whose unit and label fit the question's (cell_answer)
        offset = 0
        for i, cell in enumerate(cells):
            if asked and (len(cell.strip()) > 40 or (i != name_i and len(_CJK.findall(cell)) >= DESCRIPTION_CJK)):
                span = cell_answer(cell, asked)
                if span and not (money and not STATES_AMOUNT.search(cell[span[0] : span[1]])):
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
    m = ASKS_SPECIFIC.search(q)
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
    phases = set(PHASE.findall(" ".join(terms)))
    count = (
        re.compile(rf"(?:\d[\d.]*|[{NUMERAL}百千]+)(?:[万亿千百])?(?:余|多)?{re.escape(measure)}") if measure else None
    )
    spans = _pieces(cell, limit)
    best, span = (0.0, 0), None
    for a, b in clause_runs(spans, limit):
        seg = norm(cell[a:b])
        sc = (2.0 if any(w in seg for w in word_keys) else 0.0) + (1.0 if any(w in seg for w in cue_keys) else 0.0)
        sc += sum(
            1.0 + (0.5 if re.search(rf"{re.escape(k)}[为约达是共:：]{{0,2}}\d", seg) else 0.0) for k in keys if k in seg
        )
        sc += sum(1.0 for n in qnums if n in seg)
        if not phases and len(set(PHASE.findall(seg))) == 1:
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
# is the unit of the figure asked and the words next to it. cell_answer reads a description cell's figures each with
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


def asked_figure(question: str, name: str) -> _Asked | None:
    """What a question asks of a row named `name`, as cell_answer reads it, or None when it asks no figure it can
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


def cell_answer(cell: str, asked: _Asked, limit: int = 80) -> tuple[int, int] | None:
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
