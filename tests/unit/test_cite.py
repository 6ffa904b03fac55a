"""Citation verification and follow-up rewriting, on hand-made passages."""

from __future__ import annotations

from rag.generate.cite import verify
from rag.generate.support import chinese_numeral
from rag.rewrite import clean_rewrite, history_text, is_follow_up, standalone
from rag.types import Chunk, Hit


def _hit(text: str, start: int = 100, title: str = "南昌日报") -> Hit:
    return Hit(Chunk(f"d#{start}", "d", text, start, start + len(text)), 1.0, "d.txt", title)


HITS = [
    _hit("2021年，南昌工业投资同比增长18.7%，比全省平均增速高3.3个百分点。"),
    _hit("赣州2023年地区生产总值达4606亿元，增速达5.3%。", 500, "赣州报道"),
]


def test_correct_marker_kept_and_quote_exact(tokenizer) -> None:
    d = verify("南昌工业投资同比增长18.7%[1]。", HITS, tokenizer)
    assert d.answerable and d.text == "南昌工业投资同比增长18.7%[1]。" and not d.flags
    c = d.citations[0]
    assert c.n == 1 and "18.7%" in c.quote
    assert HITS[0].chunk.text[c.quote_start - 100 : c.quote_end - 100] == c.quote


def test_wrong_marker_is_moved_to_the_supporting_passage(tokenizer) -> None:
    d = verify("赣州2023年地区生产总值达4606亿元[1]。", HITS, tokenizer)
    assert d.text == "赣州2023年地区生产总值达4606亿元[1]。"
    assert d.citations[0].hit is HITS[1]  # renumbered: passage 2 is now [1]
    assert "marker_removed" in d.flags and "marker_added" in d.flags


def test_missing_marker_added_and_invented_number_dropped(tokenizer) -> None:
    d = verify("南昌工业投资同比增长18.7%。赣州地区生产总值增速为9.9%[2]。", HITS, tokenizer)
    assert d.text == "南昌工业投资同比增长18.7%[1]。"
    assert "sentence_dropped" in d.flags


def test_model_refusal_and_empty(tokenizer) -> None:
    assert not verify("无法从文档中找到答案。", HITS, tokenizer).answerable
    assert not verify("", HITS, tokenizer).answerable
    assert not verify("九江市增长了12.5%[1]。", HITS, tokenizer).answerable


def test_marker_after_full_stop_and_grouped_markers(tokenizer) -> None:
    d = verify("南昌工业投资同比增长18.7%。[1] 赣州增速达5.3%[1,2]。", HITS, tokenizer)
    assert d.text == "南昌工业投资同比增长18.7%[1]。赣州增速达5.3%[2]。"


def test_follow_ups_become_standalone(tokenizer) -> None:
    h = [{"role": "user", "content": "2023年南昌地区生产总值是多少？"}, {"role": "assistant", "content": "……"}]
    assert standalone("那赣州呢？", h, tokenizer) == "2023年赣州地区生产总值是多少？"
    assert standalone("2022年呢？", h, tokenizer) == "2022年南昌地区生产总值是多少？"
    h = [{"role": "user", "content": "华勤千亿产业基地项目建设期是哪几年？"}]
    assert standalone("它的投资额是多少？", h, tokenizer) == "华勤千亿产业基地项目的投资额是多少？"
    assert standalone("2021年南昌工业投资同比增长多少？", h, tokenizer) == "2021年南昌工业投资同比增长多少？"
    assert standalone("那赣州呢？", [], tokenizer) == "那赣州呢？"
    h = [{"role": "user", "content": "2021年南昌规模以上工业增加值增长了多少？"}]
    assert (
        standalone("排名第几？", h, tokenizer) != "2021年排名第几规模以上工业增加值增长了多少？"
    )  # not a name to swap in


