"""rag.generate.ground.answer_gaps: the sentence an answer rests on must itself carry what the question asks (its
subject as the subject, its year, the attribute asked, a change or an amount when one is asked), one test per rule,
on sentences of the seeds."""

from __future__ import annotations

from rag.generate.extractive import ExtractiveGenerator
from rag.generate.ground import answer_gaps
from rag.types import Chunk, Hit


def _hit(text: str, heading: str = "", title: str = "") -> Hit:
    return Hit(Chunk("c0", "d0", text, 0, len(text), heading, "", "text"), 1.0, "d0.txt", title, 1)


def _gaps(question: str, text: str, tokenizer, sentence: str | None = None, **kw) -> list[str]:
    sentence = sentence or text
    s = text.index(sentence)
    return answer_gaps(question, _hit(text, **kw), s, s + len(sentence), tokenizer)


GDP = "2020年南昌GDP为5745.51亿元，仅相当于武汉的37%，郑州的48%，长沙的47%，合肥的57%。"


def test_a_place_named_only_as_a_comparison_is_not_the_subject(tokenizer) -> None:
    assert _gaps("2020年武汉的GDP是多少？", GDP, tokenizer) == ["subject"]
    assert _gaps("2020年南昌的GDP是多少？", GDP, tokenizer) == []
    assert not ExtractiveGenerator(tokenizer).generate("2020年武汉的GDP是多少？", [_hit(GDP)]).answerable


def test_a_place_compared_with_another_after_it_is_still_the_subject(tokenizer) -> None:
    text = "与南昌相比，赣州2023年地区生产总值达4606亿元。"
    assert "subject" in _gaps("2023年南昌地区生产总值是多少？", text, tokenizer)
    assert "subject" not in _gaps("2023年赣州地区生产总值是多少？", text, tokenizer)


def test_the_year_asked_must_be_the_sentences_or_stated_before_it(tokenizer) -> None:
    text = "2023年，赣州地区生产总值达4606亿元；地区生产总值增速达5.3%，7个主要经济指标增速居全省第一方阵。"
    growth = "地区生产总值增速达5.3%，7个主要经济指标增速居全省第一方阵。"
    assert _gaps("2023年赣州地区生产总值增速是多少？", text, tokenizer, growth) == []
    assert _gaps("2024年赣州地区生产总值增速是多少？", text, tokenizer, growth) == ["year"]
    alone = "目前，银川市制造业企业关键工序数控化率超64%，数字化研发设计工具普及率接近70%。"
    assert _gaps("2022年银川市制造业企业数字化研发设计工具普及率是多少？", alone, tokenizer) == ["year"]
    assert _gaps("2022年银川市制造业企业数字化研发设计工具普及率是多少？", alone, tokenizer, title="2022年银川") == []


def test_the_attribute_asked_must_be_in_the_sentence(tokenizer) -> None:
    text = "近期，江西香海生物科技有限公司投资3100多万元建设的“智慧生产中心”数字一体化平台就迎来了一批企业家客人。"
    assert _gaps("江西香海生物科技有限公司一年产值是多少？", text, tokenizer) == ["attribute", "value"]
    assert _gaps("江西香海生物科技有限公司投资多少万元建设智慧生产中心？", text, tokenizer) == []
    share = "2023年,南昌新增专利授权量15106件,占全省总量的25.13%。"  # a share is carried by 占…%
    assert _gaps("2023年南昌新增专利授权量占全省总量的比重是多少？", share, tokenizer) == []


def test_a_change_asked_is_answered_by_a_change(tokenizer) -> None:
    text = "2023年，园区地区生产总值突破2100亿元，地方一般公共预算收入超144亿元。"
    assert "growth" in _gaps("常州高新区2023年地方一般公共预算收入同比增长多少？", text, tokenizer)
    d = ExtractiveGenerator(tokenizer).generate("常州高新区2023年地方一般公共预算收入同比增长多少？", [_hit(text)])
    assert not d.answerable
    grown = "2023年，园区地方一般公共预算收入超144亿元，同比增长8.2%。"
    assert _gaps("2023年地方一般公共预算收入同比增长多少？", grown, tokenizer) == []


