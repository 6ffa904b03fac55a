"""The last step of an answer, whatever generated it: sources that disagree are said to, amounts are also given in
the unit people say, and a question about "今年 / 去年 / 目前 / 最新" gets the year of its figure stated (never 今年
for another year's figure)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from rag.answerable import _loose_in, focus_term, question_terms
from rag.generate import conflicts, dates, facts, subject
from rag.generate.base import Draft
from rag.generate.qualifier import qualifier_gap
from rag.generate.rows import STATES_AMOUNT
from rag.lexical import BM25Index
from rag.types import Document, Hit
from rag.zh import Tokenizer, norm


def ground(
    question: str,
    draft: Draft,
    hits: list[Hit],
    documents: Mapping[str, Document] | None = None,
    extractive: bool = False,
) -> tuple[Draft, list[dict[str, Any]]]:
    """The draft as answered, or the answer that names the disagreeing sources; and the response's `conflicts`."""
    found = conflicts.find(question, hits)
    if found:
        d, item = conflicts.answer(found[0], hits)
        return replace(d, flags=sorted({*draft.flags, *d.flags}), stats=draft.stats), [item]
    if draft.answerable and facts.add_spoken(draft.text) != draft.text:  # 105000万元 also as 10.5亿元
        draft = replace(draft, text=facts.add_spoken(draft.text))
    word = dates.relative_time(question)
    if not word or not draft.answerable or not draft.citations:
        return draft, []
    c = min(draft.citations, key=lambda x: x.n)
    doc = (documents or {}).get(c.hit.chunk.doc_id)
    doc_year = dates.document_year(doc) if doc else None
    before = c.hit.chunk.text[: max(0, c.quote_start - c.hit.chunk.start)]
    year = dates.figure_year(c.quote, before, doc_year)
    # the model echoes the question's "今年的"; a quote keeps its own words (the year is stated before it)
    text = draft.text if extractive else dates.strip_relative(draft.text, word)
    meant = dates.resolve_year(word, doc_year)
    target = dates.target_year(c.quote, before)
    if target:  # "到2025年…达到": a plan's aim, not the latest figure
        lead = f"文档中这是{target}年的目标："
    elif not year:  # "这一数字" only where a figure was asked ("去年获批上市的新药是什么" is answered by a name)
        lead = "文档未写明这一数字的年份：" if facts.asks_figure(question) else "文档未写明其年份："
    else:
        lead = f"{year}年（文档所说的{word}）：" if meant == year else f"文档中最新的是{year}年："
    return replace(draft, text=lead + text, flags=sorted({*draft.flags, "year_stated"})), []


