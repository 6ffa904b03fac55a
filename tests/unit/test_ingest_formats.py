"""PDF and DOCX readers on real files written in tmp_path: text, headings, tables, page spans, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunk import ChunkParams, chunk_document
from rag.errors import BadInput, UnsupportedFormat
from rag.ingest import load_paths, read_bytes
from rag.ingest.docx import heading_level
from rag.ingest.pdf import assemble_pages


def _pdf_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A minimal valid PDF: one Helvetica text line per entry, one page per list, an xref table with exact offsets."""
    n = len(pages)
    font = 3 + 2 * n
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + 2 * i} 0 R".encode() for i in range(n))
        + f"] /Count {n} >>".encode(),
    ]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"] + [f"({_pdf_escape(ln)}) Tj T*" for ln in lines] + ["ET"]
        stream = "\n".join(ops).encode("latin-1")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font} 0 R >> >> "
            f"/Contents {4 + 2 * i} 0 R >>".encode()
        )
        objs.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    info = None
    if title:
        objs.append(f"<< /Title ({_pdf_escape(title)}) >>".encode("latin-1"))
        info = len(objs)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for k, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{k} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"<< /Size {len(objs) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


PAGE1 = ["Annual report of the Nanchang industry.", "Industrial value added grew 11.4 percent in 2021."]
PAGE2 = ["Ceramics in Jingdezhen reached 50 billion yuan.", "Second page ends here."]


def test_pdf_two_pages_text_and_page_spans(tmp_path: Path) -> None:
    f = tmp_path / "report.pdf"
    f.write_bytes(make_pdf([PAGE1, PAGE2], title="Nanchang report"))
    [doc] = load_paths([f])
    assert doc.doc_id == "report" and doc.source == "report.pdf" and doc.title == "Nanchang report"
    assert doc.meta["page_count"] == 2
    (s1, e1, p1), (s2, e2, p2) = doc.meta["pages"]
    assert (p1, p2) == (1, 2) and s1 == 0 and s2 == e1 + 2 and e2 == len(doc.text)
    assert "11.4 percent" in doc.text[s1:e1] and "Jingdezhen" not in doc.text[s1:e1]
    assert "Jingdezhen" in doc.text[s2:e2] and doc.text[s2:e2].endswith("Second page ends here.")
    chunks = chunk_document(doc, ChunkParams(size=40, max=80, overlap=0))
    assert {c.page for c in chunks} == {1, 2}
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert c.page == (1 if c.start < s2 else 2)
    assert next(c for c in chunks if "11.4" in c.text).page == 1
    assert next(c for c in chunks if "Jingdezhen" in c.text).page == 2


def test_page_chunk_page_reaches_hits() -> None:
    from rag.types import Chunk, Hit

    assert Hit(Chunk("d#1", "d", "x", 0, 1, page=3), 1.0).to_dict()["page"] == 3
    assert "page" not in Hit(Chunk("d#1", "d", "x", 0, 1), 1.0).to_dict()


def test_assemble_pages_shifts_headings_and_dedups_across_pages() -> None:
    repeated = (
        "本页脚注说明：以上数据均来自南昌市统计局发布的年度统计公报和各县区上报材料，"
        "仅供参考使用，不作为其他用途的依据。"
    )
    assert len(repeated) >= 50
    pages = [
        "# 总体情况\n\n南昌工业增加值增长11.4%。\n\n" + repeated,
        "",  # an empty page (a figure, say) gets no span
        "一、发展目标\n\n到2025年，产业规模再上台阶。\n\n" + repeated,
    ]
    p = assemble_pages(pages, dedup_min_chars=50)
    assert p.text.count("本页脚注说明") == 1
    assert [pg[2] for pg in p.pages] == [1, 3]
    for s, e, _, t in p.headings:
        assert p.text[s:e] == t
    assert [h[3] for h in p.headings] == ["总体情况", "一、发展目标"]
    (s1, e1, _), (s3, e3, _) = p.pages
    assert p.text[s1:e1].startswith("总体情况") and p.text[s1:e1].endswith("仅供参考使用，不作为其他用途的依据。")
    assert p.text[s3:e3] == "一、发展目标\n\n到2025年，产业规模再上台阶。" and e3 == len(p.text)
    assert p.headings[1][0] == s3


