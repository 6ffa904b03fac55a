"""The answerability judge's pieces and the LLM prompt's excerpts, on made-up passages."""

from __future__ import annotations

from rag.answerable import FEATURES, calibration, focus_term, judge, question_terms
from rag.generate.chat import excerpt
from rag.lexical import BM25Index
from rag.types import Chunk, Document, Hit

PASSAGES = [
    "新余高新区4家企业上榜。其中，江西赣锋锂业集团股份有限公司上榜“全省科技领军企业”。",
    "2023年，赣州地区生产总值达4606亿元；地区生产总值增速达5.3%。",
    "南昌经开区累计培育国家级绿色工厂5家，省级绿色工厂7家。",
    "2021年南昌电子信息产业营业收入增长35.7%。",  # the collection uses the word, elsewhere
]


def _hits(tokenizer) -> tuple[list[Hit], BM25Index]:
    toks = [tokenizer.tokens(t) for t in PASSAGES]
    bm25 = BM25Index.build(toks)
    hits = [
        Hit(Chunk(f"c{i}", f"d{i}", t, 0, len(t)), 1.0, f"d{i}.txt", "", i + 1, {"bm25": 8.0})
        for i, t in enumerate(PASSAGES)
    ]
    return hits, bm25


def test_focus_is_the_noun_asked_about(tokenizer) -> None:
    q = "江西赣锋锂业集团股份有限公司2023年营业收入是多少？"
    assert focus_term(q, question_terms(q, tokenizer), tokenizer) == "营业收入"
    q = "请概括这篇文章的主要内容。"  # no question word: nothing in particular is asked about
    assert focus_term(q, question_terms(q, tokenizer), tokenizer) == ""


def test_a_passage_naming_the_company_but_not_the_figure_asked_is_judged_unlikely(tokenizer) -> None:
    hits, bm25 = _hits(tokenizer)
    missing = judge("江西赣锋锂业集团股份有限公司2023年营业收入是多少？", hits, tokenizer, bm25)
    present = judge("2023年赣州地区生产总值是多少？", hits[1:] + hits[:1], tokenizer, bm25)
    assert missing.features["focus_missing"] == 1.0 and present.features["focus_missing"] == 0.0
    assert present.confidence > missing.confidence
    assert set(FEATURES) <= set(missing.features) and set(FEATURES) == set(calibration()["weights"])


def test_a_year_the_passages_lack_lowers_confidence(tokenizer) -> None:
    hits, bm25 = _hits(tokenizer)
    hits = hits[1:] + hits[:1]
    wrong_year = judge("2022年赣州地区生产总值是多少？", hits, tokenizer, bm25)
    assert wrong_year.numbers_missing == ["2022"]
    assert wrong_year.confidence < judge("2023年赣州地区生产总值是多少？", hits, tokenizer, bm25).confidence


def test_an_entry_dated_to_the_day_is_of_its_documents_year(tokenizer) -> None:
    entry = "7月7日上午，市人民检察院检察长李某某赴青川区上海路街道调研督导文明城市创建工作。"
    plan = "研究与试验发展经费支出占地区生产总值比重达到2.2%。"  # the plan of a 2021 bulletin reports 2020
    texts = [entry, plan]
    bm25 = BM25Index.build([tokenizer.tokens(t) for t in texts])
    hits = [Hit(Chunk(f"c{i}", "d0", t, 0, len(t)), 1.0, "d0.txt", "", 1, {"bm25": 8.0}) for i, t in enumerate(texts)]
    cover = "青川市人民政府公报\n二〇二一年第九期\n"
    docs = {"d0": Document("d0", "d0.txt", "青川市人民政府公报", cover + entry + plan)}
    q = "2021年7月7日到上海路街道督导文明城市创建的检察长是谁？"
    assert judge(q, hits[:1], tokenizer, bm25, docs).numbers_missing == []
    assert judge(q.replace("2021", "2022"), hits[:1], tokenizer, bm25, docs).numbers_missing == ["2022"]
    # a passage stating no day is not taken to be of its document's year
    q = "2021年研究与试验发展经费支出占地区生产总值比重是多少？"
    assert judge(q, hits[1:], tokenizer, bm25, docs).numbers_missing == ["2021"]