# --- does the answer's sentence carry what was asked? --------------------------------------------------------------
# "与/同/跟 X 相比", "比 X", "相当于 X 的", "仅次于 X": X is what the sentence compares its subject with
_COMPARED_WITH = re.compile(r"(?:比|较|相当于|仅次于|高于|低于|超过|超出|不及|落后于|领先于?)$")
_COMPARED_AROUND = re.compile(r"(?:与|同|跟|和)$")
_COMPARED_AFTER = re.compile(r"^[^，,。；;]{0,4}(?:相比|相较|比较)")
# "增长了多少 / 增速 / 增幅": the answer states a change, a figure right after a word of change
_ASKS_GROWTH = re.compile(r"增长了?多少|增长率|增速|增幅|降幅|下降了?多少|回落了?多少|提高了?多少|提升了?多少")
_STATES_GROWTH = re.compile(r"(?:增长|增速|增幅|下降|降幅|提高|提升|回落|上升|减少|增加)[^，,。；;\d]{0,8}\d")
# "多少亿元 / 多少钱": the answer states an amount of money
_ASKS_AMOUNT = re.compile(r"多少(?:[万亿千百]*元|钱|资金)")
_SHARE = {"比重", "占比", "比例", "份额"}
_CHANGE_WORD = re.compile(r"增长|增速|增幅|降幅|下降|回落|提高|提升|同比|环比|上升|减少|增加")
_CLAUSE = re.compile(r"[，,；;。：:]")
# a gap to another figure stated with its own ("高于全市规模以上工业12.8个百分点"): what "增速高于…多少个百分点" asks
_SENTENCE_END = re.compile(r"[。！？!?]")
_STATES_GAP = re.compile(r"(?:高于|低于|高出|低出|快于|慢于)[^，,。；;\d]{0,8}\d")
_PERIOD_WORD = re.compile(r"年末|年底|年初|年中|年度|全年|上半年|下半年|[一二三四]季度|前[一二三四]季度|月末|月底")
_QUESTION_WORD = re.compile(r"多少|几|哪|什么|谁|何")
_ASKS_PLACE_KIND = re.compile(r"哪(?:一|个|一个)?([省市县区镇乡]{1,2})")
_MODIFIER = re.compile(r"^(?:总|全年|年度|年|累计)(?=..)")
_LATIN_ASKED = re.compile(r"([A-Za-z][A-Za-z&]+)\s*的?(?:是|有|达到?)?多少")
_COUNTED_TAGS = frozenset({"n", "nz", "nt", "l", "j", "vn"})
# a share stated: "占全省比重26.25%", or a rate in per cent ("化解率达98%以上" for "化解纠纷的比例是多少")
_STATES_SHARE = re.compile(r"占[^，,。；;]{0,20}?\d[\d.]*\s*[%％]|率[^，,。；;\d]{0,4}\d[\d.]*\s*[%％]")
_BARE_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])")
# "营业收入是多少 / 总投资多少 / 产值约为多少": the noun right before the question word is the one whose value is asked
_VALUE_ASKED = re.compile(
    r"^的?(?:能|可|可以|将|会|预计)?(?:是|为|有|达到?|约为?|大约|大概|共|一共|总共|累计|合计)?(?:多少|多大|多高|多长|几)"
)
# "排名第几 / 第几位": the answer states a rank
_ASKS_RANK = re.compile(r"第几|排名(?:如何|怎样|怎么样|多少)|名次")
_STATES_RANK = re.compile(
    r"第\s*[\d一二三四五六七八九十百]+|前\s*[\d一二三四五六七八九十百]+|首位|榜首|居首|之首|冠军|末位"
)
# "…汽车产业 / 电子信息行业": the sector a figure is asked of, the word right before its head
_SECTOR_HEAD = frozenset({"产业", "行业"})
_OTHER_SECTOR = re.compile(r"[\u4e00-\u9fff]{2}(?:产业|行业)")
# "比去年 / 较上年 / 与去年同期相比": a year named as the base of a comparison, not as the figure's own
_BASE_OF_COMPARISON = re.compile(r"(?:比|较|同|与|跟|和|于|超过|低于|高于)$")
GAPS = (
    "subject",
    "year",
    "attribute",
    "growth",
    "amount",
    "place",
    "rank",
    "value",
    "sector",
    "period",
    "topic",
    "qualifier",
)