def test_money_asked_is_answered_by_an_amount(tokenizer) -> None:
    text = "江西炬煌磁科技有限公司无取向硅钢生产车间，一条200余米的自动化生产线正开足马力运行。"
    assert "amount" in _gaps("江西炬煌磁科技有限公司数字化改造花了多少钱？", text, tokenizer)
    assert (
        not ExtractiveGenerator(tokenizer)
        .generate("江西炬煌磁科技有限公司数字化改造花了多少钱？", [_hit(text)])
        .answerable
    )
    paid = "江西炬煌磁科技有限公司投入3000万元进行数字化改造。"
    assert "amount" not in _gaps("江西炬煌磁科技有限公司数字化改造花了多少钱？", paid, tokenizer)


def test_what_a_how_many_question_counts_must_be_in_the_sentence(tokenizer) -> None:
    text = "截至目前，新余高新区24家企业被首批纳入省级标杆示范培育库。"
    assert _gaps("新余高新区累计培育了多少家国家级绿色工厂？", text, tokenizer) == ["attribute", "value"]
    assert _gaps("新余高新区有多少家企业被首批纳入省级标杆示范培育库？", text, tokenizer) == []


def test_a_noun_named_only_as_what_a_share_is_of_is_not_stated(tokenizer) -> None:
    text = "2019年，全市R&D经费占GDP比重为1.7%，全国R&D经费占GDP比重为2.19%。"
    assert _gaps("2019年南昌GDP是多少？", text, tokenizer) == ["attribute", "value"]  # GDP is a value asked too
    assert _gaps("2019年南昌R&D经费占GDP比重是多少？", text, tokenizer) == []


def test_which_district_is_answered_by_a_district(tokenizer) -> None:
    text = "国家稀土功能材料创新中心等一批“国字号”科研平台落地赣州。"
    assert _gaps("国家稀土功能材料创新中心落户在赣州哪个区？", text, tokenizer) == ["place"]
    there = "国家稀土功能材料创新中心落户赣州市章贡区。"
    assert _gaps("国家稀土功能材料创新中心落户在赣州哪个区？", there, tokenizer) == []


def test_a_change_of_another_subject_does_not_answer(tokenizer) -> None:
    text = (
        "重点打造的八大产业营业收入合计6227.3亿元，同比增长21%，新型材料、现代针纺产业增速领跑，分别增长35.7%、"
        "29.8%，生物医药产业实现营业收入350.6亿元，总量位居全省第一。"
    )
    assert _gaps("2021年南昌生物医药产业营业收入同比增长了多少？", text, tokenizer, title="2021年南昌") == ["growth"]
    assert _gaps("2021年南昌八大产业营业收入同比增长了多少？", text, tokenizer, title="2021年南昌") == []
    assert _gaps("2021年南昌八大产业中增速领跑的是哪两个产业？", text, tokenizer, title="2021年南昌") == []


def test_a_change_is_of_the_subject_leading_its_sentence(tokenizer) -> None:
    text = "2021年，全市实施亿元以上重大工业项目402个，总投资3890.6亿元，较去年同期提高39.4%。"
    assert _gaps("2021年南昌亿元以上重大工业项目总投资较去年同期提高多少？", text, tokenizer) == []
    # the terms stated after the change are still of another subject
    after = "全市工业投资同比增长18.7%，亿元以上重大工业项目402个。"
    assert _gaps("南昌亿元以上重大工业项目总投资同比增长多少？", after, tokenizer) == ["growth"]


