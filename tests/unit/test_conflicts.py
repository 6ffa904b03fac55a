"""Sources that disagree beyond money (rag.generate.conflicts) on made-up text: same subject, same attribute,
different value once units are converted; a figure of a year only against figures of that year."""

from __future__ import annotations

import pytest

from rag.generate import conflicts
from rag.types import Chunk, Hit

HEADER = "序号\t项目名称\t投资金额 (万元)\t建设期\t主要内容"


def _text(text: str, doc: str, start: int = 0, title: str = "青山日报") -> Hit:
    return Hit(Chunk(f"{doc}#{start}", doc, text, start, start + len(text)), 1.0, f"{doc}.txt", title)


def _row(cells: str, start: int = 5000) -> Hit:
    chunk = Chunk(f"b#{start}", "b", cells, start, start + len(cells), context=HEADER, kind="table_row")
    return Hit(chunk, 1.0, "b.txt", "青山市人民政府公报")


ROW = _row(
    "7\t光明储能电池基地项目\t500000\t2020-2023\t项目占地面积为 1200 亩,分两期建设,建筑面积为 60 万平方米。"
    "主要建设电芯、模组及配套设施,项目达产后预计实现年产动力电池 20 GWh,年主营业务收入 300 亿元。"
)


def _values(q: str, hits: list[Hit]) -> list[str]:
    found = conflicts.find(q, hits)
    assert len(found) <= 1
    return [v.value for v in found[0].values] if found else []


def _exact_quotes(q: str, hits: list[Hit]) -> None:
    draft, item = conflicts.answer(conflicts.find(q, hits)[0], hits)
    assert draft.text.startswith("两份文档说法不同：") and [v["n"] for v in item["values"]] == [1, 2]
    for c in draft.citations:
        assert c.hit.chunk.text[c.quote_start - c.hit.chunk.start : c.quote_end - c.hit.chunk.start] == c.quote


@pytest.mark.parametrize(
    ("question", "news", "values"),
    [
        # production capacity, a row's description against a report
        ("光明储能电池基地项目年产多少？", "光明储能电池基地项目建成后年产动力电池15GWh。", ["15GWh", "20GWh"]),
        ("光明储能电池基地项目年产多少？", "光明储能电池基地项目建成后年产动力电池20 GWh。", []),
        # a construction period: the table's column against a report
        (
            "光明储能电池基地项目的建设期是哪几年？",
            "光明储能电池基地项目建设期为2021-2024年。",
            ["2021-2024", "2020-2023"],
        ),
        ("光明储能电池基地项目的建设期是哪几年？", "光明储能电池基地项目建设期为2020.3-2023.12。", []),
        # an area: 1200 亩 is 0.8 平方公里
        ("光明储能电池基地项目占地面积是多少？", "光明储能电池基地项目占地面积约2000亩。", ["2000亩", "1200亩"]),
        ("光明储能电池基地项目占地面积是多少？", "光明储能电池基地项目占地面积0.8平方公里。", []),
        # another project's figure in the same report is not this one's
        ("光明储能电池基地项目年产多少？", "青山新材料项目建成后年产正极材料15万吨。", []),
    ],
)
def test_project_attributes_beyond_money(question: str, news: str, values: list[str]) -> None:
    hits = [_text(news, "news"), ROW]
    assert _values(question, hits) == values
    if values:
        _exact_quotes(question, hits)


def test_capacity_in_yi_and_wan_is_one_unit() -> None:
    q = "光明智能终端项目年产多少台？"
    a = _text("光明智能终端项目达产后年产智能终端1.6亿台。", "a")
    assert _values(q, [a, _text("光明智能终端项目建成后年产智能终端16000万台。", "b")]) == []
    assert _values(q, [a, _text("光明智能终端项目建成后年产智能终端1.2亿台。", "b")]) == ["1.6亿台", "1.2亿台"]
    assert _values(q, [a, _text("光明智能终端项目建成后年产整车1.2万辆。", "b")]) == []  # 辆 are not 台


def test_counts_disagree_within_one_year_and_in_one_measure_word() -> None:
    q = "2023年青山高新区有多少家企业上榜？"
    a = _text("2023年，青山高新区有12家企业上榜全省科技领军企业榜单。", "a")
    b = _text("近日公布的2023年榜单中，青山高新区15家企业上榜。", "b", 300, "青山晚报")
    assert conflicts.subject_and_attribute(q) == ("青山高新区", "企业上榜", "count")
    assert _values(q, [a, b]) == ["12家", "15家"]
    _exact_quotes(q, [a, b])
    older = _text("2022年，青山高新区有10家企业上榜。", "c")
    assert _values(q, [a, older]) == []  # another year's count
    assert _values("青山高新区有多少家企业上榜？", [a, older]) == []  # two years, none asked: not a disagreement
    other_unit = _text("2023年，青山高新区有15个企业上榜。", "d")
    assert _values(q, [a, other_unit]) == []  # 个 is not the 家 asked
    # 1.2万名 is 12000名
    r1 = _text("2023年，青山研究院有1.2万名科研人员。", "e")
    r2 = _text("截至2023年，青山研究院有12000名科研人员。", "f")
    assert _values("2023年青山研究院有多少名科研人员？", [r1, r2]) == []


def test_percentages_disagree_only_for_the_same_year() -> None:
    q = "2021年青山市规模以上工业增加值增长多少？"
    a = _text("2021年，青山市规模以上工业增加值增长11.4%，增速居全省第一。", "a")
    b = _text("2021年青山市规模以上工业增加值同比增速10.9%。", "b", 200, "青山统计公报")
    assert conflicts.subject_and_attribute(q) == ("青山市规模以上工业增加值", "增长", "增长")
    assert _values(q, [a, b]) == ["11.4%", "10.9%"]
    _exact_quotes(q, [a, b])
    same = _text("2021年，青山市规模以上工业增加值增长11.4%。", "c")
    assert _values(q, [a, same]) == []
    other_year = _text("2020年，青山市规模以上工业增加值增长4.6%。", "d")
    assert _values(q, [a, other_year]) == [] and _values("青山市规模以上工业增加值增长多少？", [a, other_year]) == []
    # a year stated earlier in the passage dates the clause
    later = _text("2021年全市经济稳中有进。其中，青山市规模以上工业增加值增长12.0%。", "e")
    assert _values(q, [a, later]) == ["11.4%", "12.0%"]


def test_revenue_of_different_years_is_no_conflict() -> None:
    q = "青山电子信息产业营业收入是多少？"
    a = _text("2020年，青山电子信息产业营业收入1000亿元。", "a")
    b = _text("2021年，青山电子信息产业营业收入1200亿元。", "b")
    assert _values(q, [a, b]) == []
    assert _values(
        "2021年青山电子信息产业营业收入是多少？", [b, _text("2021年，青山电子信息产业营业收入1150亿元。", "c")]
    ) == [
        "1200亿元",
        "1150亿元",
    ]


def test_counts_in_measure_words_of_one_class_are_one_unit() -> None:
    q = "2023年青山研究院有多少名科研人员？"
    a = _text("2023年，青山研究院有1200名科研人员。", "a")
    assert _values(q, [a, _text("2023年，青山研究院有科研人员1200人。", "b")]) == []  # the same count
    assert _values(q, [a, _text("2023年，青山研究院有1500人科研人员。", "b")]) == ["1200名", "1500人"]