def answer_gaps(
    question: str,
    hit: Hit,
    start: int,
    end: int,
    tokenizer: Tokenizer,
    bm25: BM25Index | None = None,
    passages: list[Hit] | None = None,
    only: Collection[str] = GAPS,
) -> list[str]:
    """What the question asks that the answer's evidence, the span [start, end) of `hit` (document offsets, as a
    Citation's quote_start/quote_end), does not itself carry, as a subset of `only` (default: all of GAPS) in GAPS'
    order; empty when it carries all; gaps not in `only` are not looked for. Which gaps make an answer no answer is
    the caller's choice (the extractive generator refuses on
    rag.generate.extractive.REFUSED_GAPS; "year" and "attribute" also reject correct sentences too often to
    refuse on alone). `passages`: those retrieved for the question (for "attribute", "sector" and "topic").
    - subject: a place the question asks about is named in the sentence only as what another place is compared with
      ("2020年南昌GDP为5745.51亿元，仅相当于武汉的37%" for a question about 武汉; "与南昌相比，赣州…");
    - year: the question names years and none of them is the sentence's (or, for a sentence stating none, the last
      one stated before it in the passage, else its heading's or title's);
    - attribute: a figure is asked and the noun it is asked of ("营业收入", "产值") is not in the sentence (nor a table
      row's header), when the documents use that noun (`passages`, the passages retrieved for the question, or else
      the collection: a paraphrase's own word proves nothing); a share ("比重", "占比") is carried by "占…%" or a
      rate ("化解率达98%");
    - growth: a change is asked ("增长了多少", "增速是多少") and the sentence states no figure after a word of change,
      or only of another subject than the question's;
    - amount: money is asked ("多少亿元", "多少钱") and the sentence states no amount of money;
    - place: "哪个区 / 哪个县" is all that is asked and the sentence names no such place besides the question's;
    - rank: a rank is asked ("排名第几", "第几位") and the sentence states none ("第6位", "前十", "首位");
    - value: the noun whose value is asked stands right before the question word ("营业收入是多少", "总投资多少") or
      is what is counted, of three characters or more ("多少家外资企业"), and the sentence does not state it, nor its
      abbreviation (营收 for 营业收入), when the documents use it: the narrow case of "attribute" ("中小公司超过多少
      家" counts what 企业 may say too; "营业收入是多少" asks for 营业收入);
    - sector: the question names a sector ("绿色食品产业") the documents name, and the sentence names another one
      ("航空装备产业") but not the question's;
    - period: the question asks about 去年 and the sentence states 今年 (or the other way round), not as the base of a
      comparison ("比去年增长") and not beside the question's own word;
    - topic: a change is asked and the sentence names none of the question's terms that the documents use (places,
      years and words of change aside);
    - qualifier: the sentence states the head noun of the phrase asked with another qualifier or none
      ("全社会用电量" for "居民生活用电量", "国家级绿色工厂" for "市级绿色工厂"; rag.generate.qualifier).
    """
    c = hit.chunk
    sentence = c.text[max(0, start - c.start) : max(0, end - c.start)]
    before = c.text[: max(0, start - c.start)]
    context = f"{c.heading} {hit.title}"
    s = norm(sentence)
    row = c.kind == "table_row"
    asked = dates.strip_relative(question, dates.relative_time(question)) or question
    gaps: list[str] = []
    texts = f"{hit.title} {c.text}"
    places = compared_subjects(question, tokenizer, texts) if "subject" in only else []
    if places and _only_compared(places, s, subject.passage_places(c, hit.title, tokenizer) | _ns(sentence, tokenizer)):
        gaps.append("subject")
    asked_years = dates.years(question)
    if "year" in only and asked_years and not (_stated_years(sentence, before, context) & asked_years):
        gaps.append("year")
    if "attribute" in only and facts.asks_figure(asked):
        hay = s + (norm(c.context) if row else "")
        focus = focus_term(asked, question_terms(asked, tokenizer), tokenizer) or _latin_focus(asked)
        for noun in (focus, counted_noun(asked, tokenizer)):
            if not noun or not _used(noun, bm25, passages):
                continue
            share = noun in _SHARE and _STATES_SHARE.search(sentence)
            bare = _MODIFIER.sub("", norm(noun)) or norm(noun)  # "总投资" is stated by "投资金额"
            if not share and not _states(bare, hay) and not _loose_in(noun, hay):
                gaps.append("attribute")
                break
    gaps += [g for g in measure_gaps(asked, sentence, c.context if row else "") if g in only]
    if (
        "growth" in only
        and "growth" not in gaps
        and asks_change(asked)
        and not _change_of_topic(asked, sentence, tokenizer, bm25)
    ):
        gaps.append("growth")
    if "value" in only and value_gap(asked, sentence, c.context if row else "", tokenizer, bm25, passages):
        gaps.append("value")
    if "sector" in only and sector_gap(asked, sentence, tokenizer, bm25, passages):
        gaps.append("sector")
    if "period" in only and period_gap(question, sentence):
        gaps.append("period")
    if "topic" in only and topic_gap(asked, sentence, tokenizer, bm25, passages):
        gaps.append("topic")
    if "qualifier" in only and not row and qualifier_gap(asked, sentence, tokenizer, bm25, passages, c.text):
        gaps.append("qualifier")
    return gaps


