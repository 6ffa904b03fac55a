"""Property tests: no text lost, every chunk within bounds, offsets point at the right text."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rag.chunk import ChunkParams, chunk_document, is_toc_entry
from rag.ingest.clean import clean
from rag.types import Document

PIECES = st.sampled_from(
    [
        "南昌市",
        "工业增加值",
        "增长11.4%",
        "，",
        "。",
        "！",
        "？",
        "；",
        "\n",
        "\n\n",
        "## 一、背景\n\n",
        "（一）意义\n\n",
        "序号\t名称\t金额\n",
        "1\t华勤项目\t100\n",
        "abc ",
        "…",
        "“引号。”",
        "长" * 40,
    ]
)


def _doc(raw: str) -> Document:
    c = clean(raw)
    return Document("d", "d.txt", "t", c.text, {"headings": [list(h) for h in c.headings]})


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=80), st.integers(60, 400), st.integers(0, 50))
@example(["……1\t华勤项目\t100"], 60, 0)  # a table-of-contents line: not indexed, not lost
def test_chunks_exact_bounded_and_cover_everything(pieces: list[str], size: int, overlap: int) -> None:
    doc = _doc("".join(pieces))
    p = ChunkParams(size=size, max=size + 100, overlap=overlap)
    chunks = chunk_document(doc, p)
    covered = [False] * len(doc.text)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert 0 < len(c.text) <= p.max
        for i in range(c.start, c.end):
            covered[i] = True
    heading_chars = {i for s, e, *_ in doc.meta["headings"] for i in range(s, e)}
    headers = {c.context.split("\n")[0] for c in chunks if c.context}
    header_lines = {
        i for line in headers for m in re.finditer(re.escape(line), doc.text) for i in range(m.start(), m.end())
    }
    toc_lines = set()  # a table-of-contents line is left out on purpose (is_toc_entry), e.g. "……1\t华勤项目\t100"
    pos = 0
    for line in doc.text.split("\n"):
        if is_toc_entry(line):
            toc_lines.update(range(pos, pos + len(line)))
        pos += len(line) + 1
    lost = [
        doc.text[i]
        for i, ok in enumerate(covered)
        if not ok
        and not doc.text[i].isspace()
        and i not in heading_chars
        and i not in header_lines
        and i not in toc_lines
    ]
    assert not lost, "".join(lost)


def test_table_rows_are_passages_with_their_header(seed_docs) -> None:
    doc = next(d for d in seed_docs if d.doc_id.startswith("003"))
    chunks = chunk_document(doc, ChunkParams())
    row = next(c for c in chunks if "华勤千亿产业基地项目" in c.text and c.kind == "table_row")
    assert row.context.startswith("序号\t项目名称\t投资金额")
    assert "10000000" in row.text
    assert "五、南昌市推动制造业竞争优势重构项目清单" in row.heading
    assert "华勤千亿产业基地项目" in row.index_text(doc.title)


def test_seed_chunks_respect_sentences(seed_docs) -> None:
    for doc in seed_docs:
        for c in chunk_document(doc, ChunkParams()):
            assert doc.text[c.start : c.end] == c.text
            if c.kind == "text" and len(c.text) < 480:
                # a chunk ends at a sentence end, a line end or the end of a block
                nxt = doc.text[c.end : c.end + 1]
                assert c.text[-1] in "。！？；;!?…”）)】" or nxt in ("", "\n"), c.text[-30:]


def test_table_of_contents_lines_are_neither_passages_nor_table_headers() -> None:
    doc = _doc(
        "## 目录\n\n市政府文件\t关于印发工作方案的通知 洪府发[2021]14号 ..... 4\n"
        "1.战略意义.....1\t2.总体实力.....5\n3.创新体系.....11\t4.绿色化.....39\n\n"
        "序号\t项目名称\t投资金额\n1\t华勤产业基地\t10000000\n\n正文一句。"
    )
    chunks = chunk_document(doc, ChunkParams())
    assert not any("洪府发" in c.context + c.text or "....." in c.text for c in chunks)
    assert [c.context for c in chunks if c.text.startswith("1\t")] == ["序号\t项目名称\t投资金额"]
    assert any(c.text == "正文一句。" for c in chunks)


def test_table_of_contents_lines_in_running_text_are_left_out_and_never_packed_into_a_passage() -> None:
    doc = _doc(
        "## 目录\n\n一、编制背景.....1\n二、总体要求.....22\n\n## 正文\n\n前言一句。\n三、重点工作.....26\n后面一句。"
    )
    assert [c.text for c in chunk_document(doc, ChunkParams())] == ["前言一句。", "后面一句。"]