def test_pdf_bad_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormat, match="broken.pdf"):
        read_bytes(b"%PDF-1.4\n this is not really a pdf", "broken.pdf")
    with pytest.raises(UnsupportedFormat, match="fake.pdf"):
        read_bytes("南昌".encode() * 20, "fake.pdf")
    with pytest.raises(BadInput, match="blank.pdf.*no text layer"):
        read_bytes(make_pdf([[], []]), "blank.pdf")


def test_pdf_password_protected_is_a_clear_bad_input(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf([PAGE1]))).pages:
        w.add_page(page)
    w.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    with pytest.raises(BadInput, match="locked.pdf.*password"):
        read_bytes(buf.getvalue(), "locked.pdf")
    # an owner password only (no user password) does not stop anyone reading it
    w = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf([PAGE1]))).pages:
        w.add_page(page)
    w.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    assert "11.4 percent" in read_bytes(buf.getvalue(), "open.pdf")[0].text


def make_docx(path: Path) -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    d.core_properties.title = ""
    d.add_heading("南昌市工业发展报告", level=1)
    d.add_paragraph("2021年，南昌规模以上工业增加值同比增长11.4%。")
    d.add_heading("一、主要指标", level=2)
    d.add_paragraph("我们的主要工作包括以下几个方面的内容与安排")  # no sentence end: must not be glued to the next
    d.add_paragraph("工业投资同比增长18.7%。")
    t = d.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [
            ("项目名称", "投资金额", "建设期"),
            ("华勤千亿产业基地项目", "10000000万元", "2020-2023"),
            ("欧菲光电项目", "500000万元", "2021-2022"),
        ]
    ):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    zh = d.styles.add_style("标题 3", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("（一）战略意义", style=zh)
    d.add_paragraph("结尾段落。")
    d.save(str(path))


def test_docx_paragraphs_headings_tables(tmp_path: Path) -> None:
    f = tmp_path / "报告.docx"
    make_docx(f)
    [doc] = load_paths([f])
    assert doc.source == "报告.docx" and doc.title == "南昌市工业发展报告"
    text = doc.text
    assert "南昌规模以上工业增加值同比增长11.4%。" in text
    assert "以下几个方面的内容与安排\n\n工业投资同比增长18.7%。" in text
    assert (
        "项目名称\t投资金额\t建设期\n华勤千亿产业基地项目\t10000000万元\t2020-2023\n欧菲光电项目\t500000万元\t2021-2022"
        in text
    )
    assert "#" not in text
    heads = [(h[2], h[3]) for h in doc.meta["headings"]]
    assert heads == [(1, "南昌市工业发展报告"), (10, "一、主要指标"), (11, "（一）战略意义")]
    for s, e, _, t in doc.meta["headings"]:
        assert text[s:e] == t
    chunks = chunk_document(doc, ChunkParams())
    row = next(c for c in chunks if c.text.startswith("华勤千亿产业基地项目"))
    assert (
        row.kind == "table_row"
        and row.context == "项目名称\t投资金额\t建设期"
        and row.heading == "南昌市工业发展报告 > 一、主要指标"
    )
    assert all(c.page is None for c in chunks)


@pytest.mark.parametrize(
    "name,level",
    [
        ("Heading 1", 1),
        ("heading 3", 3),
        ("标题 2", 2),
        ("标题2", 2),
        ("Title", 1),
        ("Normal", None),
        ("Heading 7", None),
        ("List Paragraph", None),
    ],
)
def test_docx_heading_styles(name: str, level: int | None) -> None:
    assert heading_level(name) == level


def test_docx_bad_files_name_the_file() -> None:
    with pytest.raises(UnsupportedFormat, match="bad.docx"):
        read_bytes(b"PK\x03\x04 not really a zip" * 10, "bad.docx")
    with pytest.raises(UnsupportedFormat, match="plain.docx"):
        read_bytes("只是文本".encode() * 30, "plain.docx")
    with pytest.raises(BadInput, match="secret.docx.*password"):
        read_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "secret.docx")


def test_pdf_pages_survive_the_index_and_reach_search_hits(tmp_path: Path, fake_embedder, tokenizer) -> None:
    from rag.indexer import Indexer
    from rag.store import faiss_store as store

    doc = read_bytes(make_pdf([PAGE1, PAGE2]), "report.pdf")[0]
    Indexer(tmp_path / "index", fake_embedder, tokenizer, ChunkParams(40, 80, 0)).update("c", add=[doc])
    data = store.load(tmp_path / "index", "c", fake_embedder.id)
    assert {c.page for c in data.chunks} == {1, 2}
    assert data.documents["report"].meta["pages"] == doc.meta["pages"]