def topic_gap(
    question: str,
    sentence: str,
    tokenizer: Tokenizer,
    bm25: BM25Index | None,
    passages: list[Hit] | None = None,
) -> bool:
    """The "topic" gap of answer_gaps: a change is asked ("商标申请量同比增长多少") and the sentence, though it states
    a change, names none of what the question asks the change of: none of its terms (places, years and words of
    change aside) that the documents use (the collection, `bm25`, and the retrieved `passages`: a paraphrase's own
    words prove nothing) is in it ("专利质押融资贷款金额…增长64.2%")."""
    if not asks_change(question) or not _STATES_GROWTH.search(sentence):
        return False
    places = {norm(p) for p in compared_subjects(question, tokenizer)}
    terms = [
        norm(w)
        for w in question_terms(question, tokenizer)
        if not any(norm(w) in p for p in places)  # (东湖 and 园区 of 东湖园区 too)
        and not _CHANGE_WORD.search(w)
        and not any(ch.isdigit() for ch in w)
        and (bm25 is None or bm25.idf(w) > 0 or bm25.idf(norm(w)) > 0)
        and (passages is None or _used(w, None, passages))
    ]
    t = norm(sentence)
    return bool(terms) and not any(w in t or _loose_in(w, t) for w in terms)


def sector_gap(
    question: str,
    sentence: str,
    tokenizer: Tokenizer,
    bm25: BM25Index | None = None,
    passages: list[Hit] | None = None,
) -> bool:
    """The "sector" gap of answer_gaps: the question asks about a sector ("绿色食品产业", "汽车行业": what stands
    right before 产业 / 行业) that the documents name (the retrieved `passages`, else the collection, `bm25`: a word
    of the question's own, 高科技行业 for 高新技术产业, proves nothing), and the sentence names another sector
    ("航空装备产业") but not the question's."""
    asked = [w for w in _sectors(question, tokenizer) if _used(w, bm25, passages)]
    if not asked:
        return False
    s = norm(sentence)
    if any(norm(w) in s or _loose_in(w, s) for w in asked):
        return False
    return any(m.group(0)[:2] not in _GENERIC_SECTOR for m in _OTHER_SECTOR.finditer(s))


def _sectors(question: str, tokenizer: Tokenizer) -> list[str]:
    """The sectors a question names: the word before 产业 / 行业, or a word's part before them ("电子信息" of
    "电子信息产业"); not a number's ("八大产业"), a question word's ("什么产业") nor a generic one ("重点产业")."""
    tagged = tokenizer.tagged(question)
    out = []
    for i, (w, f) in enumerate(tagged):
        nxt = tagged[i + 1][0] if i + 1 < len(tagged) else ""
        if w[-2:] in _SECTOR_HEAD and len(w) >= 4:
            w = w[:-2]
        elif nxt not in _SECTOR_HEAD or f in ("m", "ns", "x", "r"):
            continue
        if (
            len(w) >= 2
            and w[:2] not in _GENERIC_SECTOR
            and not _NUMERAL_WORD.search(w)
            and not _QUESTION_WORD.search(w)
        ):
            out.append(w)
    return out


_NUMERAL_WORD = re.compile(r"[\d一二三四五六七八九十百两几各]")
# "重点产业 / 相关行业 / 新兴产业": no sector of its own (these name the question's as well as any other)
_GENERIC_SECTOR = frozenset(
    {"重点", "相关", "新兴", "主导", "优势", "特色", "支柱", "战略", "全市", "全省", "各个", "其他"}
)


