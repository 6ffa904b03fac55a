"""A table row's description cell read for the column asked, in words no cue list has (made-up rows)."""

from __future__ import annotations

from rag.generate.extractive import ExtractiveGenerator
from rag.generate.rows import asked_figure, cell_answer
from rag.types import Chunk, Hit

_HEADER = "序号\t项目名称\t投资金额（万元）\t建设期\t主要内容"


def _row(desc: str, name: str, i: int = 0) -> Hit:
    text = f"{7 + i}\t{name}\t350000\t2021-2024\t{desc}"
    return Hit(Chunk(f"c{i}", f"d{i}", text, 0, len(text), "", _HEADER, "table_row"), 1.0, f"d{i}.txt", "", i + 1)


def test_the_unit_and_the_label_of_a_figure_answer_a_column_asked_in_everyday_words(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [
        _row(
            "项目位于青川新区九龙片区,占地 46.3 亩,建筑总面积 15 万平米。项目建成后将为各类企业提供供应链应用服务。",
            "青川互联网产业园项目",
        )
    ]
    d = gen.generate("青川互联网产业园项目一共盖多少平米的房子？", hits)
    assert d.answerable and "建筑总面积 15 万平米" in d.text and "350000" not in d.text
    d = gen.generate("青川互联网产业园项目要占多少地？", hits)
    assert d.answerable and "占地 46.3 亩" in d.text and "15 万平米" not in d.text
    hits = [_row("项目预计实现主营业务收入达800亿元,实现整机出货量达1亿台,结构件2亿套。", "青川智能终端产业集群项目")]
    d = gen.generate("青川智能终端产业集群项目建成后营收能有多少？", hits)
    assert d.answerable and "主营业务收入达800亿元" in d.text


def test_a_bare_figure_answers_when_it_counts_the_thing_asked(tokenizer) -> None:
    hits = [
        _row("项目占地面积40亩,总投资2.2亿元,规划建设2栋厂房,建设年产3亿印制票证及档案管理项目。", "青川票证印刷项目")
    ]
    d = ExtractiveGenerator(tokenizer).generate("青川票证印刷项目一年能印多少票证？", hits)
    assert d.answerable and "年产3亿印制票证" in d.text


def test_a_figure_in_another_unit_or_under_another_label_does_not_answer(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_row("规划建设厂房、办公楼及附属设施。投资1.5亿元建设年产2万吨紧固件生产项目,占地30亩。", "青川紧固件项目")]
    # no floor area stated: its 亩 is no answer; no output value: the investment next to "年产" is none either
    assert not gen.generate("青川紧固件项目要盖多少平方米的楼？", hits).answerable
    assert not gen.generate("青川紧固件项目建成后一年产值多少？", hits).answerable
    assert not gen.generate("青川紧固件项目能停多少辆车？", hits).answerable


def test_a_row_whose_whole_name_the_question_says_answers_not_a_like_one(tokenizer) -> None:
    like = _row("规划用地1950亩,总建筑面积约150万平方米,可容纳550家企业入驻。", "江东省医疗器械科技产业园建设项目")
    named = _row(
        "项目总用地面积约 200 亩, 分两期实施, 主要建设内容为: 多层厂房、研发大楼及配套用房等。", "青川医疗器械产业园", 1
    )
    d = ExtractiveGenerator(tokenizer).generate("青川医疗器械产业园总共规划了多少亩地？", [like, named])
    assert d.answerable and "200 亩" in d.text and "1950" not in d.text


def test_what_a_question_asks_of_a_row() -> None:
    a = asked_figure("青川互联网产业园项目一共盖多少平米的房子？", "青川互联网产业园项目")
    assert a is not None and (a.unit, a.kind) == ("平米", "area")
    a = asked_figure("青川鑫达铝业项目投产后每年能产多少工业铝型材？", "青川鑫达铝业年产 5 万吨工业铝型材项目")
    assert a is not None and a.noun == "工业铝型材" and not a.kind  # what is counted, though the name says it too
    a = asked_figure("青川紧固件项目要占多少地？", "青川紧固件项目")
    assert a is not None and a.kind == "area"
    assert asked_figure("青川紧固件项目是谁建的？", "青川紧固件项目") is None


def test_a_cell_figure_of_the_unit_asked_whose_label_shares_most_answers() -> None:
    cell = "占地面积13.58亩,容积率1.8,总建筑面积22303㎡,设地下室两层,停车位约300个。"
    a = asked_figure("青川商贸园地下能停几百辆车？", "青川商贸园")
    assert a is not None
    span = cell_answer(cell, a)
    assert span is not None and cell[span[0] : span[1]] == "停车位约300个"
    a = asked_figure("青川商贸园占了多大的地？", "青川商贸园")
    span = cell_answer(cell, a) if a else None  # an area labelled as the question says it, not the floor area
    assert span is not None and cell[span[0] : span[1]] == "占地面积13.58亩"
    a = asked_figure("青川商贸园一年能储存多少吨货？", "青川商贸园")
    assert a is not None and cell_answer(cell, a) is None


def _text(i: int, text: str) -> Hit:
    return Hit(Chunk(f"c{i}", f"d{i}", text, 0, len(text), "", "", "text"), 1.0, f"d{i}.txt", "", i + 1)


def test_a_yearly_amount_is_not_the_rows_investment_nor_another_companys(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    row = _row(
        "新建吹膜车间,印刷、复合、涂布车间和成品仓库。投资2.3亿元建设装饰膜项目。",
        "青川远锋建材有限公司年产14000吨装饰膜项目",
    )
    news = _text(1, "该公司项目经理说，项目全面投产后，企业产能将是原来的2.6倍，年营收可超35亿元。")
    d = gen.generate("青川远锋建材装饰膜项目投产后一年能赚多少钱？", [row, news])
    assert not d.answerable and "350000" not in d.text and "35亿元" not in d.text
    # investment named, the column answers; a passage naming the project answers for it
    assert "350000" in gen.generate("青川远锋建材装饰膜项目投资多少钱？", [row, news]).text
    named = _text(1, "青川远锋建材装饰膜项目全面投产后，年营收可超3.5亿元。")
    assert "3.5亿元" in gen.generate("青川远锋建材装饰膜项目投产后一年能赚多少钱？", [row, named]).text


def test_a_row_says_where_it_is_and_what_it_makes_in_its_description(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [_row("青川市东湖区广州路以北。以推进5G产业发展政策为契机,大力发展智能产业。", "青川电信华中总部基地项目")]
    d = gen.generate("青川电信华中总部基地项目建在哪里？", hits)
    assert d.answerable and "东湖区广州路以北" in d.text and "350000" not in d.text
    hits = [
        _row(
            "建设主要包括:研发大楼、展厅、数字智能化生产车间及宿舍等配套设施。投资20亿元建设医药健康产业园,"
            "主要生产新型药品、保健食品、运动营养品等。",
            "青川生物制药有限公司医药健康产业园项目",
        )
    ]
    d = gen.generate("青川生物制药的医药健康产业园主要生产哪些产品？", hits)
    assert d.answerable and "新型药品、保健食品、运动营养品" in d.text and "350000" not in d.text
    # a row saying neither is no answer
    hits = [
        _row("投资20亿元建设医药健康产业园及配套项目,建成后年营收达50亿元。", "青川生物制药有限公司医药健康产业园项目")
    ]
    assert not gen.generate("青川生物制药的医药健康产业园主要生产哪些产品？", hits).answerable


def test_a_rows_long_list_clause_answers_with_the_item_that_states_the_count(tokenizer) -> None:
    desc = (
        "建设虚拟现实检测平台。主要购置激光直写光刻系统、紫外光纳米压印机、光学级刻蚀设备 RIE、VR 透镜杂散光测试仪、"
        "扫描电镜及聚焦离子束刻蚀设备、冷场发射扫描电子显微镜、超景深三维显微镜等 400 多台(套)研发和试验设备。"
    )
    d = ExtractiveGenerator(tokenizer).generate(
        "青川虚拟现实创新中心要购置多少台（套）研发和试验设备？", [_row(desc, "青川虚拟现实创新中心")]
    )
    assert d.answerable and "400 多台(套)" in d.text


def test_a_list_of_phases_is_no_one_phase_and_land_is_asked_in_everyday_words(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    desc = (
        "项目位于青川县向塘开发区,总占地面积约10185亩。项目依次建设铁路口岸作业区(一期)、多式联运区、"
        "铁路口岸作业区(二期)、冷链物流区等八大核心功能区。"
    )
    d = gen.generate("青川国际陆港新城要建几大核心功能区？", [_row(desc, "青川国际陆港新城")])
    assert d.answerable and "八大核心功能区" in d.text
    d = gen.generate("青川国际陆港新城要多少地？", [_row(desc, "青川国际陆港新城")])
    assert d.answerable and "10185亩" in d.text and "350000" not in d.text


def test_a_row_answers_what_the_question_names_in_its_description_not_its_investment(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    hits = [
        _row(
            "项目规划用地约 500 亩,主要建设内容为“113”工程(一院、一平台、三中心),打造智能制造集聚区。", "青川智造谷项目"
        )
    ]
    d = gen.generate("青川智造谷项目的“113”工程指的是什么？", hits)
    assert d.answerable and "一院、一平台、三中心" in d.text and "350000" not in d.text
    # a question naming nothing of the description is told the row's short cells, as before
    d = gen.generate("青川智造谷项目是什么？", hits)
    assert d.answerable and "350000" in d.text


def test_what_is_asked_beside_the_question_word_counts_though_the_name_says_it(tokenizer) -> None:
    gen = ExtractiveGenerator(tokenizer)
    desc = (
        "项目总投资 70 亿元,LED 封装生产线达到 5000 条。1. 在高新园区 LED 封装生产线达到 5000 条,建设内容具体包括"
        "在高新园区现有产业园内改建原有钢结构厂房、新建宿舍楼、新增生产线 3800 条。"
    )
    hits = [_row(desc, "青川光元总部及新增封装生产线扩产项目")]
    d = gen.generate("青川光元高新园区要新增多少条生产线？", hits)
    assert d.answerable and "3800 条" in d.text and "5000" not in d.text
    # the count the name states is the answer when the description counts nothing of it
    hits = [
        _row("用地约80亩,建设汽车轮胎总成装配模块化产品的装配及配套业务。", "青川物流年装配100万只汽车轮胎总成项目")
    ]
    d = gen.generate("青川物流汽车轮胎总成项目一年能装配多少只轮胎？", hits)
    assert d.answerable and "100万只" in d.text and "80亩" not in d.text