def test_follow_ups_the_rules_cannot_resolve_go_to_the_model_and_its_output_is_checked(tokenizer) -> None:
    h = [
        {"role": "user", "content": "华勤千亿产业基地项目建设期是哪几年？"},
        {"role": "assistant", "content": "建设期为2020-2023[1]。" + "很长的回答" * 100},
    ]
    q = "另外，项目一期达产后每年能实现多少主营业务收入？"
    assert is_follow_up(q, h) and standalone(q, h, tokenizer) == q  # the rules leave it as it is
    assert not is_follow_up(q, []) and not is_follow_up("2021年南昌工业投资同比增长多少？", h)
    text = history_text(h, chars=50)
    assert text.startswith("用户：华勤千亿产业基地项目建设期是哪几年？\n助手：建设期为") and len(text) < 120
    good = "华勤千亿产业基地项目一期达产后每年能实现多少主营业务收入？"
    assert clean_rewrite(f"改写后的问题：“{good}”\n解释：……", q, 2000) == good
    assert (
        clean_rewrite("", q, 2000) == q and clean_rewrite("好", q, 2000) == q and clean_rewrite(good * 50, q, 100) == q
    )


def test_a_bracketed_year_is_text_not_a_marker_and_document_numbers_take_gbt9704_brackets(tokenizer) -> None:
    hits = [_hit("南昌市人民政府关于印发工作方案的通知 洪府发〔2021〕14号")]
    d = verify("洪府发[2021]14号[1]", hits, tokenizer)
    assert d.text == "洪府发〔2021〕14号[1]。" and d.answerable and "marker_removed" not in d.flags
    assert "洪府发〔2021〕14号" in d.citations[0].quote
    assert verify("洪府发（2021）14号。[1]", hits, tokenizer).text == "洪府发〔2021〕14号[1]。"


def test_a_lead_in_naming_the_passage_is_dropped_and_its_marker_kept(tokenizer) -> None:
    d = verify("根据资料[1]，南昌工业投资同比增长18.7%。", HITS, tokenizer)
    assert d.text == "南昌工业投资同比增长18.7%[1]。" and "marker_added" not in d.flags


def test_a_table_rows_serial_number_supports_no_figure(tokenizer) -> None:
    row = Hit(
        Chunk(
            "t#0",
            "t",
            "36\t三维重构与增强显示\t10000\t2021-2021",
            0,
            30,
            "项目清单",
            "序号\t项目名称\t投资金额",
            "table_row",
        ),
        1.0,
        "t.txt",
        "公报",
    )
    assert not verify("36个[1]。", [row], tokenizer).answerable
    assert verify("三维重构与增强显示项目投资10000万元[1]。", [row], tokenizer).answerable


def test_a_numbered_list_keeps_its_items_whose_numbers_are_not_figures(tokenizer) -> None:
    hits = [
        _hit("园区通过召开企业上市工作推进会、开展座谈交流等方式，解决企业在上市过程中存在的困难。"),
        _hit("新余高新区邀请专家走访调研重点企业，现场为企业释疑解惑，消除企业上市障碍。", 400),
    ]
    answer = (
        "主要做法包括：\n1. 召开企业上市工作推进会、开展座谈交流，解决企业上市过程中存在的困难。\n"
        "2. 园区年产值达到999亿元[1]。\n3、邀请专家走访调研重点企业，消除企业上市障碍。"
    )
    d = verify(answer, hits, tokenizer)
    # "1." and "3、" are list numbers, not figures no passage holds; the invented item goes and the rest renumber
    # (the short lead-in line states nothing and goes too)
    assert d.answerable
    assert d.text == (
        "1. 召开企业上市工作推进会、开展座谈交流，解决企业上市过程中存在的困难[1]。\n"
        "2. 邀请专家走访调研重点企业，消除企业上市障碍[2]。"
    )
    assert "sentence_dropped" in d.flags
    assert verify("1.5亿元[1]。", hits, tokenizer).answerable is False  # a decimal is a figure, not a list number


