"""The extractive generator on made-up passages: which sentence answers, and when nothing does."""

from __future__ import annotations

import numpy as np

from rag.generate.extractive import ExtractiveGenerator
from rag.types import Chunk, Hit


def _hit(i: int, text: str, kind: str = "text", context: str = "") -> Hit:
    return Hit(Chunk(f"c{i}", f"d{i}", text, 0, len(text), "", context, kind), 1.0, f"d{i}.txt", "", i + 1)


def test_the_sentence_stating_the_noun_asked_about_answers(tokenizer) -> None:
    hits = [_hit(0, "2023年，赣州规模以上工业增加值增长8.1%；赣州规模以上工业营业收入达3000亿元，居全省前列。")]
    d = ExtractiveGenerator(tokenizer).generate("2023年赣州规模以上工业营业收入是多少？", hits)
    assert d.answerable and "3000亿元" in d.text


def test_a_long_sentence_is_trimmed_to_the_clause_with_the_figure_asked(tokenizer) -> None:
    text = (
        "南昌高标准办好2021世界VR产业大会云峰会、2021中国航空产业大会暨南昌飞行大会、2021南昌电子信息产业发展大会，"
        "共签约项目111个、总金额1351亿元，打造全省有地位、全国有影响、全球有名气的窗口展示平台。"
    )
    d = ExtractiveGenerator(tokenizer).generate("南昌2021年三场大会签约总金额是多少？", [_hit(0, text)])
    assert d.answerable and "1351亿元" in d.text