def test_excerpt_keeps_whole_sentences_about_the_question() -> None:
    text = "开头一句与问题无关。" * 5 + "2023年赣州地区生产总值达4606亿元。增速达5.3%。" + "结尾一句也无关。" * 5
    out = excerpt(text, ["赣州", "地区生产总值", "2023"], 40)
    assert "4606亿元" in out and len(out) <= 40 and out in text
    assert "增速达5.3%。" in out and out.endswith("。")  # the sentence after the topic's comes first
    assert excerpt("短文本。", ["无关"], 100) == "短文本。"


def test_an_excerpt_opening_with_a_reference_back_keeps_the_sentence_it_refers_to() -> None:
    text = (
        "春节后南康区项目联动开工。"
        + "在曜灵光伏制造项目建设现场，机械轰鸣。"
        + "该项目投资50亿元，助力南康区发展光伏产业。"
        + "近年来，南康区推进先进制造业重点产业链建设。"
        + "无关内容在此处补足字数。" * 6
    )
    # room for the best sentence, one after it, the one before it and one more: that one is the sentence naming
    # the project "该项目" refers to, not a second sentence after
    budget = 22 + 12 + 22 + 19
    out = excerpt(text, ["南康区", "制造", "资金"], budget)
    assert "该项目投资50亿元" in out and "在曜灵光伏制造项目建设现场" in out and len(out) <= budget


def test_a_passage_about_another_place_marks_the_subject_missing(tokenizer) -> None:
    hits, bm25 = _hits(tokenizer)
    other = judge("2023年南昌市地区生产总值增速是多少？", hits[1:2], tokenizer, bm25)  # the passage is on 赣州
    same = judge("2023年赣州地区生产总值增速是多少？", hits[1:2], tokenizer, bm25)
    assert other.features["subject_missing"] == 1.0 and same.features["subject_missing"] == 0.0
    assert other.confidence < same.confidence
    # a question about two places may be answered by a passage on each
    both = judge("南昌经开区和赣州分别怎样？", hits[1:3], tokenizer, bm25)
    assert both.features["subject_missing"] == 0.0


def test_made_up_unanswerable_questions_swap_what_the_collection_never_pairs(tokenizer) -> None:
    from rag.evaluate.unanswerable import Corpus, candidates, synthesize
    from rag.zh import norm

    docs = {
        "d1": "2023年，赣州地区生产总值达4606亿元；地区生产总值增速达5.3%。",
        "d2": "2021年，南昌规模以上工业增加值增长11.4%。南昌市工业投资增长18.7%。",
        "d3": "新余市锂电产业营业收入增长。",
    }
    corpus = Corpus(tuple(norm(t) for t in docs.values()), {d: norm(t) for d, t in docs.items()})
    places, names = candidates(list(docs.values()), tokenizer)
    assert {"南昌", "赣州"} <= set(places)
    items = [
        {"id": "a", "question": "2023年赣州地区生产总值增速是多少？", "type": "numeric", "doc": "d1.txt"},
        {"id": "b", "question": "请概括全文。", "type": "summary", "doc": "d1.txt"},
    ]
    made = synthesize(items, corpus, tokenizer, lambda t: 1.0, places, names)
    by_kind = {m["synthetic"]: m["question"] for m in made}
    assert by_kind["year"] == "2022年赣州地区生产总值增速是多少？"  # the nearest year the document never states
    place = by_kind["place"]
    assert "赣州" not in place and place.endswith("地区生产总值增速是多少？")
    assert all(m["type"] == "unanswerable" and m["source"] == "a" for m in made)  # never from a summary request
    # a swap the collection does pair is not made: 南昌 with 工业投资 is stated
    made = synthesize(
        [{"id": "c", "question": "2021年赣州工业投资增长多少？", "type": "numeric", "doc": "d2.txt"}],
        corpus,
        tokenizer,
        lambda t: 1.0,
        ["南昌"],
        [],
    )
    assert not [m for m in made if m["synthetic"] == "place"]