def test_a_passage_stating_the_sentence_far_more_closely_is_cited_too(tokenizer) -> None:
    hits = [
        _hit("第一，绿色食品产业。绿色食品产业是南昌市传统优势产业。第二，现代针纺产业。第三，新型材料产业。"),
        _hit(
            "南昌市已构建“4+4+X”新型产业体系，其中绿色食品、现代针纺、新型材料、机电装备制造为四大特色优势传统产业。",
            400,
        ),
    ]
    d = verify(
        "四大特色优势传统产业是绿色食品、现代针纺、新型材料和机电装备制造[1]。",
        hits,
        tokenizer,
        question="南昌的四大特色优势传统产业是哪些？",
    )
    assert hits[1] in [c.hit for c in d.citations]  # the passage with the whole list is cited beside the model's
    d = verify("绿色食品产业是南昌市传统优势产业[2]。", hits, tokenizer)
    assert d.text == "绿色食品产业是南昌市传统优势产业[1][2]。" and d.citations[1].hit is hits[0]


def test_a_figure_in_arabic_digits_is_supported_by_the_same_number_in_chinese_numerals(tokenizer) -> None:
    hits = [_hit("值得注意的是，在《参考文本》第九十九条，提到了消除工作场所性骚扰行为。")]
    d = verify("《参考文本》在第99条提到了消除工作场所性骚扰行为[1]。", hits, tokenizer)
    assert d.answerable and d.text.startswith("《参考文本》在第99条") and "第九十九条" in d.citations[0].quote
    assert not verify("《参考文本》在第98条提到了消除工作场所性骚扰行为[1]。", hits, tokenizer).answerable
    # a sentence that only repeats the question and adds the figure: its wording is the figure, written the
    # passage's way
    intro = _hit("近日，南昌市制定了《南昌市企业劳动规章制度(参考文本)》，为企业制定劳动规章制度提供了参考依据。", 20)
    d = verify(
        "《参考文本》在第99条提到了消除工作场所性骚扰行为[2]。",
        [intro, *hits],
        tokenizer,
        question="《参考文本》在第几条提到了消除工作场所性骚扰行为？",
    )
    assert d.answerable and d.citations[0].hit is hits[0] and "第九十九条" in d.citations[0].quote
    assert [chinese_numeral(n) for n in (9, 10, 12, 99, 105, 110, 2021)] == [
        "九",
        "十",
        "十二",
        "九十九",
        "一百零五",
        "一百一十",
        "二千零二十一",
    ]


def test_a_name_repeated_from_the_question_may_be_elsewhere_in_the_same_document_but_a_year_may_not(tokenizer) -> None:
    def hit(text: str, start: int, doc: str) -> Hit:
        return Hit(Chunk(f"{doc}#{start}", doc, text, start, start + len(text)), 1.0, f"{doc}.txt", "报道")

    about = hit("全区98个招商安商责任单位坚持把招商引资、安商服务摆在突出位置。", 100, "a")
    same_doc = hit("赣州市南康区在深圳市举办对口合作招商引资推介会。", 400, "a")
    other_doc = hit("赣州市地区生产总值达4606亿元。", 100, "b")
    q = "赣州南康区负责招商的单位有多少个？"
    answer = "赣州南康区负责招商的单位共有98个招商安商责任单位[1]。"
    assert verify(answer, [about, same_doc], tokenizer, question=q).answerable  # 赣州 is in the other passage of doc a
    assert not verify(answer, [about, other_doc], tokenizer, question=q).answerable  # only another document names it
    assert not verify(answer, [about], tokenizer).answerable  # and not given by the question: the model's own claim
    year = hit("南昌海立电器有限公司空调压缩机产量同比增长18%。", 100, "c")
    year_elsewhere = hit("2023年，南昌海立电器有限公司实施智能化改造。", 400, "c")
    assert not verify(
        "2023年南昌海立电器有限公司空调压缩机产量增长18%[1]。",
        [year, year_elsewhere],
        tokenizer,
        question="南昌海立电器有限公司2023年空调压缩机产量增长多少？",
    ).answerable


HEADER = "序号\t项目名称\t投资金额 (万元)\t建设期\t主要内容"


def _row(text: str, start: int) -> Hit:
    return Hit(
        Chunk(f"b#{start}", "b", text, start, start + len(text), context=HEADER, kind="table_row"),
        1.0,
        "b.txt",
        "南昌市人民政府公报",
    )