def test_another_projects_row_does_not_answer(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    row = (
        "5\t嘉友食品生产基地项目\t200000\t2021-2023\t项目占地200亩，主要建设生产厂房、冷链仓库及配套设施，"
        "项目建成后预计可实现年产值约20亿元。"
    )
    hits = [_hit(0, row, "table_row", header)]
    gen = ExtractiveGenerator(tokenizer)
    assert not gen.generate("姚湾作业区综合码头项目建成后年产值是多少？", hits).answerable
    d = gen.generate("嘉友食品生产基地项目建成后年产值是多少？", hits)
    assert d.answerable and "20亿元" in d.text and "建设期" not in d.text


def test_a_measure_word_or_a_year_asked_must_be_answered_with_one(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_hit(0, "航天联志先进算力产业园项目总投资约53.6亿元，将建设人工智能算力中心。")]
    assert not gen.generate("航天联志先进算力产业园项目占地多少亩？", hits).answerable
    hits = [_hit(0, "航天联志先进算力产业园项目占地约120亩，总投资约53.6亿元。")]
    assert "120亩" in gen.generate("航天联志先进算力产业园项目占地多少亩？", hits).text
    hits = [_hit(0, "中国（南昌）现代职教城拟规划建设10个左右大中专职业院校。")]
    assert "10个" in gen.generate("中国（南昌）现代职教城打算建多少所大中专职业院校？", hits).text  # 个 for any measure
    hits = [_hit(0, "走进赣江创新研究院，研究人员忙着开展科研攻关。")]
    assert not gen.generate("赣江创新研究院是哪一年成立的？", hits).answerable
    hits = [_hit(0, "龙旗5G智慧工厂项目等快速推进。")]
    assert not gen.generate("龙旗5G智慧工厂项目总投资是多少？", hits).answerable  # 5G is the question's own


def test_when_asked_a_time_answers_and_a_score_asked_a_score(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_hit(0, "西二绕城高速项目建设正在有序推进，该项目将改善罗亭工业园的交通条件。")]
    assert not gen.generate("西二绕城高速什么时候建成通车？", hits).answerable
    hits = [_hit(0, "西二绕城高速项目预计2025年底建成通车，将改善罗亭工业园的交通条件。")]
    assert "2025年底" in gen.generate("西二绕城高速什么时候建成通车？", hits).text
    hits = [_hit(0, "考核成绩由高到低依次是：进贤县（98.88分）、新建区（98.77分）。")]
    assert "98.88分" in gen.generate("林长制考核中进贤县得了多少分？", hits).text
    hits = [_hit(0, "《林长制工作考核办法》，洪府办字〔2021〕189号。")]
    assert not gen.generate("林长制考核中进贤县得了多少分？", hits).answerable


def test_an_ordinal_does_not_answer_how_many_articles(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_hit(0, "值得注意的是,在《参考文本》第九十九条,提到了消除工作场所性骚扰行为。")]
    assert not gen.generate("《南昌市企业劳动规章制度（参考文本）》一共有多少条？", hits).answerable
    hits = [_hit(0, "《参考文本》共有120条,涵盖劳动合同、工作时间等内容。")]
    assert "120条" in gen.generate("《南昌市企业劳动规章制度（参考文本）》一共有多少条？", hits).text


def test_a_rows_header_states_the_unit_of_an_amount_asked(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    row = "5\t嘉友食品生产基地项目\t200000\t2021-2023\t主要建设生产厂房、冷链仓库及配套设施。"
    d = ExtractiveGenerator(tokenizer).generate(
        "嘉友食品生产基地项目投资多少亿元？", [_hit(0, row, "table_row", header)]
    )
    assert d.answerable and "20亿元" in d.text


def test_a_date_is_no_figure_for_how_much(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    text = "3月2日，记者走进位于于都工业园的江西卫棉纺织集团有限公司，偌大的车间只有几名工人辅助操作。"
    assert not gen.generate("江西卫棉纺织集团营业收入是多少？", [_hit(0, text)]).answerable
    hits = [_hit(0, "3月2日，江西卫棉纺织集团有限公司营业收入达12亿元。")]
    assert "12亿元" in gen.generate("江西卫棉纺织集团营业收入是多少？", hits).text


def test_another_phase_of_the_project_does_not_answer(tokenizer) -> None:
    text = "小蓝VR产业基地项目：项目一期用地393亩，建设VR产业研发楼。"
    hit = Hit(Chunk("c0", "d0", text, 0, len(text), "", "", "text"), 1.0, "d0.txt", "", 1)
    gen = ExtractiveGenerator(tokenizer)
    assert not gen.generate("小蓝VR产业基地二期用地多少亩？", [hit]).answerable
    assert "393亩" in gen.generate("小蓝VR产业基地一期用地多少亩？", [hit]).text
    assert "393亩" in gen.generate("小蓝VR产业基地用地多少亩？", [hit]).text


def test_a_count_asked_is_answered_by_a_number_of_things(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    # "03专项" and "5G" are numbers, but no count: "几个" is not answered by them
    hits = [_hit(0, "青川市实施03专项等工程，在5G、物联网领域突破一批核心技术。")]
    assert not gen.generate("青川市平均每万人有几个5G基站？", hits).answerable
    hits = [_hit(0, "青川市每万人拥有5G基站数12.4个，实现城区连续覆盖。")]
    assert "12.4个" in gen.generate("青川市平均每万人有几个5G基站？", hits).text
    hits = [_hit(0, "青川高新区新增省级重点实验室7家，研发投入持续增长。")]
    assert "7家" in gen.generate("青川高新区新增了多少个省级重点实验室？", hits).text  # any measure word counts


class _Meaning:
    """A made-up embedder: a text's vector counts the words of each meaning group it holds."""

    groups = (("一把手", "董事长", "负责人"), ("工厂", "车间", "生产"), ("产值", "营收"))

    def _vec(self, text: str) -> np.ndarray:
        v = np.array([sum(w in text for w in g) for g in self.groups] + [0.2], dtype=np.float32)
        return v / np.linalg.norm(v)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])


def test_the_sentence_closest_in_meaning_answers_everyday_words(tokenizer) -> None:
    text = "青川纺织集团车间里机器轰鸣，产值去年达到12亿元。青川纺织集团董事长李某某说，今年将再建两条生产线。"
    question = "青川纺织集团的一把手叫什么名字？"
    plain = ExtractiveGenerator(tokenizer).generate(question, [_hit(0, text)])
    dense = ExtractiveGenerator(tokenizer, embedder=_Meaning()).generate(question, [_hit(0, text)])
    assert "董事长" in dense.text and "董事长" not in plain.text


def test_meaning_reorders_but_never_keeps_a_candidate_the_overlap_scores_drop(tokenizer) -> None:
    # nothing here states a figure: however close in meaning, no sentence answers "多少"
    hits = [_hit(0, "青川纺织集团董事长说，车间生产很忙，营收增长明显。")]
    d = ExtractiveGenerator(tokenizer, embedder=_Meaning()).generate("青川纺织集团一把手去年营收是多少？", hits)
    assert not d.answerable


def test_another_of_a_numbered_series_does_not_answer(tokenizer) -> None:
    text = (
        "2023年青川市第一产业增加值120.5亿元，增长2.1%；第二产业增加值860.2亿元，增长4.3%；"
        "第三产业增加值990.7亿元，增长5.2%。"
    )
    gen = ExtractiveGenerator(tokenizer)
    for asked, other in (("第三产业", "第一产业"), ("第二产业", "第三产业")):
        d = gen.generate(f"2023年青川市{asked}增加值是多少？", [_hit(0, text)])
        assert other not in d.text and "120.5亿元" not in d.text  # answered with the one asked, or refused
    hits = [_hit(0, "青川市“十三五”期间新建道路120公里。")]
    assert not gen.generate("青川市“十四五”期间新建道路多少公里？", hits).answerable


_HEADER = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"


def _row(desc: str, name: str = "青川智能装备产业园项目") -> list[Hit]:
    return [_hit(0, f"7\t{name}\t350000\t2021-2024\t{desc}", "table_row", _HEADER)]


def test_a_row_answers_the_phase_asked_and_the_whole_when_none_is(tokenizer) -> None:
    hits = _row(
        "项目总占地面积为 1200 亩,分两期建设,一期占地为 450 亩,建筑面积为 60 万平方米。主要建设标准厂房及配套设施。"
    )
    gen = ExtractiveGenerator(tokenizer)
    d = gen.generate("青川智能装备产业园项目一期占地多少亩？", hits)
    assert "450 亩" in d.text and "1200" not in d.text and "350000" not in d.text
    d = gen.generate("青川智能装备产业园项目总共占地多少亩？", hits)
    assert "1200 亩" in d.text and "450" not in d.text


def test_a_row_answers_a_count_a_ratio_and_a_size_asked_not_its_investment(tokenizer) -> None:
    hits = _row(
        "项目位于青川大道以东,占地面积约 30 亩,容积率为 2.4,规划建设 1 栋建筑面积 5 万平方米的研发大楼,共 18 层,"
        "停车位约 260 个,计划用5年时间形成8万人的就业规模,即用3年时间形成3万人规模。"
    )
    gen = ExtractiveGenerator(tokenizer)
    assert "共 18 层" in gen.generate("青川智能装备产业园项目的研发大楼有几层？", hits).text
    assert "2.4" in gen.generate("青川智能装备产业园项目的容积率是多少？", hits).text
    assert "约 260 个" in gen.generate("青川智能装备产业园项目设计停车位有多少个？", hits).text
    d = gen.generate("青川智能装备产业园项目用5年时间要形成多大规模？", hits)
    assert "8万人" in d.text and "投资金额" not in d.text and "建设期" not in d.text


def test_a_rows_clause_without_the_figure_asked_does_not_answer(tokenizer) -> None:
    """The row's clause that says the words asked ("2020 年投产并实现产值") but no figure of its own (its year is the
    question's) is no answer to "how much", whichever passage ranks first."""
    hits = _row(
        "项目一期投资外延、芯片项目,投资额 10 亿元。项目一期争取 2020 年投产并实现产值;预计 2021 年实现主营业务收入约"
        " 10 亿元。",
        "青川红黄光建设项目",
    )
    d = ExtractiveGenerator(tokenizer).generate("青川航空城2020年实现产值多少？", hits)
    assert not d.answerable and {"gap:figure", "gap:value"} & set(d.flags)
    d = ExtractiveGenerator(tokenizer).generate("青川红黄光建设项目2021年主营业务收入多少？", hits)
    assert d.answerable and "10 亿元" in d.text


def test_a_row_extends_a_list_to_the_item_asked(tokenizer) -> None:
    hits = _row(
        "建设 12 个 3000 吨级泊位。设计年吞吐量杂货 300 万吨/年,散货 420 万吨/年,集装箱 20 万标箱/年。配套建设堆场。",
        "青川港综合码头项目",
    )
    d = ExtractiveGenerator(tokenizer).generate("青川港综合码头集装箱设计年吞吐量是多少？", hits)
    assert "集装箱 20 万标箱/年" in d.text and "设计年吞吐量" in d.text


class _Idf:
    """Made-up BM25 statistics: the series' name rarer than the rest."""

    def idf(self, term: str) -> float:
        return 2.0 if "产业" in term else 1.0


def test_a_year_alone_does_not_bring_a_second_passage_in(tokenizer) -> None:
    text = "第三产业增加值990.7亿元，增长5.2%。"
    first = Hit(Chunk("c0", "d0", text, 0, len(text), "2023年青川市经济运行情况", "", "text"), 1.0, "d0.txt", "", 1)
    hits = [first, _hit(1, "2023年，规模以上工业中高技术产业增加值增长18%，高于规模以上工业6个百分点。")]
    d = ExtractiveGenerator(tokenizer, lambda: _Idf()).generate("2023年第三产业增加值是多少？", hits)
    assert d.answerable and "990.7亿元" in d.text and "[2]" not in d.text and "18%" not in d.text


def test_a_date_is_no_figure_when_a_long_sentence_is_trimmed(tokenizer) -> None:
    text = (
        "青川钨业公司副总经理王某某说,企业的耗能主要是水、电、氢气,近年来企业积极推进节能减排工作,淘汰高耗能设备,"
        "2022年,通过在空压站及循环水站投入使用智能监控设备,使得用电量每个月平均降低5万度,年用水量缩减约40%,"
        "通过从附近钢铁厂采购管输氢,使得氢气使用成本下降约20%,企业于2023年被评为国家级绿色工厂。"
    )
    d = ExtractiveGenerator(tokenizer).generate("青川钨业公司装上智能监控设备后，每月用电降低了多少？", [_hit(0, text)])
    assert d.answerable and "5万度" in d.text


def test_a_question_about_money_is_answered_by_the_clause_with_the_amount(tokenizer) -> None:
    text = (
        "青川市高标准办好2022世界陶瓷产业大会、2022中国锂电产业大会暨青川新能源论坛、2022青川电子信息产业发展大会，"
        "共签约项目86个、总金额920亿元，打造全省有地位、全国有影响的窗口展示平台。"
    )
    d = ExtractiveGenerator(tokenizer).generate(
        "青川2022年陶瓷、锂电、电子信息三场大会谈成了多大金额的合作？", [_hit(0, text)]
    )
    assert d.answerable and "920亿元" in d.text


def test_a_person_asked_is_answered_by_the_sentence_quoting_the_post_holder(tokenizer) -> None:
    text = (
        "3月5日，在青川明远光电股份有限公司生产车间，经切割、镀膜、封装等工序，镜头模组源源不断地下线。"
        "明远光电股份项目经理赵某某说，项目全面投产后，企业产能将是原来的3倍。"
    )
    hits = [_hit(0, text)]
    d = ExtractiveGenerator(tokenizer).generate("青川明远光电股份有限公司的项目经理是谁？", hits)
    assert d.answerable and "赵某某" in d.text
    # a company asked ("带头企业是谁") is no person: the post-holder's sentence gains nothing
    hits = [
        _hit(0, "青川铜业以青铜集团为龙头，铜加工产业链日趋完善。"),
        _hit(1, "青铜集团总经理钱某某说，产能还将扩大。"),
    ]
    d = ExtractiveGenerator(tokenizer).generate("青川铜加工的带头企业是谁？", hits)
    assert "龙头" in d.text.split("；")[0]


def test_two_sentences_close_in_score_stating_other_figures_are_both_shown(tokenizer) -> None:
    text = "2022年，新增省级工程研究中心6家、省级重点实验室9家。省级重点实验室121家、省级工程研究中心88家。"
    hits = [_hit(0, text)]
    d = ExtractiveGenerator(tokenizer).generate("青川市有多少家省级重点实验室？", hits)
    assert d.answerable and "9家" in d.text and "121家" in d.text
    assert [c.n for c in d.citations] == [1, 2] and "[1]" in d.text and "[2]" in d.text
    # the same figure said twice is no disagreement: one answer
    hits = [_hit(0, "青川市省级重点实验室121家。"), _hit(1, "全市省级重点实验室共121家，居全省第二。")]
    d = ExtractiveGenerator(tokenizer).generate("青川市有多少家省级重点实验室？", hits)
    assert d.answerable and "[2]" not in d.text


def test_a_count_in_words_answers_and_an_ordinal_does_not(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    row = (
        "9\t青川明华家居有限公司\t30000\t2022-2023\t"
        "厂区规划三栋厂房,一栋地上九层地下一层办公大楼,一栋五层宿舍楼,总建筑面积8万平方米。"
    )
    d = ExtractiveGenerator(tokenizer).generate(
        "青川明华家居有限公司办公大楼地上有几层？", [_hit(0, row, "table_row", header)]
    )
    assert d.answerable and "九层" in d.text
    hits = [_hit(0, "值得注意的是,在《青川规章参考文本》第八十八条,提到了安全生产责任。")]
    assert not ExtractiveGenerator(tokenizer).generate("《青川规章参考文本》一共有多少条？", hits).answerable


def test_a_project_named_by_its_capacity_answers_the_count_asked(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    row = (
        "31\t青川宏达物流有限公司年组装50万只电动车电池项目\t28000\t2022.1-2023.6\t"
        "用地约60亩,建设电池组装车间、零部件仓储和配送中心仓库及发运车辆检修综合车间。"
    )
    hits = [_hit(0, row, "table_row", header)]
    d = ExtractiveGenerator(tokenizer).generate("青川宏达物流有限公司电动车电池项目一年能组装多少只电池？", hits)
    assert d.answerable and "50万只" in d.text
    assert (
        not ExtractiveGenerator(tokenizer).generate("青川宏达物流有限公司电动车电池项目有多少名员工？", hits).answerable
    )


def test_a_change_asked_in_everyday_words_is_answered_by_a_change(tokenizer) -> None:
    text = (
        "近期，青川明澜材料科技有限公司投资2800多万元建设的数字化平台迎来了一批参观的企业家。"
        "公司介绍，通过数字化转型实现降低运营成本30%以上、单位产值能耗降低60%以上。"
    )
    question = "明澜材料搞了数字化以后，每出一份产值耗的能源省了多少？"
    d = ExtractiveGenerator(tokenizer).generate(question, [_hit(0, text)])
    assert d.answerable and "60%" in d.text and "2800" not in d.text
    hits = [_hit(0, "近期，青川明澜材料科技有限公司投资2800多万元建设的数字化平台迎来了一批参观的企业家。")]
    assert not ExtractiveGenerator(tokenizer).generate(question, hits).answerable


def test_a_length_or_a_span_asked_is_answered_by_one(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [
        _hit(0, "青川锐磁科技有限公司购置全自动冲压线、全自动退火线等86台/套设备，用于车间生产线建设。"),
        _hit(1, "在青川锐磁科技有限公司生产车间，一条150余米的自动化生产线正开足马力运转。"),
    ]
    d = gen.generate("青川锐磁科技车间里那条自动化生产线有多长？", hits)
    assert d.answerable and "150余米" in d.text and "86台" not in d.text
    assert not gen.generate("青川锐磁科技车间里那条自动化生产线有多长？", hits[:1]).answerable
    hits = [_hit(0, "青川高新区提供全程帮办代办服务，为项目建设抢出三个月时间。")]
    assert "三个月" in gen.generate("青川高新区帮办代办为项目抢出了多长时间？", hits).text


def test_a_figure_with_the_digits_of_the_questions_own_number_answers_when_its_measure_differs(tokenizer) -> None:
    text = "全市主营业务收入超过20亿元的数字化重点企业已达20家。"
    gen = ExtractiveGenerator(tokenizer)
    d = gen.generate("吉安主营业务收入超过20亿元的数字化重点企业有多少家？", [_hit(0, text)])
    assert d.answerable and "20家" in d.text
    # the question's own figure alone is still no answer
    same = "全市积极培育主营业务收入超过20亿元的数字化重点企业。"
    assert not gen.generate("吉安主营业务收入超过20亿元的数字化重点企业有多少家？", [_hit(0, same)]).answerable


def test_the_row_of_a_project_with_a_like_name_does_not_answer_for_the_one_named(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    named = (
        "61\t青川雨林汽车零部件有限公司年产20万套汽车零部件生产项目\t30000\t2020.9-2021.12\t规划设计4栋厂房、办公楼。"
    )
    like = (
        "70\t江东立新汽车零部件有限公司年产100万套压铸汽车零部件项目\t12000\t2021.7-2022.12\t"
        "规划建设4栋车间、1栋仓库，总建筑面积约50000平方米。占地50亩，建设压铸汽车零部件项目。"
    )
    hits = [_hit(0, named, "table_row", header), _hit(1, like, "table_row", header)]
    gen = ExtractiveGenerator(tokenizer)
    # the row named says nothing of its area: the other company's 50亩 is no answer, however alike the names
    d = gen.generate("青川雨林汽车零部件有限公司的项目占地多少亩？", hits)
    assert not d.answerable and "subject_mismatch" in d.flags
    # asked by its own name, the other row answers; and with the named row not retrieved, so does it when its name
    # shares what the question says
    assert "50亩" in gen.generate("江东立新汽车零部件有限公司的项目占地多少亩？", hits).text
    assert "50亩" in gen.generate("立新汽车零部件有限公司压铸件项目占地多少亩？", hits[1:]).text


def test_a_row_named_whole_in_the_question_answers_beside_a_longer_name_that_shares_more(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    short = (
        "6\tVR 科创城\t2500000\t2020-2023\t"
        "项目总建筑面积约 240 万平方米,主要建设 VR 示范应用中心、展示体验中心、国际会议中心等。"
    )
    longer = "30\t青川市 VR 科创城智慧城市建设项目\t93520\t2021-2023\t建设一个智慧运营中心、三大智能软件平台。"
    hits = [_hit(0, longer, "table_row", header), _hit(1, short, "table_row", header)]
    d = ExtractiveGenerator(tokenizer).generate("青川市项目清单中，VR科创城项目总建筑面积是多少？", hits)
    assert "240 万平方米" in d.text


def test_a_row_answers_a_column_asked_in_other_words(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = _row(
        "建设铝型材生产基地,新上铝型材生产线 20 条,项目达标投产后可年产 5 万吨工业铝型材。厂房及综合楼等建设全面完工。",
        "青川鑫达铝业有限公司年产 5 万吨工业铝型材项目",
    )
    d = gen.generate("青川鑫达铝业铝材项目投产后每年能产多少工业铝型材？", hits)
    assert "可年产 5 万吨工业铝型材" in d.text and "350000" not in d.text
    hits = _row(
        "拟定航空路以东商业设施用地,占地面积13.58亩,容积率1.8,总建筑面积22303㎡,设地下室两层,停车位约300个。"
        "用于建设金融商贸创业园。",
        "青川金融商贸创业园项目",
    )
    d = gen.generate("青川金融商贸创业园能停多少辆车？", hits)
    assert "停车位约300个" in d.text and "13.58" not in d.text
    # "有多大" asks the size of what is named: its area, not the row's investment
    hits = _row(
        "建设规模 47700 平方米(计容 41450 平方米),包括机房(含动力中心)建筑面积 22100 平方米、"
        "运营中心综合楼 25400 平方米。",
        "青川云和大数据中心一期工程",
    )
    d = gen.generate("青川云和大数据中心放服务器的机房有多大？", hits)
    assert "机房(含动力中心)建筑面积 22100 平方米" in d.text and "350000" not in d.text
    assert not gen.generate("青川云和大数据中心能停多少辆车？", hits).answerable


def test_a_short_description_cell_answers_what_it_says(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = _row("新建7万平方米的办公楼、交易中心及仓库等设施。", "青川亚欧铝金属交易中心项目")
    d = gen.generate("青川亚欧铝金属交易中心项目要新建多大面积的设施？", hits)
    assert d.answerable and "新建7万平方米" in d.text and "350000" not in d.text
    # a date or an amount cell is no description: a size it does not state is not asked of them
    assert not gen.generate("青川亚欧铝金属交易中心项目有多少名员工？", hits).answerable


def test_a_phase_asked_is_not_answered_by_the_whole_projects_column(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = _row(
        "一期物流仓储用地约 331 亩,二期 200 亩用地根据基地建设进度需要提供。项目重点建设智能分拣中心、冷链中心等。",
        "青川顺达智慧物流基地",
    )
    # the row's 350000万元 is the whole project's; its clause about 二期 states no amount of money
    assert not gen.generate("青川顺达智慧物流基地二期总投资是多少？", hits).answerable
    assert "350000" in gen.generate("青川顺达智慧物流基地总投资是多少？", hits).text
    hits = _row(
        "项目一期投资 20 亿元,建设仓储中心及分拣中心;二期投资 12 亿元,建设冷链中心及配套设施。",
        "青川顺达智慧物流基地",
    )
    d = gen.generate("青川顺达智慧物流基地二期总投资是多少？", hits)
    assert "二期投资 12 亿元" in d.text and "350000" not in d.text
    hits = _row("项目规划总建筑面积约 15.8 万平方米,建设人才创新创业中心。", "青川人力资源服务产业园 (二期)项目")
    assert "350000" in gen.generate("青川人力资源服务产业园二期总投资是多少？", hits).text


def test_a_column_naming_the_phase_asked_answers_for_it(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    row = "41\t青川VR产业基地项目\t800000\t2019.6-2022.6 (一期)\t项目一期用地393亩,以VR产业为特色,集产、教、研于一体。"
    hits = [_hit(0, row, "table_row", header)]
    gen = ExtractiveGenerator(tokenizer)
    assert "2019.6-2022.6 (一期)" in gen.generate("青川VR产业基地项目一期的建设期是哪几年？", hits).text
    assert not gen.generate("青川VR产业基地项目二期的建设期是哪几年？", hits).answerable


def test_a_figure_of_another_qualifier_of_the_noun_asked_does_not_answer(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [
        _hit(0, "南昌经开区截至今年3月底，累计培育国家级绿色工厂5家，省级绿色工厂7家。"),
        _hit(1, "南昌经开区新认定市级专精特新企业20家。"),  # the documents use 市级: it is no paraphrase's own word
    ]
    d = gen.generate("南昌经开区累计培育了多少家市级绿色工厂？", hits)
    assert not d.answerable and "qualifier_mismatch" in d.flags
    hits = [_hit(0, "南昌市一季度全社会用电量78.37亿千瓦时，同比增长15.9%。"), _hit(1, "南昌居民生活水平稳步提高。")]
    assert not gen.generate("南昌市一季度居民生活用电量同比增长多少？", hits).answerable


def test_a_sentence_after_one_of_another_qualifier_answers_for_the_phrase_asked(tokenizer) -> None:
    hits = [
        _hit(0, "2020年，规上电子信息产业营业收入为1509.89亿元，工业增加值增长5.3%，高于规模以上工业0.6个百分点。"),
        _hit(1, "全年规模以上工业营业收入7346.9亿元，比上年增长5.5%，占全省比重为19.4%，排名全省第一。"),
    ]
    d = ExtractiveGenerator(tokenizer).generate("2020年南昌全年规模以上工业营业收入是多少？", hits)
    assert d.answerable and "7346.9亿元" in d.text and "1509.89" not in d.text


def test_a_total_over_a_list_is_no_figure_of_one_item(tokenizer) -> None:
    text = (
        "南昌高标准办好2021世界VR产业大会云峰会、2021中国航空产业大会暨南昌飞行大会、2021南昌电子信息产业发展大会，"
        "共签约项目111个、总金额1351亿元。"
    )
    gen = ExtractiveGenerator(tokenizer)
    d = gen.generate("2021世界VR产业大会云峰会签约了多少个项目？", [_hit(0, text)])
    assert not d.answerable and "subject_mismatch" in d.flags
    # the question that names the items asks their total
    d = gen.generate("南昌2021年举办的VR、航空、电子信息三场盛会一共签约了多少个项目？", [_hit(0, text)])
    assert d.answerable and "111个" in d.text


def test_a_rows_cell_answers_a_qualified_noun_its_header_labels(tokenizer) -> None:
    header = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"
    row = (
        "100\t金融商贸创业园项目\t50000\t2021-2023\t拟定航空路以东,城南路以北商业设施用地,占地面积13.58亩,"
        "容积率1.8,总建筑面积22303㎡,设地下室两层,停车位约300个。用于建设金融商贸创业园。"
    )
    hits = [_hit(0, row, "table_row", header), _hit(1, "项目设计方案已通过评审。")]
    d = ExtractiveGenerator(tokenizer).generate("金融商贸创业园项目设计停车位有多少个？", hits)
    assert d.answerable and "300个" in d.text


def test_a_technology_named_with_a_digit_is_no_figure(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    # "5G" in a park's name is no figure of jobs
    hits = [_hit(0, "加快建设青川智造谷、青川“5G+VR”产业园等一批产业园区。")]
    assert not gen.generate("青川智造谷项目建成后能带来多少就业岗位？", hits).answerable
    hits = [_hit(0, "青川智造谷项目建成后可带来就业岗位3000个。")]
    assert "3000个" in gen.generate("青川智造谷项目建成后能带来多少就业岗位？", hits).text


def test_a_count_is_not_answered_by_a_figure_of_something_else_beside_the_thing_counted(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    text = "青川高新区通过法治沙龙、建设法治实践站等方式，已累计培养法律明白人1000余名。"
    assert not gen.generate("青川高新区有多少个法治实践站？", [_hit(0, text)]).answerable
    text = "青川高新区建成法治实践站12个，已累计培养法律明白人1000余名。"
    assert "12个" in gen.generate("青川高新区有多少个法治实践站？", [_hit(0, text)]).text


def test_a_phase_asked_is_not_answered_by_the_figure_of_another_phase_in_the_sentence(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    text = "青川智能装备产业园一期租赁厂房，建设高端智能装备生产项目，二期规划用地约100亩建设产业园项目。"
    assert not gen.generate("青川智能装备产业园一期租赁了多大面积的厂房？", [_hit(0, text)]).answerable
    assert "100亩" in gen.generate("青川智能装备产业园二期规划用地多少亩？", [_hit(0, text)]).text
    # phases named together share what follows
    text = "青川智能装备产业园一期、二期分别租赁厂房2万平方米和3万平方米。"
    assert gen.generate("青川智能装备产业园一期租赁了多大面积的厂房？", [_hit(0, text)]).answerable


def test_an_amount_asked_is_not_answered_by_a_percentage_alone(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_hit(0, "2020年，青川航空装备产业营业收入同比增长39.8%，工业增加值同比增长37.4%。")]
    assert not gen.generate("青川航空城2020年航空产业营业收入是多少？", hits).answerable
    assert "39.8%" in gen.generate("2020年青川航空装备产业营业收入增长了多少？", hits).text
    hits = [_hit(0, "青川生物实施数字化改造后，实现降低运营成本45%以上。")]
    assert "45%" in gen.generate("青川生物搞数字化后运营花费省了多少？", hits).text  # a change asked in everyday words


def test_an_abbreviation_asked_finds_the_sentence_with_its_full_form(tokenizer) -> None:
    """ "营收" is in no passage: the sentence stating 营业收入 answers, not its neighbour ranked first."""
    from rag.indexer import passage_tokens
    from rag.lexical import BM25Index

    texts = ["洪都航空员工总数达5000人。", "洪都航空营业收入达100亿元。", "南昌航空城位于南昌县。"]
    bm25 = BM25Index.build([passage_tokens(t, tokenizer) for t in texts])
    hits = [_hit(i, t) for i, t in enumerate(texts)]
    d = ExtractiveGenerator(tokenizer, lambda: bm25).generate("洪都航空的营收是多少？", hits)
    assert d.answerable and "100亿元" in d.text
