"""The extractive generator: a figure of another kind than the one asked (a change, money, a name's digits) is no
answer."""

from __future__ import annotations

from rag.generate.extractive import ExtractiveGenerator
from rag.types import Chunk, Hit


def _hit(i: int, text: str) -> Hit:
    return Hit(Chunk(f"c{i}", f"d{i}", text, 0, len(text), "", "", "text"), 1.0, f"d{i}.txt", "", i + 1)


def test_a_change_does_not_answer_the_value_asked(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    text = "青川精密合金有限公司通过投用智能监控设备，使得用电量每个月平均降低3万度，年用水量缩减约50%。"
    assert not gen.generate("青川精密合金有限公司一年用电量是多少？", [_hit(0, text)]).answerable
    hits = [_hit(0, "青川精密合金有限公司年用电量为1200万度，用电量每个月平均降低3万度。")]
    assert "1200万度" in gen.generate("青川精密合金有限公司一年用电量是多少？", hits).text
    # the value reached after a word of change is a value
    hits = [_hit(0, "到2025年，青川市每万人口发明专利拥有量提高到4.2件。")]
    assert "4.2件" in gen.generate("到2025年青川市每万人口发明专利拥有量是多少？", hits).text


def test_an_amount_of_money_does_not_answer_a_count_of_things(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    text = "青川德顺实业有限公司汽车波纹管项目：投资2.6亿元建设汽车波纹管生产线。"
    assert not gen.generate("青川德顺实业汽车波纹管项目一年能生产多少波纹管？", [_hit(0, text)]).answerable
    hits = [_hit(0, "青川德顺实业有限公司汽车波纹管项目投资2.6亿元，建成后年产波纹管300万根。")]
    assert "300万根" in gen.generate("青川德顺实业汽车波纹管项目一年能生产多少波纹管？", hits).text
    # money asked of a counted noun is answered by money
    hits = [_hit(0, "青川市今年共筹集专项资金3.5亿元支持技术改造。")]
    assert "3.5亿元" in gen.generate("青川市今年筹集了多少专项资金？", hits).text


def test_a_year_before_a_projects_name_counts_no_projects(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    text = "7月15日上午，青川区2021项目集中签约暨重大重点项目集中开工仪式举行。"
    assert not gen.generate("2021年7月15日青川区集中签约了多少个项目？", [_hit(0, text)]).answerable
    hits = [_hit(0, "7月15日上午，青川区集中签约项目26个，总投资182亿元。")]
    assert "26个" in gen.generate("2021年7月15日青川区集中签约了多少个项目？", hits).text


def test_a_rate_in_per_cent_states_the_share_asked(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_hit(0, "2023年，青川高新区“法律明白人”累计调处各类矛盾纠纷300余起，化解率达97%以上。")]
    assert "97%" in gen.generate("2023年青川高新区法律明白人化解纠纷的比例是多少？", hits).text