def test_a_row_about_another_project_is_not_cited_for_the_one_asked(tokenizer) -> None:
    # the 江铃 row holds the same 建设期 and, in the same document, the 华勤 row names 华勤: it still says nothing
    # of 华勤
    # (the names as the seeds' collection dictionary holds them: the generators read with the collection's tokenizer)
    tokenizer = tokenizer.with_terms([("华勤", 11, "nz"), ("江铃", 16, "nz"), ("江铃股份", 5, "nz")])
    huaqin = _row("19\t华勤千亿产业基 地项目\t10000000\t2020-2023\t项目占地面积为 3000 亩,分三期建设。", 9000)
    jiangling = _row("52\t江铃股份富山新能源汽车基地\t1280000\t2020-2023\t项目用地面积1500亩,总投资128亿元。", 9500)
    d = verify(
        "华勤千亿产业基地项目的建设期为2020-2023[1][2]。",
        [huaqin, jiangling],
        tokenizer,
        question="华勤千亿产业基地项目的建设期是哪几年？",
    )
    assert d.text == "华勤千亿产业基地项目的建设期为2020-2023[1]。" and [c.hit for c in d.citations] == [huaqin]
    assert "marker_removed" in d.flags  # the 江铃 row does not name 华勤: it backs nothing said of it
    d = verify(
        "华勤千亿产业基地项目的建设期为2020-2023[2]。",
        [huaqin, jiangling],
        tokenizer,
        question="华勤千亿产业基地项目的建设期是哪几年？",
    )
    assert [c.hit for c in d.citations] == [huaqin]  # moved to the row about it


def test_a_figure_about_another_place_does_not_answer_though_the_document_names_the_place(tokenizer) -> None:
    ganzhou = _hit("2023年，赣州地区生产总值达4606亿元；地区生产总值增速达5.3%。", 500, "赣州报道")
    names_nanchang = _hit("赣州市与南昌市共建赣江两岸产业带。", 900, "赣州报道")
    q = "2023年南昌地区生产总值是多少？"
    d = verify("2023年南昌地区生产总值为4606亿元[1]。", [ganzhou, names_nanchang], tokenizer, question=q)
    assert not d.answerable and "subject_mismatch" in d.flags
    d = verify("2023年南昌地区生产总值增速为5.3%[1]。", [ganzhou, names_nanchang], tokenizer, question=q)
    assert not d.answerable  # the sentence after it is about 赣州 too
    assert verify(
        "2023年赣州地区生产总值达4606亿元[1]。",
        [ganzhou, names_nanchang],
        tokenizer,
        question="2023年赣州地区生产总值是多少？",
    ).answerable


def test_a_question_is_never_an_answer_nor_evidence(tokenizer) -> None:
    quoting = _hit("常见问题：2021年南昌工业投资同比增长多少？欢迎来电咨询。", 900, "问答汇编")
    d = verify("2021年南昌工业投资同比增长多少？[1]", [quoting], tokenizer, question="2021年南昌工业投资同比增长多少？")
    assert not d.answerable and "question_dropped" in d.flags
    # a passage's question does not support a statement of its figures
    d = verify(
        "2021年南昌工业投资同比增长18.7%[1]。",
        [quoting, HITS[0]],
        tokenizer,
        question="2021年南昌工业投资同比增长多少？",
    )
    assert [c.hit for c in d.citations] == [HITS[0]]


def test_a_span_that_leaves_the_asked_amount_or_change_open_supports_nothing(tokenizer) -> None:
    # the figure is in the passage, but it is a growth rate, not the amount of money asked
    d = verify("南昌工业投资为18.7%[1]。", HITS, tokenizer, question="2021年南昌工业投资是多少亿元？")
    assert not d.answerable and "gap:amount" in d.flags
    # a level is not the change asked
    level = [_hit("赣州2023年地区生产总值达4606亿元。", 500, "赣州报道")]
    d = verify(
        "赣州2023年地区生产总值增长4606亿元[1]。", level, tokenizer, question="赣州2023年地区生产总值增长了多少？"
    )
    assert not d.answerable and "gap:growth" in d.flags
    # the same sentences pass when what was asked is what the span states
    d = verify("南昌工业投资同比增长18.7%[1]。", HITS, tokenizer, question="2021年南昌工业投资增长了多少？")
    assert (
        d.answerable and d.text == "南昌工业投资同比增长18.7%[1]。" and not any(f.startswith("gap:") for f in d.flags)
    )
    # the gaps refused on are the caller's choice
    unchecked = verify(
        "赣州2023年地区生产总值增长4606亿元[1]。",
        level,
        tokenizer,
        question="赣州2023年地区生产总值增长了多少？",
        gaps=(),
    )
    assert unchecked.answerable


