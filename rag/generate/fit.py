"""Does a candidate answer what was asked: the extractive generator's checks of a sentence or a table row (rag.generate.
facts holds the cues): the row of the project named, saying what is asked; a sentence about the question's place, with
a figure of the kind asked (a count, a change, an extent, a year, a time), the noun asked with its own qualifier, not a
list's total for one of its items, in the years and the phase asked."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.generate import dates, facts, subject
from rag.generate.ground import counted_noun, measure_gaps
from rag.generate.qualifier import qualifier_gap
from rag.generate.rows import NUMERAL, PHASE, render, row_name
from rag.lexical import BM25Index
from rag.types import Hit
from rag.zh import Tokenizer, norm, number_spans, numbers

# A table row does not answer when the question says a run of OTHER_ROW characters of another retrieved row's name
# that it lacks, that row being the one the question says most of, NAMED_ROW characters at least (Fit._other_row)
NAMED_ROW = 4
OTHER_ROW = 3


@dataclass
class Cand:
    """A candidate answer: a sentence or a table row of the passage hits[hit_i]."""

    hit_i: int
    start: int  # offsets into the document's cleaned text
    end: int
    score: float
    text: str
    lexical: float = 0.0  # the score before the dense bonus


class Fit:
    """Does a candidate answer what was asked (see rag.generate.facts): a row about the project named, saying what
    is asked; a sentence about the question's place, with a figure when one is asked, in the years asked?"""

    def __init__(
        self, question: str, hits: list[Hit], tokenizer: Tokenizer, terms: list[str], bm25: BM25Index | None = None
    ):
        self.question, self.hits, self.tokenizer, self.terms, self.bm25 = question, hits, tokenizer, terms, bm25
        self.asked = dates.strip_relative(question, dates.relative_time(question)) or question
        texts = " ".join(h.title + " " + h.chunk.text for h in hits)
        self.places, self.names = subject.question_subjects(question, tokenizer, texts)
        self.years = dates.years(question)
        self.place_kind = subject.asked_place_kind(question)
        self.figure = facts.asks_figure(question)
        self.qnums = sorted(_asked_numbers(question), key=len, reverse=True)
        m = facts.MEASURE.search(question)
        self.measure = m.group(1) if m else ""
        # the measure asked after a number in words ("地上十一层"), not a bare "一层" of "一层楼", nor an ordinal
        # ("第九十九条")
        self._cn_count = re.compile(
            rf"(?<![第{NUMERAL}百千])(?:[两三四五六七八九十百千]|一[十百千])[{NUMERAL}百千]*(?:余|多)?"
            + (self.measure or "$^")
        )
        self.count = bool(_ASKS_COUNT.search(question))
        self.counted = counted_noun(self.asked, tokenizer)
        self.asks_year = bool(facts.ASKS_YEAR.search(question))
        self.asks_when = bool(facts.ASKS_WHEN.search(question))
        self.change = bool(_ASKS_CHANGE.search(question))
        self.extent = bool(_ASKS_EXTENT.search(question))
        self.projects = facts.question_projects(question)
        self.phases = set(PHASE.findall(question))
        # what the question says of each retrieved row's name: the row it says most of is the project asked about
        self.shared = {n: facts.name_shared(question, n) for n in (row_name(h) for h in hits) if n}
        sizes = {n: facts.shared_size(question, p) for n, p in self.shared.items()}
        self.named = max(sizes, key=lambda n: sizes[n]) if sizes and max(sizes.values()) >= NAMED_ROW else ""
        # the retrieved rows whose whole name (less 项目 / 有限公司 …) the question says
        self.said = {n for n in self.shared if _said(n, question)}
        # what the question says of the named row's name, run by run ("江西远锋建材", "装饰膜项目")
        self.named_runs = facts.name_runs(facts.norm_cached(question), self.shared[self.named]) if self.named else []
        self.dropped: set[str] = set()

    def of_kind_asked(self, text: str) -> bool:
        """States a change when one is asked in everyday words."""
        return not self.change or bool(_STATES_CHANGE.search(facts.DATE.sub(" ", text)))

    def own_figures(self, text: str) -> set[str]:
        """The numbers a text states besides the question's own and dates."""
        return numbers(facts.DATE.sub(" ", facts.without(text, self.qnums)))

    def states_figure(self, text: str) -> bool:
        """A figure when one is asked: other than the question's own numbers, and other than a date unless a time
        is asked."""
        own = facts.without(text, self.qnums)
        own = own if self.asks_year or self.asks_when else facts.DATE.sub(" ", own)
        own = _TECH_TAG.sub(" ", own)  # "5G", "3D": names of a technology, not figures
        return not self.figure or facts.has_figure(own) or bool(self.measure and self._cn_count.search(own))

    def _other_row(self, h: Hit) -> bool:
        """Is `h` the row of another project than the one the question names? The question says a run of OTHER_ROW
        characters or more of the name of the retrieved row it says most of (NAMED_ROW at least) that this row's
        name lacks, and does not say this row's whole name: "南昌雨华汽车零部件有限公司的项目占地多少亩" is not
        answered by the row of 江西億立汽车零部件有限公司 ("南昌雨华" is not in its name), however alike the rest of
        their names, when the row of 南昌雨华 is retrieved and says nothing of its area."""
        name = row_name(h)
        if name and self.said and name not in self.said:
            return True  # "南昌医疗器械产业园…" is not answered by the row of 江西省医疗器械科技产业园
        if (
            not name
            or not self.named
            or name == self.named
            or facts.PROJECT_FORM.sub("", norm(name)) in norm(self.question)
        ):
            return False
        lacking = self.shared[self.named] - self.shared[name]
        return any(all(i + k in lacking for k in range(OTHER_ROW)) for i in lacking)

    def _about_named(self, h: Hit) -> bool:
        """Does a passage (not a row) name the project of the row the question names: four characters in a row of
        what the question says of its name?"""
        hay = norm(h.title + " " + h.chunk.heading + " " + h.chunk.text)
        return facts.same_project([r for r in self.named_runs if len(r) >= NAMED_ROW], hay)

    def __call__(self, c: Cand) -> bool:
        h = self.hits[c.hit_i]
        before = h.chunk.text[: c.start - h.chunk.start]
        if h.chunk.kind == "table_row" and not (
            subject.row_name_ok(self.names, self.question, row_name(h))
            and facts.same_project(self.projects, row_name(h))
        ):
            self.dropped.add("subject_mismatch")
            return False
        if self._other_row(h):
            self.dropped.add("subject_mismatch")
            return False
        if h.chunk.kind != "table_row" and self.named_runs and not self._about_named(h):
            self.dropped.add("subject_mismatch")  # another company's "年营收可超35亿元" is no answer for the row named
            return False
        if h.chunk.kind == "table_row" and render(h, c.text, self.question, c.start, self.terms, self.phases) is None:
            self.dropped.add("column_missing")
            return False
        context = h.chunk.heading + " " + h.title
        known = subject.passage_places(h.chunk, h.title, self.tokenizer) if self.places else frozenset()
        if not subject.subject_ok(self.places, c.text, before, context, known, self.place_kind):
            self.dropped.add("subject_mismatch")
            return False
        own = facts.without(c.text, self.qnums)  # the question's own numbers ("5G", its year) are no answer
        if not self.states_figure(c.text):
            # "how many" is not answered by a sentence without a figure, nor by a date ("3月2日，记者走进…")
            self.dropped.add("no_figure")
            return False
        if (
            self.measure
            and not re.search(rf"\d[\d.,]*\s*(?:[万亿千百]|余|多)?\s*(?:{self.measure}|个)", own)
            and not self._cn_count.search(own)
        ):
            self.dropped.add("no_figure")  # "多少亩" is answered by so many 亩, not by the project's investment
            return False
        if self.count and not self.measure and not _COUNT.search(facts.DATE.sub(" ", own)):
            self.dropped.add("no_figure")  # "几个" is answered by a count ("16.2个", "13家"), not by "03专项" or "5G"
            return False
        if self.extent and not _STATES_EXTENT.search(facts.DATE.sub(" ", own)):
            self.dropped.add("no_figure")  # "有多长" is answered by so many 米 or months, not by "161台/套"
            return False
        if self.change and not _STATES_CHANGE.search(facts.DATE.sub(" ", own)):
            self.dropped.add("no_figure")  # "省了多少 / 减少了多少" is answered by a change, not by an investment
            return False
        if self.asks_year and not (dates.years(c.text) - self.years):
            self.dropped.add("no_figure")  # "哪一年" is answered by a year
            return False
        if self.asks_when and h.chunk.kind != "table_row" and not facts.WHEN.search(c.text):
            self.dropped.add("no_figure")  # "什么时候" is answered by a time
            return False
        if measure_gaps(self.question, own, h.chunk.context if h.chunk.kind == "table_row" else ""):
            self.dropped.add("no_figure")  # "增长了多少" by a change, "多少亿元" by an amount of money
            return False
        # "多少家市级绿色工厂" is not answered by "国家级绿色工厂5家", nor "居民生活用电量" by "全社会用电量": the
        # figure of another qualifier of the noun asked (rag.generate.qualifier). A candidate dropped, not the answer
        # refused: the sentence after it may state the phrase asked ("规上电子信息产业营业收入" before "规模以上工业
        # 营业收入"). Not a row: its cells are labelled by the header, not qualified in words
        if h.chunk.kind != "table_row" and qualifier_gap(
            self.asked, c.text, self.tokenizer, self.bm25, self.hits, h.chunk.text
        ):
            self.dropped.add("qualifier_mismatch")
            return False
        if h.chunk.kind != "table_row" and _total_of_list(self.question, c.text):
            self.dropped.add("subject_mismatch")  # "A、B、C，共签约项目111个" is no count of A's
            return False
        if self.figure and not self.change and not _RATE_ASKED.search(self.asked) and _only_rates(own):
            self.dropped.add("no_figure")  # "营业收入是多少" is not answered by "营业收入同比增长339.8%"
            return False
        if self.figure and not self.change and not _RATE_ASKED.search(self.asked) and _only_changes(own):
            self.dropped.add("no_figure")  # "一年用电量是多少" is not answered by "用电量每个月平均降低3万度"
            return False
        if self.counted and not _MONEY_ASKED.search(self.asked) and _only_money(own):
            self.dropped.add("no_figure")  # "一年能生产多少波纹管" is not answered by "投资1.8亿元建设…项目"
            return False
        if h.chunk.kind != "table_row" and self.figure and _count_unstated(self.counted, own):
            self.dropped.add("no_figure")  # "多少个法治实践站" is not answered by "建设法治实践站…培养…1000余名"
            return False
        if not dates.time_ok(self.years, c.text, before):
            self.dropped.add("year_mismatch")
            return False
        phases = set(PHASE.findall(c.text))
        if self.phases and phases and not self.phases & phases:
            self.dropped.add("phase_mismatch")  # "二期" is not answered by what "一期" has
            return False
        if (
            self.figure
            and self.phases
            and phases - self.phases
            and not _phase_states_figure(self.phases, facts.without(c.text, self.qnums))
        ):
            self.dropped.add("phase_mismatch")  # "一期租赁厂房，…二期规划用地约100亩": 100亩 is the 二期's
            return False
        if _other_ordinal(self.terms, c.text):
            self.dropped.add("ordinal_mismatch")  # "第三产业" is not answered by what "第一产业" has
            return False
        return True


