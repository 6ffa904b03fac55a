"""The last step of an answer, whatever generated it: sources that disagree are said to, amounts are also given in
the unit people say, and a question about "今年 / 去年 / 目前 / 最新" gets the year of its figure stated (never 今年
for another year's figure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rag.generate import conflicts, facts
from rag.generate.base import Draft
from rag.types import Document, Hit


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
    word = facts.relative_time(question)
    if not word or not draft.answerable or not draft.citations:
        return draft, []
    c = min(draft.citations, key=lambda x: x.n)
    doc = (documents or {}).get(c.hit.chunk.doc_id)
    doc_year = facts.document_year(doc) if doc else None
    before = c.hit.chunk.text[: max(0, c.quote_start - c.hit.chunk.start)]
    year = facts.figure_year(c.quote, before, doc_year)
    # the model echoes the question's "今年的"; a quote keeps its own words (the year is stated before it)
    text = draft.text if extractive else facts.strip_relative(draft.text, word)
    meant = facts.resolve_year(word, doc_year)
    target = facts.target_year(c.quote, before)
    if target:  # "到2025年…达到": a plan's aim, not the latest figure
        lead = f"文档中这是{target}年的目标："
    elif not year:  # "这一数字" only where a figure was asked ("去年获批上市的新药是什么" is answered by a name)
        lead = "文档未写明这一数字的年份：" if facts.asks_figure(question) else "文档未写明其年份："
    else:
        lead = f"{year}年（文档所说的{word}）：" if meant == year else f"文档中最新的是{year}年："
    return replace(draft, text=lead + text, flags=sorted({*draft.flags, "year_stated"})), []