def test_a_place_only_compared_with_is_not_the_subject_and_which_district_needs_a_district(tokenizer) -> None:
    hits = [_hit("2020年南昌GDP为5745.51亿元，仅相当于武汉的37%。")]
    d = verify("2020年武汉GDP为5745.51亿元[1]。", hits, tokenizer, question="2020年武汉GDP是多少？")
    assert not d.answerable
    hits = [_hit("2021年度南昌林长制考核中，全市平均得分为95.2分。")]
    d = verify("得分最高的是95.2分[1]。", hits, tokenizer, question="2021年度南昌林长制考核哪个区得分最高？")
    assert not d.answerable and "gap:place" in d.flags


def test_a_figure_is_held_as_a_whole_number_only(tokenizer) -> None:
    hits = [_hit("2024年该区实施“八大行动”项目239个，总投资1308.15亿元，研发投入占销售收入的10%。", title="赣州报道")]
    assert not verify("南康区无人机产业集群有130家企业[1]。", hits, tokenizer).answerable  # not 1308.15's 130
    assert not verify("该区卖了10万辆新能源商用车[1]。", hits, tokenizer).answerable  # not 10%'s 10
    d = verify("该区实施“八大行动”项目239个，总投资1308.15亿元[1]。", hits, tokenizer)
    assert d.answerable and "1308.15亿元" in d.citations[0].quote
    # two cells of a table row are two figures, not one
    row = Hit(
        Chunk(
            "t#1",
            "t",
            "17\t琅轩物联网智慧产业园项目\t100000\t2021-2024",
            0,
            40,
            kind="table_row",
            context="序号\t项目名称\t投资金额（万元）\t建设期",
        ),
        1.0,
        "t.xlsx",
        "重大项目表",
    )
    assert verify("琅轩物联网智慧产业园项目投资100000万元[1]。", [row], tokenizer).answerable
    assert not verify("琅轩物联网智慧产业园项目投资1000002021万元[1]。", [row], tokenizer).answerable


def test_an_organisation_the_question_names_must_be_in_the_supporting_passage_itself(tokenizer) -> None:
    # a city-wide figure in the same document does not become the company's because another passage names the
    # company: the sentence repeats the question's organisation, and only a passage naming it backs the sentence
    tokenizer = tokenizer.with_terms([("南昌硬质合金有限责任公司", 5, "nt")])
    company = _hit("南昌硬质合金有限责任公司积极推进节能减排工作，淘汰高耗能设备。", 100, "南昌经开区调研")
    city = _hit("南昌市一季度全社会用电量78.37亿千瓦时，同比增长15.9%。", 400, "南昌经开区调研")
    q = "南昌硬质合金有限责任公司一年用电量是多少？"
    d = verify("南昌硬质合金有限责任公司一年用电量是78.37亿千瓦时[2]。", [company, city], tokenizer, question=q)
    assert not d.answerable
    d = verify(
        "南昌市一季度全社会用电量78.37亿千瓦时[2]。",
        [company, city],
        tokenizer,
        question="南昌市一季度全社会用电量是多少？",
    )
    assert d.answerable and d.citations[0].hit is city