def _said(name: str, question: str) -> bool:
    """Does the question say a row's whole name, less its legal form or 项目 (NAMED_ROW characters at least)?"""
    stem = facts.PROJECT_FORM.sub("", norm(name))
    return len(stem) >= NAMED_ROW and stem in norm(question)


# a total over what the clause before it lists: "A、B、C，共签约项目111个", "…合计6227.3亿元"
_TOTAL = re.compile(r"(?:共|合计|总计|累计|总共)[^，,。；;、]{0,8}?\d")
NAMED_ITEM = 4  # characters in a row, of one listed item and no other, that name it
OTHER_ITEM = 2  # characters in a row, of one listed item and no other, that mention it


# a question asking a rate, share or change (answered by a percentage)
_RATE_ASKED = re.compile(r"增|降|减|涨|跌|率|比|占|百分|%|速|幅|成|指数|倍|提高|提升|下|上升|回落")
_NUMBER_STATED = re.compile(r"\d[\d.,]*\s*(%|％|个百分点)?")


def _only_rates(text: str) -> bool:
    """Every figure the text states (dates and technology names aside) is a percentage."""
    t = _TECH_TAG.sub(" ", facts.DATE.sub(" ", text))
    found = [m.group(1) for m in _NUMBER_STATED.finditer(t)]
    return bool(found) and all(found)


