"""Subject, time, table-column, unit and conflict rules (rag.generate.facts, rag.generate.conflicts) on hand-made
text."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag.generate import conflicts, dates, facts, subject
from rag.generate.base import Draft
from rag.generate.ground import ground
from rag.types import Chunk, Citation, Hit
from rag.zh import Tokenizer

HEADER = "序号\t项目名称\t投资金额 (万元)\t建设期\t主要内容"
HUAQIN = (
    "19\t华勤千亿产业基 地项目\t10000000\t2020-2023\t项目占地面积为 3000 亩,分三期建设,"
    "一期占地为 870 亩,建筑面积为 128 "
    "万平方米。主要建 设厂房及配套设施。项目一期达产后形成 122 条 SMT 生产线、302 条组装线等配套设备,"
    "预计 实现年产笔电、"
    "手机及其他智能终端产品 1.6 亿台,实现年主营业务收入 1000 亿元。"
)


def _hit(
    text: str, start: int = 100, title: str = "南昌日报", doc: str = "d", kind: str = "text", context: str = ""
) -> Hit:
    return Hit(
        Chunk(f"{doc}#{start}", doc, text, start, start + len(text), context=context, kind=kind),
        1.0,
        f"{doc}.txt",
        title,
    )


@pytest.mark.parametrize(
    ("value", "unit", "spoken"),
    [
        ("10000000", "万元", "1000亿元"),
        ("105000", "万元", "10.5亿元"),
        ("3000", "万元", ""),
        ("35000", "元", "3.5万元"),
        ("250000000", "元", "2.5亿元"),
        ("12.3", "亿元", ""),
        ("500", "元", ""),
        ("1000", "亩", ""),
        ("abc", "万元", ""),
    ],
)
def test_amounts_in_the_unit_people_say(value: str, unit: str, spoken: str) -> None:
    assert facts.spoken_amount(value, unit) == spoken
    assert facts.with_spoken(value, unit) == (f"{value}{unit}（即{spoken}）" if spoken else f"{value}{unit}")


def test_amounts_in_an_answer_also_in_the_unit_people_say() -> None:
    assert facts.add_spoken("投资金额是105000万元[1]。") == "投资金额是105000万元（即10.5亿元）[1]。"
    assert facts.add_spoken("投资金额10000000万元（即1000亿元）[1]") == "投资金额10000000万元（即1000亿元）[1]"
    assert (
        facts.add_spoken("总投资120亿元，补贴3000万元，奖励500元，收入1500000元。")
        == "总投资120亿元，补贴3000万元，奖励500元，收入1500000元（即150万元）。"
    )
    d, _ = ground("项目投资多少？", Draft("投资金额是105000万元[1]。", []), [])
    assert d.text == "投资金额是105000万元（即10.5亿元）[1]。"


def test_amounts_compare_across_units() -> None:
    assert facts.amount_yuan("总投资120亿元的华勤") == 1.2e10
    assert facts.amount_yuan("投资金额10000000万元") == 1e11
    assert facts.amount_yuan("没有金额") is None


def test_years_stated_ranges_and_chinese_numerals() -> None:
    assert dates.years("2021年，南昌工业投资同比增长18.7%") == {2021}
    assert dates.years("建设期2020-2023") == {2020, 2021, 2022, 2023}
    assert dates.years("2021.03-2022.12") == {2021, 2022}
    assert dates.years("二〇二一年第九期") == {2021}
    assert dates.years("实现营业收入2000亿元，10000000万元") == set()  # amounts are not years


def test_relative_time_resolved_against_the_document_date() -> None:
    assert dates.relative_time("南昌今年的GDP是多少？") == "今年" and dates.relative_time("目前有多少家") == "目前"
    assert dates.relative_time("2021年南昌GDP是多少？") == ""
    assert dates.document_year(SimpleNamespace(meta={"date": "2022-04-10 06:33:27 +0800"}, text="")) == 2022
    assert (
        dates.document_year(SimpleNamespace(meta={}, text="\n2021\n\n# 南昌市人民政府公报\n二〇二一年第九期")) == 2021
    )
    assert dates.document_year(SimpleNamespace(meta={}, text="正文没有日期")) is None
    assert dates.resolve_year("去年", 2022) == 2021 and dates.resolve_year("今年", 2022) == 2022
    assert dates.resolve_year("最新", 2022) is None and dates.resolve_year("今年", None) is None
    assert dates.strip_relative("南昌今年的GDP是5745.51亿元[1]。", "今年") == "南昌GDP是5745.51亿元[1]。"


def test_time_must_match_the_evidence() -> None:
    assert dates.time_ok({2021}, "规模以上工业增加值同比增长11.4%", "2021年，南昌工业多项指标进入")
    assert not dates.time_ok({2023}, "2020年，全市地区生产总值5745.51亿元。", "")
    assert not dates.time_ok({2022}, "增长11.4%", "2021年，南昌工业")  # the passage's year is 2021
    assert dates.time_ok(set(), "2020年，全市地区生产总值5745.51亿元。", "")
    assert dates.time_ok({2022}, "建设期2020-2023", "")
    assert dates.figure_year("2020年，全市地区生产总值5745.51亿元。", "", 2021) == 2020
    assert dates.figure_year("增长11.4%", "2021年，南昌", 2022) == 2021
    assert dates.figure_year("增长11.4%", "", 2022) == 2022


def test_subject_is_the_evidence_sentences_not_the_documents(tokenizer) -> None:
    tokenizer = tokenizer.with_terms([("新余高新区", 23, "ns")])  # as the seeds' collection dictionary holds it
    q = "2023年南昌地区生产总值是多少？"
    assert subject.question_subjects(q, tokenizer, "南昌市统计局发布")[0] == ["南昌"]
    assert subject.question_subjects("2023年南昌市地区生产总值是多少？", tokenizer)[0] == ["南昌市"]
    # a bare name counts as a place once the passages write it as one; "上市" (tagged ns by jieba) never does
    assert subject.question_subjects(q, tokenizer, "没有这个地名")[0] == []
    assert subject.question_subjects("新余高新区推动企业上市的做法有哪些？", tokenizer, "企业上市")[0] == ["新余高新区"]

    def ok(sentence: str, before: str = "", context: str = "") -> bool:
        known = subject.known_places(context + "\n" + before + sentence, tokenizer)
        return subject.subject_ok(["南昌"], sentence, before, context, known)

    assert not ok("2023年，赣州地区生产总值达4606亿元。", "", "南昌日报")
    assert ok("规模以上工业增加值同比增长11.4%", "2021年，南昌工业多项指标进入")
    assert ok("南昌经开区实现营业收入500亿元")  # a part of the city
    assert ok("比全省平均增速高3.3个百分点")  # the province is no other subject
    assert ok("在全国省会城市排名第6位")  # 城市, tagged ns by jieba, is no place
    # a sentence naming no place is about the last place named before it, else its heading's
    assert not ok("地区生产总值增速达5.3%。", "2023年，赣州地区生产总值达4606亿元；")
    assert not ok("地区生产总值增速达5.3%。", "", "赣州加快发展新质生产力")
    assert ok("地区生产总值增速达5.3%。", "赣州市与南昌市共建产业带。南昌市")
    assert subject.subject_ok([], "2023年，赣州地区生产总值达4606亿元。", "", "", frozenset({"赣州"}))
    assert subject.known_places("南昌市与赣州、新余高新区", tokenizer) >= {
        "南昌市",
        "南昌",
        "赣州",
        "新余高新区",
        "新余",
    }


def test_the_place_governing_a_sentence_is_the_subject_of_the_last_one_naming_a_place(tokenizer) -> None:
    def ok(asked: str, sentence: str, before: str = "", context: str = "", kind: str = "") -> bool:
        known = subject.known_places(context + "\n" + before + sentence, tokenizer)
        return subject.subject_ok([asked], sentence, before, context, known, kind)

    # the places a sentence compares its own with are not its subject
    compared = "2022年九江市GDP为900亿元，仅相当于武汉市的30%，郑州市的80%。"
    assert ok("九江", "全市税收收入下降2.2%。", compared)
    assert not ok("郑州", "全市税收收入下降2.2%。", compared)
    assert ok("九江", "全市贷款余额增长9%。", "与萍乡市相比，九江市增速更快。")
    assert not ok("萍乡", "全市贷款余额增长9%。", "与萍乡市相比，九江市增速更快。")
    # nor is a place in a company's name
    firm = "湖口高新区规划建设局提供全程代办。”湖口县宏远商贸有限公司负责人说。"
    assert ok("湖口高新区", "两个项目均在一个工作日内取得验收意见书。", firm)
    # a park or district named after the city asked is in it; the city is not in its park
    assert ok("宜春市", "不久前，锂电材料基地项目在宜春高新区开工。")
    assert not ok("宜春高新区", "全市用电量78亿千瓦时。", "宜春市一季度经济平稳开局。")
    # "哪几个区": the districts a sentence names are its answer; the sentence is about the heading's city
    answer = "以浔阳区为重点，推动直播经济集聚。"
    kind = subject.asked_place_kind("九江发展直播经济重点放在哪几个区？")
    assert kind == "区"
    assert ok("九江", answer, "", "九江市人民政府公报", kind)
    assert not ok("九江", answer, "", "九江市人民政府公报")
    assert not ok("萍乡", answer, "", "九江市人民政府公报", kind)
    assert subject.asked_place_kind("项目在哪个县？") == "县"
    assert subject.asked_place_kind("项目总投资多少？") == ""


def test_a_reporting_date_does_not_govern_the_figures_after_it() -> None:
    before = "2021年，全市实施重大工业项目402个。\n\n2022年4月8日，记者走进生产基地项目二期。\n\n技改提升优存量。"
    assert dates.time_ok({2021}, "全年共推进亿元以上技术改造项目93个。", before)
    assert not dates.time_ok({2022}, "全年共推进亿元以上技术改造项目93个。", before)
    # a date alone still dates what follows it
    assert dates.time_ok({2022}, "全年共推进技改项目93个。", "2022年4月8日，记者走进基地。")
    assert not dates.time_ok({2021}, "全年共推进技改项目93个。", "2022年4月8日，记者走进基地。")


def test_a_park_of_a_place_is_a_place_of_its_own(tokenizer) -> None:
    q = "东湖工业园区的数字化研发设计工具普及率是多少？"
    assert subject.question_subjects(q, tokenizer)[0] == ["东湖工业园区"]
    text = "九江市制造业企业关键工序数控化率超60%，东湖工业园区数字化研发设计工具普及率接近70%。"
    assert {"东湖工业园区", "东湖工业园"} <= subject.known_places(text, tokenizer)
    town = "目前，九江市制造业企业数字化研发设计工具普及率接近70%。"  # the town, not its park
    assert not subject.subject_ok(["东湖工业园区"], town, "", "", subject.known_places(town, tokenizer))
    assert subject.subject_ok(
        ["东湖工业园区"], "园区普及率接近70%。", "东湖工业园区", "", subject.known_places(text, tokenizer)
    )
    # a province is no place a park is named after
    assert subject.with_parks([("宁夏", "ns"), ("工业园区", "n")]) == [("宁夏", "ns"), ("工业园区", "n")]


def test_a_table_row_is_about_the_project_it_names() -> None:
    q = "华勤千亿产业基地项目总投资多少？"
    assert subject.row_name_ok(["华勤千亿产业基地"], q, "华勤千亿产业基 地项目")
    assert not subject.row_name_ok(["华勤千亿产业基地"], q, "江铃股份富山新能源汽车基地")
    assert subject.row_name_ok([], "江铃股份富山新能源汽车基地占地多少", "江铃股份富山新能源汽车基地")


def test_what_a_question_says_of_a_rows_name() -> None:
    q = "青川雨林汽车零部件有限公司的项目占地多少亩？"
    own = facts.name_shared(q, "青川雨林汽车零部件有限公司年产20万套汽车零部件生产项目")
    other = facts.name_shared(q, "江东立新汽车零部件有限公司年产100万套汽车零部件项目")
    assert facts.shared_size(q, own) == len("青川雨林汽车零部件有限公司项目")
    assert facts.shared_size(q, other) == len("汽车零部件有限公司项目")
    assert {facts.norm(q)[i] for i in own - other} == set("青川雨林")
    # a name the question repeats is said once; single characters in common are no part of a name
    q = "激光陀螺生产基地建成后年产多少轴激光陀螺？"
    assert facts.shared_size(q, facts.name_shared(q, "激光陀螺产业化技术创新")) == 4
    assert not facts.name_shared("它有多少？", "多功能中心")


def test_questions_are_not_statements() -> None:
    assert facts.is_question("2021年南昌规模以上工业增加值增长了多少？")
    assert facts.is_question("南昌工业投资增长了多少?”")
    assert not facts.is_question("规模以上工业增加值同比增长11.4%。")
    assert not facts.is_question("多少企业家感叹，营商环境越来越好。")


@pytest.mark.parametrize(
    ("question", "aspect", "column"),
    [
        ("华勤千亿产业基地项目总投资多少？", "投资", 2),
        ("华勤千亿产业基地项目的建设期是哪几年？", "建设期", 3),
        ("华勤千亿产业基地项目占地多少亩？", "占地", None),
        ("华勤千亿产业基地项目年产多少台？", "产能", None),
        ("华勤千亿产业基地项目分几期建设？", "布局", None),
        ("华勤千亿产业基地项目主要建设内容是什么？", "内容", 4),
        ("华勤千亿产业基地项目是什么？", "", None),
        ("华勤千亿产业基地项目投产后每年能产多少台笔电？", "产能", None),
        ("华勤千亿产业基地能停多少辆车？", "车位", None),
        ("华勤千亿产业基地的厂房有多大？", "", None),
        # everyday words: land without 占地, where a project is, what it makes
        ("华勤千亿产业基地项目要多少地？", "占地", None),
        ("华勤千亿产业基地项目占了多大一块地？", "占地", None),
        ("华勤千亿产业基地项目覆盖多少地区？", "", None),
        ("华勤千亿产业基地项目建在哪里？", "位置", None),
        ("华勤千亿产业基地项目主要生产哪些产品？", "产品", None),
    ],
)
def test_the_asked_column(question: str, aspect: str, column: int | None) -> None:
    assert facts.asked_aspect(question) == aspect
    assert (facts.column_for(aspect, HEADER.split("\t")) if aspect else None) == column


@pytest.mark.parametrize(
    ("aspect", "says"),
    [
        ("占地", "项目占地面积为 3000 亩"),
        ("产能", "1.6 亿台"),
        ("收入", "实现年主营业务收入 1000 亿元"),
        ("布局", "分三期建设"),
    ],
)
def test_the_clauses_of_a_description_that_say_the_aspect(aspect: str, says: str) -> None:
    cell = HUAQIN.split("\t")[4]
    span = facts.clauses_about(cell, aspect, [])
    assert span and says in cell[span[0] : span[1]] and len(cell[span[0] : span[1]]) <= 80
    assert "投资" not in cell[span[0] : span[1]]
    assert facts.clauses_about(cell, "泊位", []) is None


def test_conflicting_sources_found_and_each_cited() -> None:
    news = _hit(
        "如今总投资150亿元的经开区江铃新能源汽车生产基地项目实现部分投产，总投资120亿元的华勤千亿产业基地项目、"
        "总投资50亿元的济民(小蓝)新药研发生产基地项目等顺利开工。",
        40,
        "南昌激荡工业高质量发展春潮",
        "news",
    )
    row = _hit(HUAQIN, 9000, "南昌市人民政府公报", "bulletin", "table_row", HEADER)
    other = _hit(
        "52\t江铃股份富山新能源汽车基地\t1280000\t2017.12-2022.12\t项目用地面积1500亩,总投资128亿元。",
        9500,
        "南昌市人民政府公报",
        "bulletin",
        "table_row",
        HEADER,
    )
    q = "华勤千亿产业基地项目总投资多少？"
    assert conflicts.subject_and_attribute(q) == ("华勤千亿产业基地项目", "总投资", "投资")
    found = conflicts.find(q, [news, other, row])
    assert len(found) == 1 and [v.value for v in found[0].values] == ["120亿元", "10000000万元（即1000亿元）"]
    draft, item = conflicts.answer(found[0], [news, other, row])
    assert (
        draft.text.startswith("两份文档说法不同：") and "120亿元[1]" in draft.text and "（即1000亿元）[2]" in draft.text
    )
    assert item == {
        "subject": "华勤千亿产业基地项目",
        "attribute": "总投资",
        "values": [{"value": "120亿元", "n": 1}, {"value": "10000000万元（即1000亿元）", "n": 2}],
    }
    for c in draft.citations:  # quotes are exact document text holding the value
        assert c.hit.chunk.text[c.quote_start - c.hit.chunk.start : c.quote_end - c.hit.chunk.start] == c.quote
    assert "120亿元" in draft.citations[0].quote and "10000000" in draft.citations[1].quote
    assert conflicts.find(q, [news, other]) == [] and conflicts.find("江铃的总投资多少？", [news, row]) == []
    # ground() puts it in the answer and the response field, whatever the generator said
    d, items = ground(q, Draft("华勤千亿产业基地项目总投资120亿元[1]。", []), [news, other, row])
    assert d.text == draft.text and items == [item] and "conflict" in d.flags


def test_the_year_of_a_latest_figure_is_stated() -> None:
    h = _hit("2020年，全市地区生产总值5745.51亿元，增长3.6%。", 300, "南昌市人民政府公报", "bulletin")
    doc = SimpleNamespace(meta={}, text="\n2021\n\n# 南昌市人民政府公报\n二〇二一年第九期")
    d = Draft("南昌今年的GDP是5745.51亿元[1]。", [Citation(1, h, h.chunk.text[:25], 300, 325)])
    out, items = ground("南昌今年的GDP是多少？", d, [h], {"bulletin": doc})
    assert out.text == "文档中最新的是2020年：南昌GDP是5745.51亿元[1]。" and not items and "今年" not in out.text
    out, _ = ground("南昌2020年的GDP是多少？", d, [h], {"bulletin": doc})
    assert out is d  # no relative word: left as it is
    # the document's own 今年, resolved by its date
    h2 = _hit("全市地区生产总值5745.51亿元。", 300, "南昌日报", "news")
    d2 = Draft("南昌今年的GDP是5745.51亿元[1]。", [Citation(1, h2, h2.chunk.text, 300, 300 + len(h2.chunk.text))])
    out, _ = ground("南昌今年的GDP是多少？", d2, [h2], {"news": SimpleNamespace(meta={"date": "2022-04-10"}, text="")})
    assert out.text == "2022年（文档所说的今年）：南昌GDP是5745.51亿元[1]。"
    out, _ = ground("南昌今年的GDP是多少？", d2, [h2], {})  # no date anywhere: said so, 今年 never asserted
    assert out.text == "文档未写明这一数字的年份：南昌GDP是5745.51亿元[1]。"


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("南昌今年的GDP是多少？", "今年"),
        ("南昌目前有多少家企业？", "目前"),
        ("2020年南昌规模以上工业增加值比上年增长多少？", ""),  # a year named, and 比上年 is a comparison
        ("南昌规模以上工业增加值较去年增长多少？", ""),
        ("南昌去年的GDP是多少？", "去年"),
        ("2023年南昌最新的GDP是多少？", ""),  # the year asked decides
    ],
)
def test_relative_time_words_not_comparisons_or_named_years(question: str, word: str) -> None:
    assert dates.relative_time(question) == word
    assert dates.asks_latest(question) == (word in ("今年", "目前"))


def test_the_year_a_sentence_states_a_fact_of() -> None:
    assert dates.stated_year("2021年，规上工业增加值增长11.4%。") == 2021
    assert dates.stated_year("到2025年，产业规模达到1万亿元。") is None  # a target is not a fact's year
    assert dates.stated_year("规上工业增加值增长11.4%。", "2021年，南昌工业多项指标进入第一方阵。") == 2021
    assert dates.stated_year("增加值比重达到90%。", "2020年全市经济回升。力争到2025年，") == 2020
    assert dates.stated_year("截至2023年底，累计培育企业5家。") == 2023  # "截至" dates a fact
    assert dates.target_year("到2025年，产业规模达到1万亿元。", "") == 2025
    assert dates.target_year("年均增长达到75%左右。", "2020年全市经济回升。力争到2025年，") == 2025
    assert dates.target_year("2021年，规上工业增加值增长11.4%。", "到2025年，") is None
    assert dates.target_year("截至2023年底，累计培育企业5家。", "") is None
    # figure_year leaves out a target year stated before the sentence, as it does one in the sentence
    assert dates.figure_year("比重达到90%以上。", "到2025年，", 2021) == 2021


def test_a_plans_target_is_not_stated_as_the_latest_figure() -> None:
    text = "2020年全市经济回升。力争到2025年，制造业增加值年均增长达到7.5%左右。"
    h = _hit(text, 0, "九江市人民政府公报", "bulletin")
    s = text.index("力争")
    d = Draft("九江市制造业增加值年均增长7.5%[1]。", [Citation(1, h, text[s:], s, len(text))])
    out, _ = ground("九江市目前制造业增加值增长多少？", d, [h], {})
    assert out.text.startswith("文档中这是2025年的目标：") and "最新" not in out.text


def test_a_latest_question_gets_the_latest_years_sentence(tokenizer) -> None:
    from rag.generate.extractive import ExtractiveGenerator

    old = _hit("2020年，九江市规模以上工业增加值增长4.7%，高于全省平均。", 0, "九江市人民政府公报", "bulletin")
    new = _hit("2021年，九江市规模以上工业增加值同比增长11.4%。", 0, "青山日报", "news")
    gen = ExtractiveGenerator(tokenizer)
    for q, says in (
        ("九江市目前规模以上工业增加值增长多少？", "11.4%"),
        ("2020年九江市规模以上工业增加值增长多少？", "4.7%"),
    ):
        d = gen.generate(q, [old, new])
        assert d.answerable and says in d.text.split("；")[0], d.text


def test_a_class_of_places_is_no_place_and_which_ones_is_no_figure() -> None:
    from rag.generate import facts, subject

    assert not subject.is_named_place("国家级开发区") and not subject.is_named_place("省级开发区")
    assert subject.is_named_place("新余高新区")
    assert not facts.asks_figure("新余高新区重点帮扶的龙头企业有哪几家？") and facts.asks_figure("一共有几家？")
    assert facts.asked_aspect("南昌智造谷项目建成后能带来多少就业岗位？") != "建设期"
    assert facts.asked_aspect("南昌智造谷项目什么时候建成？") == "建设期"
    assert subject.is_named_place("九江市") and not subject.is_named_place("三县")  # 九 of 九江 is no numeral
    places, _ = subject.question_subjects("2021年九江市规模以上工业增加值增长多少？", Tokenizer(), "")
    assert places == ["九江市"]


def test_one_measure_word_table_groups_words_that_count_the_same_things() -> None:
    assert facts.same_measure("名") == ("名", "人", "位")  # people: never 个
    assert facts.same_measure("户") == ("户", "家", "个")
    assert facts.same_measure("套") == ("套", "台", "个")
    assert facts.same_measure("颗") == ("颗", "个")
    assert facts.same_count("台", "套") and facts.same_count("栋", "座") and facts.same_count("个", "家")
    assert not facts.same_count("个", "人") and not facts.same_count("套", "颗") and not facts.same_count("亿", "元")
    # the question side reads the same table: every word a count is asked in, 个 only where any measure is wanted
    assert facts.MEASURE.search("计划每年生产多少颗摄像头？").group(1) == "颗"
    assert facts.MEASURE.search("得了多少分？").group(1) == "分"
    assert not facts.MEASURE.search("有多少个项目？")
    assert facts.ASKED_MEASURE.search("有多少个项目？").group(1) == "个"
    assert not facts.MEASURE.search("哪几家企业上榜？")
    assert set(conflicts._COUNT_UNITS.split("|")) <= set(facts.MEASURE_CLASS)