def test_a_row_about_another_project_backs_nothing_said_of_the_project_asked(tokenizer) -> None:
    # the question names a project the tokenizer does not know as a name: the rows' project names still differ
    row = _row("12\t塘山镇总部大厦项目\t50000\t2021-2023\t在塘山镇规划建设总部大厦,占地 68 亩,总计 10 栋楼。", 9000)
    q = "南昌光谷核心区产业化项目占地多少亩？"
    assert not verify("南昌光谷核心区产业化项目占地68亩[1]。", [row], tokenizer, question=q).answerable
    asked = "塘山镇总部大厦项目占地多少亩？"
    assert verify("塘山镇总部大厦项目占地68亩[1]。", [row], tokenizer, question=asked).answerable


def test_the_districts_a_which_district_question_asks_for_are_the_answer_not_another_subject(tokenizer) -> None:
    plan = _hit(
        "以青山湖区、东湖区、西湖区为重点，推动网红直播等流量经济新业态集聚。", 100, "南昌市加快建设产业名城工作方案"
    )
    q = "南昌发展流量经济重点放在哪几个区？"
    d = verify("南昌发展流量经济重点放在青山湖区、东湖区和西湖区[1]。", [plan], tokenizer, question=q)
    assert d.answerable and d.citations[0].hit is plan
    # the same districts do not answer for another city
    ganzhou = _hit("赣州市以章贡区、南康区为重点，推动流量经济新业态集聚。", 400, "赣州市工作方案")
    q = "南昌发展流量经济重点放在哪几个区？"
    assert not verify("南昌发展流量经济重点放在章贡区和南康区[1]。", [ganzhou], tokenizer, question=q).answerable


def test_an_answer_no_passage_supports_any_sentence_of_is_refused(tokenizer) -> None:
    # no figure to check and no wording shared: nothing of it can be shown as cited
    d = verify("南昌某公司的股票代码是它的字母缩写。", HITS, tokenizer, question="南昌某公司的股票代码是什么？")
    assert not d.answerable and "nothing_supported" in d.flags


def test_a_passage_referring_back_to_the_company_backs_what_is_said_of_it(tokenizer) -> None:
    tokenizer = tokenizer.with_terms([("赣州富尔特电子股份有限公司", 5, "nt")])
    named = _hit("赣州富尔特电子股份有限公司新建生产线12条。", 100, "赣州报道")
    back = _hit("该公司项目经理钟长传说，项目全面投产后，年营收可超35亿元。", 200, "赣州报道")
    q = "赣州富尔特电子股份有限公司项目全面投产后年营收可超过多少？"
    d = verify("赣州富尔特电子股份有限公司项目全面投产后年营收可超过35亿元[2]。", [named, back], tokenizer, question=q)
    assert d.answerable and d.citations[0].hit is back


def test_a_count_said_in_another_measure_word_than_the_passage_gives_it_is_not_supported(tokenizer) -> None:
    hits = [_hit("该厂引进自动化生产线12条以及检测设备300多台套，年产值8亿元。", 100, "九江日报")]
    d = verify("该厂有300多名员工[1]。", hits, tokenizer, question="该厂有多少名员工？")
    assert not d.answerable
    d = verify("该厂引进检测设备300多台套[1]。", hits, tokenizer, question="该厂引进了多少台检测设备？")
    assert d.answerable and "300多台套" in d.citations[0].quote
    d = verify("该厂引进自动化生产线12个[1]。", hits, tokenizer, question="该厂引进了多少条生产线？")
    assert d.answerable  # 个 stands for any measure word but people's
    # a figure the passage gives as money is not an area
    assert not verify("该厂占地8亩[1]。", hits, tokenizer, question="该厂占地多少亩？").answerable


def test_the_value_asked_must_be_what_the_cited_sentence_states(tokenizer) -> None:
    # the passages use 年产值, the cited sentence states only an investment: its figure is not the output asked
    hits = [
        _hit("该项目总投资26亿元，主要建设电解槽生产线。", 100, "萍乡日报"),
        _hit("同类项目年产值普遍在10亿元以上。", 400, "萍乡日报"),
    ]
    q = "该项目建成后年产值是多少？"
    assert not verify("该项目建成后年产值约26亿元[1]。", hits, tokenizer, question=q).answerable
    assert verify("该项目总投资26亿元[1]。", hits, tokenizer, question="该项目总投资是多少？").answerable