def test_a_proper_noun_no_passage_names_marks_the_subject_missing(tokenizer) -> None:
    hits, bm25 = _hits(tokenizer)
    # jieba tags 景德镇 as a person's name (nr): a proper noun all the same, named by no passage
    assert judge("景德镇陶瓷产业2023年营业收入是多少？", hits, tokenizer, bm25).features["subject_missing"] == 1.0
    # 五百强 is tagged nr too, but a word with a numeral in it is no name
    assert judge("新余高新区有多少家五百强企业？", hits, tokenizer, bm25).features["subject_missing"] == 0.0


def _doc_hits(tokenizer, doc: Document, spans: list[tuple[str, str]]) -> tuple[list[Hit], BM25Index]:
    """Hits on passages of `doc` given as (text, heading path), at their offsets in the document."""
    bm25 = BM25Index.build([tokenizer.tokens(t) for t, _ in spans])
    hits = []
    for i, (t, heading) in enumerate(spans):
        at = doc.text.index(t)
        hits.append(Hit(Chunk(f"c{i}", doc.doc_id, t, at, at + len(t), heading), 1.0, doc.source, "", 1, {"bm25": 8.0}))
    return hits, bm25


def test_a_list_under_a_lead_in_line_is_of_the_lead_ins_year(tokenizer) -> None:
    target = "——产业集群持续壮大。力争电子信息产业营业收入超过5000亿元。"
    text = (
        "青川市产业名城工作方案\n\n二、总体要求\n\n（三）发展目标\n\n"
        "制造业发展成为青川经济高质量发展的新动能。到2025年末：\n\n"
        "——产业规模持续扩张。制造业增加值年均增长达到7.5%左右。\n\n" + target
    )
    doc = Document("d0", "d0.txt", "青川市产业名城工作方案", text)
    hits, bm25 = _doc_hits(tokenizer, doc, [(target, "青川市产业名城工作方案 > 二、总体要求 > （三）发展目标")])
    q = "到2025年青川电子信息产业营业收入目标是多少？"
    got = judge(q, hits, tokenizer, bm25, {"d0": doc})
    assert got.numbers_missing == [] and "2025" not in got.missing_terms
    # another year is still missing, and so is the lead-in's year in a passage of another section
    assert judge(q.replace("2025", "2030"), hits, tokenizer, bm25, {"d0": doc}).numbers_missing == ["2030"]
    other, bm25 = _doc_hits(tokenizer, doc, [(target, "青川市产业名城工作方案 > 三、重点任务")])
    assert judge(q, other, tokenizer, bm25, {"d0": doc}).numbers_missing == ["2025"]


def test_a_passage_stating_no_figure_nor_year_is_of_its_documents_year(tokenizer) -> None:
    roster = "胡某某 市水利局局长 陈某 市教育局局长 邓某 市金融办主任"
    text = "青川市人民政府办公室关于调整领导小组成员的通知\n\n" + roster
    doc = Document("d0", "d0.txt", "关于调整领导小组成员的通知", text, {"date": "2021-07-01"})
    hits, bm25 = _doc_hits(tokenizer, doc, [(roster, "")])
    q = "2021年青川市教育局局长是谁？"
    assert judge(q, hits, tokenizer, bm25, {"d0": doc}).numbers_missing == []
    assert judge(q.replace("2021", "2023"), hits, tokenizer, bm25, {"d0": doc}).numbers_missing == ["2023"]


def test_a_common_word_jieba_tags_as_a_name_is_no_subject(tokenizer) -> None:
    row = "103 高性能碳化硅新材料前驱体产业化项目 32000 本项目总占地面积为57260平方米(约86亩)。"
    hits, bm25 = _doc_hits(tokenizer, Document("d0", "d0.txt", "", row), [(row, "")])
    q = "高性能碳化硅新材料前驱体产业化项目总占地约多少亩？"
    assert ("占地约", "nr") in tokenizer.tagged(q)  # jieba's name of 占地 + 约
    assert judge(q, hits, tokenizer, bm25).features["subject_missing"] == 0.0
    # a name nobody states is still missing (星耀城, tagged nr too)
    assert judge("星耀城项目总占地约多少亩？", hits, tokenizer, bm25).features["subject_missing"] == 1.0