def period_gap(question: str, sentence: str) -> bool:
    """The "period" gap of answer_gaps: the question asks about 去年 / 上年 and the sentence states 今年 / 本年 as its
    figure's time ("今年上半年…增速达到20.5%" is this year's, not last year's), or the question asks about 今年 and the
    sentence's figure is of 去年 / 上年 (not as the base of a comparison: "比去年增长"). A question naming a year
    ("2020年…比上年") asks no relative time."""
    word = dates.relative_time(question)
    shift = dates.RELATIVE.get(word)
    if shift is None:
        return False
    s = norm(sentence)
    if any(w in s for w, k in dates.RELATIVE.items() if k == shift and w != "当年"):
        return False  # "继去年…获批上市后，今年有望…": the sentence speaks of both
    for other, other_shift in dates.RELATIVE.items():
        if other_shift == shift or other == "当年":
            continue
        i = s.find(other)
        while i >= 0:
            if not _BASE_OF_COMPARISON.search(s[:i]) and not (
                other_shift < 0 and s[i + len(other) :].startswith("同期")
            ):
                return True
            i = s.find(other, i + 1)
    return False


def _value_noun(question: str, tokenizer: Tokenizer) -> str:
    """The noun right before the question word ("营业收入" in "营业收入是多少", "GDP" in "GDP是多少"); empty when the
    question word follows no noun of the question's."""
    q = norm(question)
    tags = dict(tokenizer.tagged(question))
    for noun in (focus_term(question, question_terms(question, tokenizer), tokenizer), _latin_focus(question)):
        i = q.rfind(norm(noun)) if noun else -1
        rest = q[i + len(norm(noun)) :]
        m = _VALUE_ASKED.match(rest) if i >= 0 else None
        if not m:
            continue
        if noun in _META_NOUNS:  # "营业收入目标是多少" asks the 营业收入 targeted, not a figure named 目标
            return _value_noun(q[:i] + rest, tokenizer)
        if tags.get(noun) in ("v", "vn") and rest[m.end() : m.end() + 1] in facts.MEASURE_CLASS:
            continue  # "每年生产多少套…压铸件": 生产 is the verb of the count, what is counted follows
        return noun
    return ""


# nouns that say what kind of figure is asked, not what it is of
_META_NOUNS = frozenset({"目标", "预期", "预期目标", "计划", "任务", "要求", "水平"})


def value_gap(
    question: str,
    sentence: str,
    header: str,
    tokenizer: Tokenizer,
    bm25: BM25Index | None,
    passages: list[Hit] | None = None,
) -> bool:
    """The "value" gap of answer_gaps: `question` asks the value of a noun, and `sentence` (with a table row's
    `header`) does not state it (see answer_gaps). The noun: the one right before the question word ("营业收入是多少"),
    or what is counted when it has three characters or more ("多少家外资企业"; a shorter one, 公司 or 企业, is said in
    too many ways); only one the collection (`bm25`) or the retrieved `passages` use (a word no document uses is the
    question's own wording)."""
    if not facts.asks_figure(question):
        return False
    asked = [noun] if (noun := _value_noun(question, tokenizer)) else []
    counted = counted_noun(question, tokenizer)
    if counted and _states(norm(counted), norm(sentence) + norm(header)):
        asked = []  # "每年生产多少颗摄像头" asks for 摄像头, stated: "生产" before the question word is its verb
    if len(counted) >= 3:
        asked.append(counted)
    hay = norm(sentence) + norm(header)
    for noun in asked:
        in_passages = bool(passages) and _used(noun, None, passages)
        # without the collection (`bm25`), the retrieved passages alone tell what the documents use
        if not in_passages and (not _used(noun, bm25, None) or (bm25 is None and passages)):
            continue
        if noun in _SHARE and _STATES_SHARE.search(sentence):
            continue
        n = norm(noun)
        bare = _MODIFIER.sub("", n) or n
        # (an abbreviation is of Chinese words: "gdp" is not abbreviated by "占GDP比重")
        if not (_states(bare, hay) or _loose_in(noun, hay) or (not bare.isascii() and facts.abbreviated(bare, hay))):
            return True
    return False