# a figure stated as a change: right after a word of change in its clause ("每个月平均降低3万度", "同比增长11%"; not
# the value reached, "提高到3.1件")
_AFTER_CHANGE = re.compile(
    r"(?:增长|增加|下降|降低|减少|提高|提升|上升|回落|缩减|缩短|节约|节省|压缩|增|降|减)[^，,。；;：:\d到至为达]{0,8}$"
)


def _only_changes(text: str) -> bool:
    """Every figure the text states (dates and technology names aside) is a change ("降低3万度"): none is a value."""
    t = _TECH_TAG.sub(" ", facts.DATE.sub(" ", text))
    found = list(_NUMBER_STATED.finditer(t))
    return bool(found) and all(_AFTER_CHANGE.search(t[: m.start()]) for m in found)


# money asked: an amount, an investment, an income or output, a price ("多少资金", "总投资", "营收", "GDP")
_MONEY_ASKED = re.compile(
    r"元|钱|资金|金额|投资|额|收入|营收|产值|利润|税|资产|贷款|融资|GDP|gdp|总值|增加值|价|费|成本|补贴|奖|规模|经费|预算"
)
_AMOUNT = re.compile(r"\d[\d.,]*\s*(?:余|多)?\s*(?:万亿|亿|千万|百万|万|千)?\s*(?:元|美元)")