def test_a_gap_to_another_figure_is_of_the_change_before_it(tokenizer) -> None:
    text = "2022年，赣州市战略性新兴产业增加值增长21.6%，高于全市规模以上工业12.8个百分点。"
    assert _gaps("2022年赣州战略性新兴产业增加值增速高于全市规上工业多少个百分点？", text, tokenizer) == []
    other = "2022年，赣州市战略性新兴产业增加值增长21.6%；全市规模以上工业增加值增长8.8%，高于全省1.2个百分点。"
    assert "growth" in _gaps("2022年赣州战略性新兴产业增加值增速高于全市规上工业多少个百分点？", other, tokenizer)


def _value(question: str, text: str, tokenizer) -> bool:
    return "value" in _gaps(question, text, tokenizer)


def test_the_noun_whose_value_is_asked_must_be_stated(tokenizer) -> None:
    text = "2023年，赣州地区生产总值达4606亿元，增长4.3%。"
    assert _value("赣州2023年数字经济增加值是多少？", text, tokenizer)
    assert not _value("赣州2023年地区生产总值是多少？", text, tokenizer)
    investing = "当前，新余高新区江西赣锋循环科技有限公司年产2万吨电池级碳酸锂项目正在加紧建设中，已投资5亿元。"
    assert _value(
        "赣锋循环科技年产2万吨电池级碳酸锂项目总投资多少？", investing.replace("已投资5亿元", "进展顺利"), tokenizer
    )
    assert not _value("赣锋循环科技年产2万吨电池级碳酸锂项目总投资多少？", investing, tokenizer)  # 投资 for 总投资


def test_the_value_asked_may_be_stated_by_its_full_form_or_a_share(tokenizer) -> None:
    full = "该公司2023年实现营业收入35亿元。"
    assert not _value("该公司2023年营收是多少？", full, tokenizer)  # 营收 abbreviates 营业收入
    share = "2023年,南昌新增专利授权量15106件,占全省总量的25.13%。"
    assert not _value("2023年南昌新增专利授权量占全省总量的比重是多少？", share, tokenizer)


def test_a_target_or_the_verb_of_a_count_is_no_value_asked(tokenizer) -> None:
    target = "以高技术产业为代表的先进制造业快速发展，高技术产业增加值年均增长达到20%左右。"
    assert not _value("到2025年南昌高技术产业增加值年均增长目标是多少？", target, tokenizer)
    assert _value("到2025年南昌高技术产业营业收入目标是多少？", target, tokenizer)  # the noun targeted is asked
    row = "江西億立汽车零部件有限公司年产100万套双离合变速器铝镁合金压铸汽车零部件项目已开工。"
    assert not _value("江西億立汽车零部件项目每年生产多少套双离合变速器铝镁合金压铸件？", row, tokenizer)


def test_a_noun_not_right_before_the_question_word_is_not_a_value_asked(tokenizer) -> None:
    # what is counted may be named otherwise (公司 / 企业): the narrow gap leaves it to "attribute"
    text = "新增海关AEO高级认证企业1家，总量达5家，数量位列全省国家级开发区第二。"
    assert not _value("新余高新区拿到海关AEO资质的公司总共有几家？", text, tokenizer)
    assert "attribute" in _gaps("新余高新区拿到海关AEO资质的公司总共有几家？", text, tokenizer)


def test_a_sentence_that_names_the_project_but_not_the_value_asked_is_no_answer(tokenizer) -> None:
    text = (
        "截至目前，华兴针织“5G+智慧工厂”项目、江铃新能源“5G+智慧工厂”项目、龙旗“5G+智慧工厂”项目等快速推进，"
        "遴选了26家工业企业纳入“5G+智慧工厂”项目培育库。"
    )
    other = "总投资120亿元的华勤千亿产业基地项目顺利开工。"
    hits = [_hit(text), Hit(Chunk("c1", "d1", other, 0, len(other), "", "", "text"), 0.5, "d1.txt", "", 2)]
    gen = ExtractiveGenerator(tokenizer)
    d = gen.generate("龙旗“5G+智慧工厂”项目总投资是多少？", hits)
    assert not d.answerable and "gap:value" in d.flags
    assert gen.generate("华勤千亿产业基地项目总投资是多少？", hits).text.startswith("总投资120亿元")