def counted_noun(question: str, tokenizer: Tokenizer) -> str:
    """What a "how many" question counts: the last noun of the run right after 多少 / 几 and its measure word
    ("绿色工厂" in "累计培育了多少家国家级绿色工厂？"); empty when none."""
    tagged = tokenizer.tagged(question)
    for i, (w, _) in enumerate(tagged):
        if w in ("多少", "几") or (w.startswith("几") and len(w) == 2):
            noun = ""
            for w2, f2 in tagged[i + 1 : i + 6]:
                if f2 in _COUNTED_TAGS and len(w2) >= 2:
                    noun = w2
                elif noun or f2 == "x" or f2 not in ("q", "b", "m", "d") and len(w2) >= 2:
                    break
            return noun
    return ""


def _used(noun: str, bm25: BM25Index | None, passages: list[Hit] | None) -> bool:
    """Do the documents use the noun asked about? With `passages` (those retrieved for the question), one of them
    must; else the collection must (BM25 knows it). A word only the question uses is its own wording (a paraphrase:
    "工厂用了多少度电" for "工业用电量") and proves nothing."""
    n = norm(noun)
    if passages is not None:
        return any(n in _normed_passage(h) for h in passages)
    return bm25 is None or bm25.idf(noun) > 0 or bm25.idf(n) > 0


def _normed_passage(h: Hit) -> str:
    return norm(" ".join((h.title, h.chunk.heading, h.chunk.context, h.chunk.text)))


def _latin_focus(question: str) -> str:
    """A Latin-letter term asked about ("GDP" in "2019年南昌GDP是多少？"), which jieba does not tag as a noun."""
    m = _LATIN_ASKED.search(question)
    return m.group(1) if m else ""


def _states(noun: str, hay: str) -> bool:
    """The noun is in the sentence other than as what a share is of ("占GDP比重为1.7%" states no GDP)."""
    i = hay.find(noun)
    while i >= 0:
        if not hay[max(0, i - 1) : i] == "占":
            return True
        i = hay.find(noun, i + 1)
    return False


def _change_of_topic(question: str, sentence: str, tokenizer: Tokenizer, bm25: BM25Index | None) -> bool:
    """A change the sentence states is of what the question asks about: the question's terms that the sentence names
    (other than places and words of change) are all in the clause of a change figure and the clause before it, or
    in what the sentence says since the change before it
    ("生物医药产业…增长了多少" is not answered by "八大产业营业收入合计6227.3亿元，同比增长21%，…，生物医药产业实现
    营业收入350.6亿元"). True when the sentence names none of them (the attribute check speaks for that)."""
    places = {norm(p) for p in compared_subjects(question, tokenizer)}
    t = norm(sentence)
    terms = [
        norm(w)
        for w in question_terms(question, tokenizer)
        if norm(w) in t
        and norm(w) not in places
        and not _CHANGE_WORD.search(w)
        and not any(ch.isdigit() for ch in w)
        and not _PERIOD_WORD.fullmatch(w)  # "2020年末，…分别增长13.94%": the period governs the whole sentence
    ]
    if not terms:
        return True
    for m in _STATES_GROWTH.finditer(t):  # the change's clause and the clause before it
        window = "".join(_CLAUSE.split(t[: m.end()])[-2:])
        if all(w in window for w in terms):
            return True
    # or all that its sentence says since the change before it, to the end of the figure's clause: a change's subject
    # may lead its sentence ("全市实施…项目402个，总投资3890.6亿元，较去年同期提高39.4%"), and a gap to another figure
    # ("…增长21.6%，高于全市规模以上工业12.8个百分点") is of the change before it, reading what that one reads
    cuts = [m.end() for m in _CLAUSE.finditer(t)] + [len(t)]
    stated = [(m.end(), False) for m in _STATES_GROWTH.finditer(t)] + [(m.end(), True) for m in _STATES_GAP.finditer(t)]
    start = last = 0
    for end, gap in sorted(stated):
        start = max([start if gap else last, *(m.end() for m in _SENTENCE_END.finditer(t, 0, end))])
        if all(w in t[start : next(c for c in cuts if c >= end)] for w in terms):
            return True
        last = end
    return False