def _only_money(text: str) -> bool:
    """Every figure the text states (dates and technology names aside) is an amount of money ("投资1.8亿元")."""
    t = _TECH_TAG.sub(" ", facts.DATE.sub(" ", text))
    nums = list(_NUMBER_STATED.finditer(t))
    return bool(nums) and all(any(a.start() <= m.start() < a.end() for a in _AMOUNT.finditer(t)) for m in nums)


# a technology's name with a digit in it ("5G", "3D", "4K"): no figure of anything
_TECH_TAG = re.compile(r"(?<![\d.])\d[A-Z](?![A-Za-z])")
_CLAUSE_END = re.compile(r"[，,；;。：:！!？?]")


def _count_unstated(counted: str, text: str) -> bool:
    """The sentence names what a "how many" question counts (`counted`, rag.generate.ground.counted_noun) but no
    clause naming it states a figure: its figures count something else ("南昌高新区通过…建设法治实践站…，已累计培养
    法律明白人1000余名" for "多少个法治实践站")."""
    if len(counted) < 2:
        return False
    said = [cl for cl in _CLAUSE_END.split(norm(text)) if norm(counted) in cl]
    return bool(said) and not any(facts.has_figure(facts.DATE.sub(" ", cl)) for cl in said)


def _phase_states_figure(asked: set[str], text: str) -> bool:
    """Does what `text` says of the phases asked state a figure? What it says of a phase runs from its mention to the
    mention of another phase ("一期租赁厂房，…，二期规划用地约100亩"); phases named together ("一期、二期分别…")
    share what follows."""
    marks = list(PHASE.finditer(text))
    for i, m in enumerate(marks):
        if m.group(1) not in asked:
            continue
        end = len(text)
        for n in marks[i + 1 :]:
            if n.group(1) not in asked and len(text[marks[i].end() : n.start()]) > 3:
                end = n.start()
                break
        if facts.has_figure(facts.DATE.sub(" ", text[m.end() : end])):
            return True
    return False


