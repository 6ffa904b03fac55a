"""Answers grounded in what was asked, on the real seeds index (real embedder, real FAISS, real server): subject,
time, table column, unit, conflicting sources, and questions quoted in a document."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import settings_for, sse_events

pytestmark = pytest.mark.model


def _ask(components, question: str):
    return components.pipeline.ask(question, generator="extractive")


def _quotes_exact(components, a) -> None:
    docs = components.library.retriever("default").data.documents
    for c in a.citations:
        assert docs[c.hit.chunk.doc_id].text[c.quote_start : c.quote_end] == c.quote


def test_subject_a_question_about_nanchang_is_not_answered_with_ganzhous_figure(components) -> None:
    a = _ask(components, "2023年南昌地区生产总值是多少？")
    assert "4606" not in a.answer  # 赣州's figure, in a passage about 赣州
    assert not a.answerable or all("赣州" not in c.quote for c in a.citations)
    b = _ask(components, "2023年赣州地区生产总值是多少？")  # asked about 赣州, the same passage answers
    assert b.answerable and "4606亿元" in b.answer
    _quotes_exact(components, b)


def test_time_a_relative_year_is_stated_never_asserted(components) -> None:
    a = _ask(components, "南昌今年的GDP是多少？")
    assert "今年" not in a.answer.split("：", 1)[0]
    assert a.answerable and a.answer.startswith("文档中最新的是2020年：") and "5745.51亿元" in a.answer
    assert "year_stated" in a.flags
    _quotes_exact(components, a)
    # a year the documents do not give for that figure is not answered with another year's
    b = _ask(components, "2022年赣州地区生产总值是多少？")
    assert "4606" not in b.answer


def test_time_a_latest_question_answers_with_the_latest_years_figure(components) -> None:
    # 2020's growth (4.7%, the bulletin) and 2021's (11.4%, the news report) are both retrieved; "目前" wants 2021's
    a = _ask(components, "南昌目前规模以上工业增加值增长多少？")
    assert a.answerable and a.answer.startswith("文档中最新的是2021年：") and "11.4%" in a.answer, a.answer
    assert "4.7%" not in a.answer and "2025" not in a.answer  # nor a plan's target year
    _quotes_exact(components, a)


def test_time_a_comparison_with_last_year_is_no_relative_year(components) -> None:
    a = _ask(components, "2020年南昌全年规模以上工业增加值比上年增长多少？")
    assert a.answerable and "4.7%" in a.answer and "文档所说" not in a.answer and "year_stated" not in a.flags


@pytest.mark.parametrize(
    ("question", "says", "unasked"),
    [
        ("华勤千亿产业基地项目占地面积是多少？", "3000 亩", "投资"),
        ("华勤千亿产业基地项目的建设期是哪几年？", "2020-2023", "投资"),
        ("华勤千亿产业基地项目年产多少台？", "1.6 亿台", "投资"),
        ("江铃新能源汽车新基地及工程研究院建设项目规划年产能是多少？", "30万辆", "投资"),
        ("中国(南昌)数字经济港占地多少亩？", "123 亩", "投资"),
    ],
)
def test_column_a_row_question_gets_the_asked_column(components, question: str, says: str, unasked: str) -> None:
    a = _ask(components, question)
    assert a.answerable and says in a.answer and unasked not in a.answer, a.answer
    assert any(says in c.quote for c in a.citations)  # the quote is the clause that says it
    _quotes_exact(components, a)


def test_unit_an_amount_in_wan_yuan_is_also_given_in_yi_yuan(components) -> None:
    a = _ask(components, "济民可信总部及新药产业化基地项目的投资金额是多少？")
    assert a.answerable and "300000万元（即30亿元）" in a.answer
    assert all("（即" not in c.quote for c in a.citations)  # the quote keeps the document's figure
    assert any("300000" in c.quote for c in a.citations)
    _quotes_exact(components, a)


def test_conflict_two_sources_disagree_and_both_are_cited(components) -> None:
    a = _ask(components, "华勤千亿产业基地项目总投资多少？")
    assert a.answerable and a.answer.startswith("两份文档说法不同：")
    assert "120亿元" in a.answer and "10000000万元（即1000亿元）" in a.answer
    [c] = a.conflicts
    assert c["subject"] == "华勤千亿产业基地项目" and c["attribute"] == "总投资"
    assert sorted(v["value"] for v in c["values"]) == ["10000000万元（即1000亿元）", "120亿元"]
    by_n = {x.n: x for x in a.citations}
    for v in c["values"]:  # each value cites the passage that states it
        assert v["value"][:3] in by_n[v["n"]].quote and "华勤" in by_n[v["n"]].quote.replace(" ", "")
    assert "江铃" not in "".join(x.quote for x in a.citations)
    _quotes_exact(components, a)


def test_conflicts_field_over_http(server) -> None:
    r = httpx.post(
        server.url + "/ask",
        json={"question": "华勤千亿产业基地项目总投资多少？", "generator": "extractive"},
        timeout=120,
    ).json()
    assert [v["n"] for v in r["conflicts"][0]["values"]] == [1, 2] and {c["n"] for c in r["citations"]} == {1, 2}
    r = httpx.post(
        server.url + "/ask",
        json={"question": "2021年南昌工业投资同比增长多少？", "generator": "extractive"},
        timeout=120,
    ).json()
    assert r["conflicts"] == [] and "18.7%" in r["answer"]
    events = sse_events(
        server.url + "/ask", {"question": "华勤千亿产业基地项目总投资多少？", "generator": "extractive", "stream": True}
    )
    done = events[-1][1]
    assert done["conflicts"] and "".join(d["text"] for k, d in events if k == "token") == done["answer"]
    r = httpx.post(
        server.url + "/v1/chat/completions",
        timeout=120,
        json={"model": "rag-extractive", "messages": [{"role": "user", "content": "华勤千亿产业基地项目总投资多少？"}]},
    ).json()
    assert r["conflicts"][0]["attribute"] == "总投资"


def test_a_document_quoting_the_questions_does_not_answer_them(index_copy) -> None:
    from rag.factory import Components
    from rag.ingest import read_bytes

    comp = Components(settings_for(index_copy))
    questions = [
        "2021年南昌规模以上工业增加值增长了多少？",
        "2021年南昌工业投资同比增长多少？",
        "华勤千亿产业基地项目占地面积是多少？",
    ]
    faq = "南昌工业常见问题汇编\n\n" + "\n\n".join(f"问：{q}" for q in questions) + "\n\n以上问题欢迎来电咨询。"
    comp.indexer.update("default", add=read_bytes(faq.encode(), "faq.txt"))
    for q in questions:
        a = comp.pipeline.ask(q, generator="extractive")
        assert "？" not in a.answer and "?" not in a.answer, a.answer
        assert all(c.hit.source != "faq.txt" for c in a.citations), a.answer
    assert "11.4%" in comp.pipeline.ask(questions[0], generator="extractive").answer


@pytest.mark.llm
def test_time_the_local_llm_states_the_year_never_this_year(components) -> None:
    # the case: the 1.5B model wrote "南昌今年的GDP是5745.51亿元[1]" from a passage about 2020
    a = components.pipeline.ask("南昌今年的GDP是多少？", generator="llm")
    assert "今年" not in a.answer
    if a.answerable:
        assert a.answer.startswith(("文档中最新的是20", "20")) and "year_stated" in a.flags
        _quotes_exact(components, a)