def test_a_rank_asked_is_answered_by_a_rank(tokenizer) -> None:
    share = "2023年,南昌新增专利授权量15106件,占全省总量的25.13%。"
    assert "rank" in _gaps("2023年南昌新增专利授权量在全国省会城市中排第几？", share, tokenizer)
    assert (
        not ExtractiveGenerator(tokenizer)
        .generate("2023年南昌新增专利授权量在全国省会城市中排第几？", [_hit(share)])
        .answerable
    )
    ranked = "2021年，南昌规模以上工业增加值在全国省会城市排名由去年第12位进至第6位。"
    assert _gaps("2021年南昌规模以上工业增加值在全国省会城市中排名第几位？", ranked, tokenizer) == []
    first = "国家级、省级科技企业孵化器众创空间数量居全省第一。"
    assert "rank" not in _gaps("赣州科技企业孵化器数量在全省排名如何？", first, tokenizer)


def test_what_is_counted_is_a_value_asked_when_it_is_a_longer_noun(tokenizer) -> None:
    signed = "今年以来，内江高新区已成功签约12个项目，总投资约108亿元。"
    assert _value("内江高新区有多少家外资企业？", signed, tokenizer)
    firms = "截至目前，内江高新区共有外资企业12家。"
    assert not _value("内江高新区有多少家外资企业？", firms, tokenizer)


def test_a_value_asked_after_can_or_will(tokenizer) -> None:
    text = "像赣锋这样的锂电新能源项目共有19个在建，项目固定资产投资达78亿元。"
    assert _value("新余高新区在建锂电项目建成后年产值能达到多少？", text, tokenizer)


# The rules below are checked on made-up sentences (an imaginary 东湖园区), not on the seeds' own.
class _Vocabulary:
    """The one thing answer_gaps reads of a BM25 index: which words the collection uses (idf > 0)."""

    def __init__(self, *words: str):
        self.words = set(words)

    def idf(self, token: str) -> float:
        return 2.0 if token in self.words else 0.0


def _with_vocabulary(question: str, text: str, tokenizer, vocabulary: _Vocabulary) -> list[str]:
    return answer_gaps(question, _hit(text), 0, len(text), tokenizer, vocabulary)  # type: ignore[arg-type]


def test_a_growth_of_another_sector_is_no_answer(tokenizer) -> None:
    text = "2022年，规上纺织服装产业营业收入同比增长12.5%，工业增加值同比增长8.1%。"
    assert "sector" in _gaps("2022年东湖园区规上食品加工产业营业收入同比增长多少？", text, tokenizer)
    assert "sector" in _gaps("2022年东湖园区规上汽车和家电产业营业收入同比增长多少？", text, tokenizer)
    assert "sector" not in _gaps("2022年东湖园区规上纺织服装产业营业收入同比增长多少？", text, tokenizer)
    named = _hit("食品加工产业是东湖园区的主导产业之一。")  # the passages name the sector asked
    d = ExtractiveGenerator(tokenizer).generate("2022年规上食品加工产业营业收入同比增长多少？", [_hit(text), named])
    assert not d.answerable and "gap:sector" in d.flags


def test_a_sector_is_only_what_names_one(tokenizer) -> None:
    text = "东湖园区主攻纺织服装产业，重点产业营业收入增长12.5%。"
    assert "sector" not in _gaps("东湖园区主攻什么产业？", text, tokenizer)
    assert "sector" not in _gaps("东湖园区重点产业营业收入增长多少？", text, tokenizer)
    assert "sector" not in _gaps("东湖园区八大产业营业收入增长多少？", text, tokenizer)