def test_last_years_figure_is_not_answered_by_this_years(tokenizer) -> None:
    hits = [_hit("今年上半年，宜春经开区规模以上工业增加值增长12.4%。", 100, "宜春日报")]
    q = "宜春经开区去年规模以上工业增加值增长多少？"
    assert not verify("宜春经开区规模以上工业增加值增长12.4%[1]。", hits, tokenizer, question=q).answerable


class _Collection:
    """The term statistics of a collection that uses `words` (a stand-in for rag.lexical.BM25Index)."""

    def __init__(self, *words: str):
        self.words = set(words)

    def idf(self, term: str) -> float:
        return 1.5 if term in self.words else 0.0


def test_the_value_asked_is_checked_against_the_whole_collection(tokenizer) -> None:
    # the passage shown states only an investment; the collection uses 年产值 elsewhere: the question asks for it,
    # and a figure of investment is no answer (without the collection, the passages shown alone decide)
    from rag.generate.chat import ChatGenerator

    hits = [_hit("该项目总投资26亿元，主要建设电解槽生产线。", 100, "萍乡日报")]
    q = "该项目建成后年产值是多少？"
    said = "该项目建成后年产值约26亿元[1]。"
    assert verify(said, hits, tokenizer, question=q).answerable
    assert not verify(said, hits, tokenizer, question=q, bm25=_Collection("年产值")).answerable
    assert verify(said, hits, tokenizer, question=q, bm25=_Collection("投资")).answerable  # the question's own word
    chat = ChatGenerator(None, tokenizer)  # type: ignore[arg-type]  # check() asks no model and renders no prompt
    assert chat.check(said, q, hits).answerable
    assert not chat.check(said, q, hits, bm25=_Collection("年产值")).answerable


def test_a_figure_of_another_qualifier_of_the_noun_asked_supports_nothing(tokenizer) -> None:
    # 全社会用电量 is not 居民生活用电量; the collection uses 居民 and 生活, so the qualifier is not the question's own
    hits = [_hit("南昌市一季度全社会用电量78.37亿千瓦时，同比增长15.9%。", 100, "南昌日报")]
    q = "南昌市一季度居民生活用电量同比增长多少？"
    said = "南昌市一季度居民生活用电量同比增长15.9%[1]。"
    collection = _Collection("居民", "生活", "用电量")
    d = verify(said, hits, tokenizer, question=q, bm25=collection)
    assert not d.answerable and "gap:qualifier" in d.flags
    q = "南昌市一季度全社会用电量同比增长多少？"
    assert verify("南昌市一季度全社会用电量同比增长15.9%[1]。", hits, tokenizer, question=q, bm25=collection).answerable


def test_a_sentence_two_passages_state_in_parts_is_cited_clause_by_clause_keeping_its_year(tokenizer) -> None:
    def hit(text: str, start: int, doc: str, title: str) -> Hit:
        return Hit(Chunk(f"{doc}#{start}", doc, text, start, start + len(text)), 1.0, f"{doc}.txt", title)

    ganzhou = hit("2023年，赣州地区生产总值达4606亿元；增速达5.3%。", 100, "a", "赣州加快发展新质生产力")
    changzhou = hit(
        "常州高新区今年成立32周年。2023年，园区地区生产总值突破2100亿元，一般公共预算收入超144亿元。", 100, "b", "常州"
    )
    q = "2023年赣州地区生产总值与常州高新区地区生产总值分别是多少？"
    d = verify(
        "2023年赣州地区生产总值达4606亿元，常州高新区地区生产总值突破2100亿元。[1]",
        [ganzhou, changzhou],
        tokenizer,
        question=q,
    )
    assert d.answerable and d.text == "2023年赣州地区生产总值达4606亿元[1]，常州高新区地区生产总值突破2100亿元[2]。"
    assert [c.hit for c in d.citations] == [ganzhou, changzhou] and "2100亿元" in d.citations[1].quote
    # the sentence's year is each clause's: a passage of another year supports neither
    old = hit("2022年，园区地区生产总值突破2100亿元。", 100, "b", "常州高新区")
    assert not verify(
        "2023年赣州地区生产总值达4606亿元，常州高新区地区生产总值突破2100亿元[1]。", [ganzhou, old], tokenizer
    ).answerable
    # a year alone is no clause of its own: "2022年，…" is the figure's year
    assert not verify("2022年，赣州地区生产总值达4606亿元[1]。", [ganzhou, old], tokenizer).answerable


