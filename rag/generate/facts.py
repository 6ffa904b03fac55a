"""What an answer must agree with the question on, besides its subject (rag.generate.subject) and its time
(rag.generate.dates): the kind of answer asked, the table column asked, the measure and the unit.

Pure functions over text, shared by the extractive generator, the citation verifier and the pipeline:
- questions: whether one asks a figure, and whether a sentence is itself a question;
- columns: a question about a table row is answered from the asked column, or the clauses of a long cell that say it;
- measures: what a count counts (台, 套, 家 …), the project a question names;
- units: an amount in 万元 or 元 is also given in the unit people say (10000000万元 → 1000亿元).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rag.zh import norm

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