def test_a_sector_the_documents_never_name_is_the_questions_own_wording(tokenizer) -> None:
    text = "三十年来，东湖园区实现高新技术产业产值980亿元。"
    asked = "东湖园区高科技行业累计做出多大产值？"
    assert "sector" in _with_vocabulary(asked, text, tokenizer, _Vocabulary("高科技", "高新技术"))
    assert "sector" not in _with_vocabulary(asked, text, tokenizer, _Vocabulary("高新技术"))


def test_last_years_figure_is_not_answered_by_this_years(tokenizer) -> None:
    half = "今年上半年，东湖园区规模以上工业增加值增速达到9.6%。"
    assert "period" in _gaps("东湖园区去年规模以上工业增加值增长多少？", half, tokenizer)
    assert "period" not in _gaps("东湖园区今年规模以上工业增加值增长多少？", half, tokenizer)
    last = "去年，东湖园区规模以上工业增加值增长7.2%。"
    assert "period" in _gaps("东湖园区今年规模以上工业增加值增长多少？", last, tokenizer)
    assert (
        not ExtractiveGenerator(tokenizer).generate("东湖园区去年规模以上工业增加值增长多少？", [_hit(half)]).answerable
    )


def test_last_year_as_the_base_of_a_comparison_is_no_other_period(tokenizer) -> None:
    based = "今年一季度，东湖园区工业投资比去年同期增长15%。"
    assert "period" not in _gaps("东湖园区今年工业投资增长多少？", based, tokenizer)
    both = "继去年新建两条产线后，今年东湖园区又投产一条产线，年产能达到30万吨。"
    assert "period" not in _gaps("东湖园区今年新投产的产线年产能是多少？", both, tokenizer)
    assert "period" not in _gaps("2022年东湖园区新投产的产线年产能是多少？", both, tokenizer)


def test_a_latin_term_asked_is_a_value_asked(tokenizer) -> None:
    share = "2018年，东湖园区研发经费占GDP比重为2.1%。"
    assert _value("2018年东湖园区GDP是多少？", share, tokenizer)
    assert not _value("2018年东湖园区GDP是多少？", "2018年，东湖园区GDP为560亿元。", tokenizer)


def test_a_change_of_something_the_question_does_not_name_is_no_answer(tokenizer) -> None:
    loans = "2022年，东湖园区企业专利质押融资贷款金额9.3亿元，增长41.5%。"
    vocab = _Vocabulary("东湖", "园区", "商标", "申请量", "专利", "贷款")
    asked = "2022年东湖园区新增商标申请量同比增长多少？"
    assert "topic" in _with_vocabulary(asked, loans, tokenizer, vocab)
    grown = "2022年，东湖园区商标申请量1200件，同比增长12%。"
    assert "topic" not in _with_vocabulary(asked, grown, tokenizer, vocab)
    # words the documents never use are the question's own (a paraphrase): they prove nothing
    assert "topic" not in _with_vocabulary("2022年东湖园区的牌子注册数增长多少？", loans, tokenizer, vocab)


def test_a_counted_noun_stated_answers_a_question_whose_verb_stands_before_the_question_word(tokenizer) -> None:
    row = "项目预计实现整机出货量达2亿台,触控显示模组3亿套,传感器8亿颗。"
    assert not _value("智能终端基地项目计划每年生产多少颗传感器？", row, tokenizer)
    assert _value("智能终端基地项目计划每年生产多少颗传感器？", "项目预计实现整机出货量达2亿台。", tokenizer)


def test_a_count_of_indicators_whose_growth_is_named_asks_no_change(tokenizer) -> None:
    text = "2023年，吉安地区生产总值增速达5.1%，6个主要经济指标增速居全省第一方阵。"
    sentence = "6个主要经济指标增速居全省第一方阵。"
    assert "growth" not in _gaps("2023年吉安有几个主要经济指标增速进入全省第一方阵？", text, tokenizer, sentence)
    assert "growth" in _gaps("2023年吉安主要经济指标增速是多少？", text, tokenizer, sentence)


