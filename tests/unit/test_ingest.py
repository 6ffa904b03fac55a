from __future__ import annotations

import pytest

from rag.errors import DecodeError, UnsupportedFormat
from rag.ingest import doc_id_for, read_bytes
from rag.ingest.clean import clean


def test_front_matter_and_p_tags_become_metadata_and_paragraphs() -> None:
    raw = (
        '---\nlayout: post\ntitle: "南昌新闻"\ndate: 2022-04-10\ncategories: news\n---\n'
        "<p>第一段。</p>\n <p>第二段。</p>"
    )
    c = clean(raw)
    assert c.meta["title"] == "南昌新闻" and c.meta["categories"] == "news"
    assert c.text == "第一段。\n\n第二段。"


def test_word_broken_across_blank_line_is_rejoined() -> None:
    c = clean("截至今年3月底,累计培育国家级绿色工厂5家,省级绿色\n\n工厂7家。\n\n## 标题\n\n正文。")
    assert "省级绿色工厂7家。" in c.text
    assert "标题" in c.text and "正文" in c.text


def test_headline_is_not_glued_to_next_paragraph() -> None:
    c = clean("新闻摄影 通讯员 张三摄\n\n\n\n千字当头 大抓落实\n\n本报讯，内容。")
    assert "张三摄\n\n千字当头" in c.text


def test_repeated_paragraph_kept_once() -> None:
    para = "项目……是南昌市做大做强产业发展平台,着力培育龙头企业、突破核心技术、打造优势产品,做好延链、补链、强链文章。"
    c = clean("\n\n".join([para] * 13 + ["结尾。"]))
    assert c.text.count("做大做强产业发展平台") == 1


def test_sup_and_script_handled() -> None:
    c = clean("<p>面积 646400 m <sup>2</sup>。</p><script>alert(1)</script>")
    assert "m²" in c.text and "alert" not in c.text


def test_markdown_and_outline_headings_recorded() -> None:
    c = clean("# 总标题\n\n## 一、编制背景\n\n### （一）战略意义\n\n正文。")
    assert [(h[2], h[3]) for h in c.headings] == [(1, "总标题"), (10, "一、编制背景"), (11, "（一）战略意义")]
    for s, e, _, t in c.headings:
        assert c.text[s:e] == t


@pytest.mark.parametrize("enc", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings(enc: str) -> None:
    docs = read_bytes("南昌市工业增加值增长11.4%。".encode(enc), "a.txt")
    assert docs[0].text == "南昌市工业增加值增长11.4%。"


def test_binary_and_unknown_types_rejected_with_file_name() -> None:
    with pytest.raises(UnsupportedFormat, match="x.txt"):
        read_bytes(bytes(range(256)) * 10, "x.txt")
    with pytest.raises(UnsupportedFormat, match="supported"):
        read_bytes(b"abc", "x.exe")
    with pytest.raises(DecodeError, match="y.txt"):
        read_bytes(b"\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89" * 20 + b"\xc3\x28" * 50, "y.txt")


def test_doc_id_stable_and_safe() -> None:
    assert doc_id_for("001_1671bd4fc93f4603.txt") == "001_1671bd4fc93f4603"
    assert doc_id_for("a b/c?.txt") == doc_id_for("a b/c?.txt")
    assert "/" not in doc_id_for("x/../y z.md")


def test_seeds_cleaned(seed_docs) -> None:
    by = {d.doc_id[:3]: d for d in seed_docs}
    assert len(seed_docs) == 5
    assert by["001"].title == "南昌激荡工业高质量发展春潮" and "<p>" not in by["001"].text
    assert by["000"].text.count("\n\n项目……是南昌市做大做强产业发展平台") == 1  # 13 copies in the raw file
    assert "华勤千亿产业基地项目\t10000000" in by["003"].text
    assert "<sup>" not in by["003"].text