def _total_of_list(question: str, text: str) -> bool:
    """Does `text` state a total over a list ("A、B、C，共签约项目111个", in the total's clause or the one before it)
    of which the question names one item alone (NAMED_ITEM characters in a row that no other item has) and mentions
    no other (OTHER_ITEM characters)? Then the figure is the list's, not the item's: "2021世界VR产业大会云峰会签约了
    多少个项目" is not answered by the three conferences' 111; "VR、航空、电子信息三场盛会一共…" asks the total."""
    q, t = norm(question), norm(text)
    for m in _TOTAL.finditer(t):
        for seg in re.split(r"[，,；;：:]", t[: m.start()])[-2:]:
            items = [x for x in seg.split("、") if x]
            if len(items) < 2:
                continue
            said = [i for i in range(len(items)) if _says_item(q, items, i, NAMED_ITEM)]
            if len(said) == 1 and not any(
                _says_item(q, items, i, OTHER_ITEM) for i in range(len(items)) if i != said[0]
            ):
                return True
    return False


def _says_item(q: str, items: list[str], i: int, n: int) -> bool:
    """Does `q` have a run of `n` characters of items[i] that no other item has?"""
    it = items[i]
    runs = {it[k : k + n] for k in range(len(it) - n + 1)}
    return any(r in q and not any(r in o for j, o in enumerate(items) if j != i) for r in runs)


def _other_ordinal(terms: list[str], text: str) -> bool:
    """Does `text` name another of a numbered series than the question's ("第一产业" for "第三产业", "十三五" for
    "十四五") and not the question's own? Terms of three characters or more with a numeral in them."""
    t = norm(text)
    for term in terms:
        n = norm(term)
        if len(n) < 3 or n in t:
            continue
        for i, ch in enumerate(n):
            if ch in NUMERAL and any(n[:i] + o + n[i + 1 :] in t for o in NUMERAL if o != ch):
                return True
    return False


# "几个 / 多少个": a count is asked, of whatever is counted; the answer states a number with a measure word
_ASKS_COUNT = re.compile(r"(?:多少|(?<!哪)几)个")
_COUNT = re.compile(
    r"(?:\d[\d.,]*|(?:[两三四五六七八九十百千]|一[十百千万])[一二两三四五六七八九十百千]*)\s*(?:[万亿千百])?\s*"
    r"(?:余|多)?\s*(?:[个家座所条件台名人次户批处只位支种类款]|项(?!目))"  # "2021项目" counts nothing
)
# a change asked in everyday words ("省了多少", "少了多少", "多长了百分之几", "减少了多少"), and a change stated with
# its figure ("降低75%以上", "下降2.2%", "缩短22.5%")
_ASKS_CHANGE = re.compile(
    r"(?:减少|降低|下降|少了|省了|省下|节约|节省|缩短|缩减|压缩|多了|涨了|长了|增加)[^，。？]{0,4}(?:多少|几)"
)
_STATES_CHANGE = re.compile(
    r"(?:增长|增速|增幅|下降|降幅|提高|提升|回落|上升|减少|增加|降低|缩减|缩短|节约|节省|压缩|减|降|增|涨|省|少|多|高出|"
    r"高于|低于|缩)[^，,。；;\d]{0,8}\d"
)
# a length or a span of time asked ("有多长", "多高", "多长时间", "多长工期"; not "多长了百分之几", a change), and
# one stated ("200余米", "两个月", "一个工作日", "15分钟")
_ASKS_EXTENT = re.compile(r"多长(?!了)|多高(?!了)|多宽|多深|多远")
_STATES_EXTENT = re.compile(
    r"(?:\d[\d.,]*|[两三四五六七八九十百千半一])\s*(?:[万千百]|余|多|个)*\s*"
    r"(?:米|公里|千米|厘米|毫米|月|年|天|日|小时|分钟|秒|周|星期|工作日|km|m\b)"
)


def _asked_numbers(question: str) -> set[str]:
    """The question's numbers with the character that follows each ("10亿" of "收入超过10亿元的企业有多少家", "5G",
    "2021年"): what the question itself says, so that a figure of another measure with the same digits ("10家") is
    still an answer."""
    q = unicodedata.normalize("NFKC", question)
    out = set()
    for _, end, n in number_spans(q):
        nxt = q[end : end + 1]
        out.add(n + nxt if nxt and not n.endswith(("%", "‰")) and (nxt.isalpha() or "\u4e00" <= nxt <= "\u9fff") else n)
    return out