def asks_change(question: str) -> bool:
    """ "增长了多少 / 增速是多少": a change is what is asked (not "增速领跑的是哪两个产业")."""
    # (the figure asked after the word of change: "有几个指标增速进入第一方阵" counts indicators)
    return any(facts.asks_figure(question[m.start() :]) for m in _ASKS_GROWTH.finditer(question))


def measure_gaps(question: str, sentence: str, header: str = "") -> list[str]:
    """The "growth", "amount", "place" and "rank" gaps of answer_gaps alone: what a candidate sentence must state to
    answer at all. `header`: a table row's header, whose "投资金额（万元）" gives the row's figures their unit."""
    gaps = []
    if asks_change(question) and not _STATES_GROWTH.search(sentence):
        gaps.append("growth")
    row_amount = "元" in header and re.search(r"\d", sentence)
    if _ASKS_AMOUNT.search(question) and not STATES_AMOUNT.search(sentence) and not row_amount:
        gaps.append("amount")
    m = _ASKS_PLACE_KIND.search(question)
    if m and len(_QUESTION_WORD.findall(question)) == 1 and not _names_place_of_kind(sentence, m.group(1), question):
        gaps.append("place")
    if _ASKS_RANK.search(question) and not _STATES_RANK.search(sentence):
        gaps.append("rank")
    return gaps


def _names_place_of_kind(sentence: str, kinds: str, question: str) -> bool:
    """The sentence names a place ending in one of `kinds` ("区", "县区") that the question does not name."""
    for i, ch in enumerate(sentence):
        if ch in kinds:
            for n in range(3, 7):
                w = sentence[max(0, i + 1 - n) : i + 1]
                if len(w) == n and subject.is_named_place(w) and w not in question:
                    return True
    return False


def compared_subjects(question: str, tokenizer: Tokenizer, texts: str = "") -> list[str]:
    """The places of the question (rag.generate.subject.question_subjects), and the other names jieba tags as places
    (武汉, which no passage may write as 武汉市), provinces and 全国 left out."""
    places, _ = subject.question_subjects(question, tokenizer, texts)
    return list(dict.fromkeys([*places, *_ns(question, tokenizer)]))


def _stated_years(sentence: str, before: str, context: str) -> set[int]:
    own = dates.years(sentence) | {int(y) for y in _BARE_YEAR.findall(sentence)}  # "2021世界VR产业大会"
    if own:
        return own
    last = dates.stated_year("", before)
    return {last} if last else dates.years(context)


def _only_compared(places: list[str], s: str, known: frozenset[str]) -> bool:
    """Every asked place the normalised sentence `s` names is named as what another place is compared with: another
    place named before "比 / 相当于 / 仅次于 X", or anywhere else in the sentence for "与 X 相比"."""
    named = [p for p in places if _stem(p) in s]
    if not named:
        return False
    for p in named:
        stem = _stem(p)
        others = [k for k in known if not subject.same_place(k, p)]
        i = s.find(stem)
        while i >= 0:
            head, tail = s[:i], s[i + len(stem) :]
            if _COMPARED_WITH.search(head):
                ok = any(k in head for k in others)
            elif _COMPARED_AROUND.search(head) and (m := _COMPARED_AFTER.search(tail)):
                ok = any(k in head[:-1] or k in tail[m.end() :] for k in others)
            else:
                ok = False
            if not ok:
                return False
            i = s.find(stem, i + 1)
    return True


def _ns(text: str, tokenizer: Tokenizer) -> frozenset[str]:
    """The names jieba tags as places in `text` (南昌, which a passage may not write as 南昌市), normalised."""
    return frozenset(
        norm(w) for w, f in tokenizer.tagged(text) if f == "ns" and len(w) >= 2 and not subject.is_broad(w)
    )


def _stem(place: str) -> str:
    m = subject.ADMIN.match(place)
    return norm(m.group(1) if m and len(m.group(1)) >= 2 else place)