def test_a_city_written_with_shi_is_held_by_its_bare_name_but_not_by_its_county(tokenizer) -> None:
    q = "南昌做电子的公司头一回IPO成功，市里最多奖多少钱？"
    prize = _hit(
        "2021年12月28日，南昌举行电子信息产业发展大会：对完成首发上市的电子信息企业，市本级财政给予最高1000万元奖励。"
    )
    d = verify("南昌市本级财政给予最高1000万元奖励[1]。", [prize], tokenizer, question=q)
    assert d.answerable and d.citations[0].hit is prize
    county = _hit(
        "南昌县举行电子信息产业发展大会：对完成首发上市的电子信息企业，县本级财政给予最高1000万元奖励。", title="县报"
    )
    assert not verify("南昌市本级财政给予最高1000万元奖励[1]。", [county], tokenizer, question=q).answerable


def test_a_figure_given_to_the_company_asked_must_be_stated_of_it_not_beside_its_name(tokenizer) -> None:
    q = "南昌华勤电子科技有限公司2021年营业收入是多少？"
    city = _hit("2021年，南昌电子信息产业实现营业收入1734.5亿元。力争培育南昌华勤电子科技有限公司等一批千亿级企业。")
    answer = "南昌华勤电子科技有限公司2021年营业收入是1734.5亿元[1]。"
    assert not verify(answer, [city], tokenizer, question=q).answerable
    own = _hit("南昌华勤电子科技有限公司成立于2019年。2021年，公司实现营业收入1734.5亿元。")
    assert verify(answer, [own], tokenizer, question=q).answerable  # named in the sentence before the figure
    back = _hit(
        "2021年，南昌市举办电子信息产业大会。该公司2021年实现营业收入1734.5亿元。南昌华勤电子科技有限公司位于高新区。"
    )
    assert verify(answer, [back], tokenizer, question=q).answerable  # "该公司" refers back to it


def test_a_figure_the_passage_gives_another_level_does_not_back_the_level_asked(tokenizer) -> None:
    q = "南昌经开区对列入国家级绿色工厂的企业给予多少一次性奖励？"
    policy = _hit(
        "南昌经开区对列入省级绿色工厂的企业给予10万元一次性奖励,对列入国家级绿色工厂的企业给予20万元一次性奖励。"
    )
    assert not verify(
        "南昌经开区对列入国家级绿色工厂的企业给予10万元一次性奖励[1]。", [policy], tokenizer, question=q
    ).answerable
    assert verify(
        "南昌经开区对列入国家级绿色工厂的企业给予20万元一次性奖励[1]。", [policy], tokenizer, question=q
    ).answerable
    # a figure stated once, without a level of its own, is left to the other checks
    plain = _hit("南昌经开区累计培育国家级绿色工厂5家。")
    assert verify("南昌经开区累计培育国家级绿色工厂5家[1]。", [plain], tokenizer).answerable


def test_markers_after_the_full_stop_with_a_separator_are_the_sentences_not_a_sentence_of_their_own(tokenizer) -> None:
    d = verify("南昌工业投资同比增长18.7%。[1]、[2]", HITS, tokenizer)
    assert d.text == "南昌工业投资同比增长18.7%[1]。"


def test_a_phrase_ending_in_gongsi_that_no_passage_names_is_no_company_the_figure_must_be_of(tokenizer) -> None:
    plan = _hit("未来3年，力争全市高新技术企业超过3000家，科技型中小企业超过4000家，打造产业发展的生力军。")
    q = "南昌计划三年内让搞科技的中小公司超过多少家？"
    d = verify("南昌计划三年内让搞科技的中小公司超过4000家[1]。", [plan], tokenizer, question=q)
    assert d.answerable and d.citations[0].hit is plan