def test_the_period_of_a_sentence_need_not_be_in_the_clause_of_its_change(tokenizer) -> None:
    text = "2022年末，全市金融机构存、贷款余额分别为9000.5亿元和9800.2亿元，分别增长10.1%和12.3%，贷款总量居全省第二。"
    assert "growth" not in _gaps("2022年末吉安金融机构贷款余额增长多少？", text, tokenizer, title="吉安市")
    other = "2022年末，全市金融机构贷款余额9800.2亿元。2022年，全市工业用电量增长12.3%。"
    assert "growth" in _gaps("2022年末吉安金融机构贷款余额增长多少？", other, tokenizer, title="吉安市")


def test_a_figure_of_the_head_noun_with_another_qualifier_is_not_the_one_asked(tokenizer) -> None:
    from rag.generate.qualifier import asked_phrase, qualifier_gap

    power = "南昌市一季度全社会用电量78.37亿千瓦时，同比增长15.9%。"
    q = "南昌市一季度居民生活用电量同比增长多少？"
    assert asked_phrase(q, tokenizer)[0] == "居民生活用电量"
    passages = [_hit(power), _hit("城乡居民生活用电平稳增长。")]  # the documents use 居民 and 生活
    assert qualifier_gap(q, power, tokenizer, passages=passages)
    assert "qualifier" in answer_gaps(q, _hit(power), 0, len(power), tokenizer, None, passages, only=("qualifier",))
    # the qualifier in the clause of the head, or the whole phrase in the passage: the figure asked
    said = "南昌市一季度居民生活用电量12.1亿千瓦时，同比增长9.8%。"
    assert not qualifier_gap(q, said, tokenizer, passages=passages)
    assert not qualifier_gap(q, power, tokenizer, passages=passages, passage=power + said)
    # a qualifier no document uses is the question's own wording: it proves nothing
    assert not qualifier_gap(q, power, tokenizer, passages=[_hit(power)])
    # counted: 国家级绿色工厂 are not the 市级 ones; 总投资 is stated by 投资, 规上 by 规模以上
    green = "累计培育国家级绿色工厂5家，省级绿色工厂7家。"
    q = "南昌经开区累计培育了多少家市级绿色工厂？"
    assert qualifier_gap(q, green, tokenizer, passages=[_hit(green), _hit("市级专精特新企业32家。")])
    assert not qualifier_gap("南昌经开区累计培育了多少家省级绿色工厂？", green, tokenizer, passages=[_hit(green)])
    money = "该项目投资50亿元，主要建设厂房。"
    assert not qualifier_gap("该项目总投资是多少？", money, tokenizer, passages=[_hit(money)])
    # the name of the project asked is the subject's, not a qualifier of its investment
    q = "航天联志内江先进算力产业园项目总投资约多少？"
    assert asked_phrase(q, tokenizer)[0] == "投资"
    assert not qualifier_gap(
        q, "该项目总投资约53.6亿元。", tokenizer, passages=[_hit("先进算力产业园。该项目总投资约53.6亿元。")]
    )
    # "有几个": what is counted follows the word; "电子信息类项目" is not the 32 产业合作项目
    assert asked_phrase("常州高新区有几个院士工作站？", tokenizer)[0] == "院士工作站"
    deals = "其中，签约产业合作项目32个，投资总额859.85亿元，涵盖电子信息、新型材料等产业。"
    q = "南昌与广东七市签约的产业合作项目里电子信息类项目有几个？"
    assert qualifier_gap(q, deals, tokenizer, passages=[_hit(deals)])
    firms = "全市规模以上工业企业总户数达到1860户。"
    assert not qualifier_gap("全市规上工业企业总户数是多少？", firms, tokenizer, passages=[_hit(firms)])
