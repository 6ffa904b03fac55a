"""Spreadsheet, slide and legacy-Office readers on real files written here: rows with headers, merged cells, slides as
pages, budgets and clear refusals naming the file."""

from __future__ import annotations

import io
import zipfile

import pytest

from rag.chunk import ChunkParams, chunk_document
from rag.errors import BadInput, TooLarge, UnsupportedFormat
from rag.ingest import IngestLimits, read_bytes


def _xlsx(build) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    build(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows(data: bytes, name: str) -> list:
    [doc] = read_bytes(data, name)
    chunks = chunk_document(doc, ChunkParams())
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
    return chunks


def test_xlsx_rows_are_passages_with_merged_headers_and_categories() -> None:
    def build(wb) -> None:
        ws = wb.active
        ws.title = "重点产业"
        ws.append(["地区", "2022年", None, "备注"])
        ws.append([None, "营业收入（亿元）", "增速", None])
        ws.append(["南昌", 1200.5, 0.114, "省会"])
        ws.append(["景德镇", 500, 0.08, None])
        ws.append([None, 300, 0.05, "陶瓷"])
        for rng in ("B1:C1", "A1:A2", "D1:D2", "A4:A5"):  # a group label over two columns; labels down two header rows
            ws.merge_cells(rng)
        ws["C3"].number_format = "0.0%"

    chunks = _rows(_xlsx(build), "产业表.xlsx")
    assert [c.kind for c in chunks] == ["table_row"] * 3
    header = "地区\t2022年营业收入（亿元）\t2022年增速\t备注"
    assert {c.context for c in chunks} == {header} and {c.heading for c in chunks} == {"重点产业"}
    assert [c.text for c in chunks] == ["南昌\t1200.5\t11.4%\t省会", "景德镇\t500\t0.08\t", "景德镇\t300\t0.05\t陶瓷"]
    assert "2022年营业收入（亿元）" in chunks[0].index_text("产业表")  # the header is embedded with each row


def test_xlsx_sheets_are_sections_and_empty_sheets_are_skipped() -> None:
    def build(wb) -> None:
        a = wb.active
        a.title = "南昌"
        a.append(["指标", "数值"])
        a.append(["工业投资增速", "15.2%"])
        a.append(["规上工业增加值增速", "11.4%"])
        wb.create_sheet("空表")
        b = wb.create_sheet("赣州")
        b.append(["指标", "数值"])
        b.append(["地区生产总值", "4606.2亿元"])
        b.append(["增速", "4.1%"])

    chunks = _rows(_xlsx(build), "指标.xlsx")
    assert [(c.heading, c.text) for c in chunks] == [
        ("南昌", "工业投资增速\t15.2%"),
        ("南昌", "规上工业增加值增速\t11.4%"),
        ("赣州", "地区生产总值\t4606.2亿元"),
        ("赣州", "增速\t4.1%"),
    ]


def test_csv_in_gbk_with_semicolons() -> None:
    data = "城市;人口（万人）;备注\n南昌;656.8;省会\n赣州;897;\n".encode("gbk")
    chunks = _rows(data, "人口.csv")
    assert [(c.context, c.text) for c in chunks] == [
        ("城市\t人口（万人）\t备注", "南昌\t656.8\t省会"),
        ("城市\t人口（万人）\t备注", "赣州\t897\t"),
    ]


def test_spreadsheet_budgets_name_the_file() -> None:
    rows10 = IngestLimits(max_table_rows=10)
    csv_rows = "a,b\n" + "".join(f"{i},x\n" for i in range(11))
    with pytest.raises(TooLarge, match="big.csv.*10 rows.*RAG_MAX_TABLE_ROWS"):
        read_bytes(csv_rows.encode(), "big.csv", limits=rows10)
    read_bytes(("a,b\n" + "".join(f"{i},x\n" for i in range(10))).encode(), "ok.csv", limits=rows10)  # worst allowed

    def build(wb) -> None:
        for i in range(30):
            wb.active.append([f"r{i}", i])

    with pytest.raises(TooLarge, match="big.xlsx"):
        read_bytes(_xlsx(build), "big.xlsx", limits=rows10)
    with pytest.raises(TooLarge, match="sheets.xlsx: 3 sheets"):
        read_bytes(
            _xlsx(lambda wb: [wb.create_sheet(f"s{i}") for i in range(2)]),
            "sheets.xlsx",
            limits=IngestLimits(max_table_sheets=2),
        )


def test_zip_bombs_and_wrong_containers_are_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", b"\0" * (2 << 20))  # 2 MB of zeros in ~2 KB
    with pytest.raises(TooLarge, match="bomb.xlsx: .*uncompressed"):
        read_bytes(buf.getvalue(), "bomb.xlsx", limits=IngestLimits(max_ooxml_unzipped_bytes=1 << 20))
    docx_like = io.BytesIO()
    with zipfile.ZipFile(docx_like, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnsupportedFormat, match="slides.pptx: not a PowerPoint .pptx presentation"):
        read_bytes(docx_like.getvalue(), "slides.pptx")
    with pytest.raises(UnsupportedFormat, match="table.xlsx: .*PDF"):
        read_bytes(b"%PDF-1.4\n" + bytes(100), "table.xlsx")
    with pytest.raises(UnsupportedFormat, match="secret.xlsx: .*加密.*另存为 .xlsx"):
        read_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "secret.xlsx")


def _pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[1])
    s.shapes.title.text = "南昌产业概况"
    s.placeholders[1].text = "2021年规模以上工业增加值增长11.4%。\n电子信息产业营收突破2000亿元。"
    s = prs.slides.add_slide(prs.slide_layouts[5])
    s.shapes.title.text = "景德镇陶瓷"
    t = s.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "产业", (0, 1): "营业收入", (1, 0): "陶瓷", (1, 1): "500亿元"}.items():
        t.cell(r, c).text = text
    s = prs.slides.add_slide(prs.slide_layouts[6])  # blank layout: no title
    group = s.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(3), Inches(5), Inches(1)).text_frame.text = "下方的文字。"
    s.shapes.add_textbox(Inches(1), Inches(1), Inches(5), Inches(1)).text_frame.text = "上方的文字。"
    s.notes_slide.notes_text_frame.text = "演讲者备注：宜春锂电。"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def test_pptx_one_passage_group_per_slide_with_slide_numbers() -> None:
    [doc] = read_bytes(_pptx(), "汇报.pptx")
    assert doc.title == "南昌产业概况" and doc.meta["page_count"] == 3
    assert [p[2] for p in doc.meta["pages"]] == [1, 2, 3]
    chunks = chunk_document(doc, ChunkParams())
    got = [(c.page, c.heading, c.kind, c.text) for c in chunks]
    assert got == [
        (1, "南昌产业概况", "text", "2021年规模以上工业增加值增长11.4%。\n电子信息产业营收突破2000亿元。"),
        (2, "景德镇陶瓷", "table_row", "陶瓷\t500亿元"),
        (3, "幻灯片 3", "text", "上方的文字。\n\n下方的文字。\n\n演讲者备注：宜春锂电。"),
    ]
    assert chunks[1].context == "产业\t营业收入"
    for c in chunks:  # no passage straddles two slides
        s, e, _ = next(p for p in doc.meta["pages"] if p[2] == c.page)
        assert s <= c.start and c.end <= e


@pytest.mark.parametrize(
    ("name", "save_as"),
    [
        ("通知.doc", ".docx 或 PDF"),
        ("通知.wps", ".docx 或 PDF"),
        ("报表.xls", ".xlsx 或 .csv"),
        ("汇报.ppt", ".pptx 或 PDF"),
    ],
)
def test_legacy_office_files_are_refused_in_chinese(name: str, save_as: str) -> None:
    with pytest.raises(UnsupportedFormat) as e:
        read_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), name)
    assert e.value.status == 415 and e.value.message.startswith(name) and f"另存为 {save_as}" in e.value.message


def test_images_are_sniffed_before_any_ocr() -> None:
    with pytest.raises(UnsupportedFormat, match="scan.png: not a PNG, JPEG or TIFF"):
        read_bytes(b"%PDF-1.4\n" + bytes(100), "scan.png")
    with pytest.raises(UnsupportedFormat, match="scan.jpg: not a readable image"):
        read_bytes(b"\xff\xd8\xff" + bytes(100), "scan.jpg")
    with pytest.raises(UnsupportedFormat, match="photo.csv: the content is a TIFF image"):
        read_bytes(b"II*\x00" + bytes(100), "photo.csv")
    with pytest.raises(BadInput, match="empty.csv: no cells"):
        read_bytes(b",,\n,,\n", "empty.csv")


def test_ocr_page_budget_refuses_a_long_scan_before_any_ocr(monkeypatch) -> None:
    from PIL import Image

    from rag.ingest import ocr
    from tests.unit.test_ingest_formats import PAGE1, make_pdf

    def no_ocr(*a, **k):
        raise AssertionError("OCR ran")

    monkeypatch.setattr(ocr, "ocr_image", no_ocr)
    pages = [Image.new("RGB", (300, 200), "white") for _ in range(3)]
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:])
    with pytest.raises(TooLarge, match="scan.pdf: 3 scanned pages .* limit of 2 pages"):
        read_bytes(buf.getvalue(), "scan.pdf", limits=IngestLimits(max_ocr_pages=2))
    # pages without text and without images (blank separators) cost nothing and are not OCR'd
    [doc] = read_bytes(make_pdf([PAGE1, [], [], []]), "blank.pdf")
    assert doc.meta["page_count"] == 4 and "ocr_pages" not in doc.meta


def test_image_pixel_budget_is_checked_before_ocr(monkeypatch) -> None:
    import warnings

    from PIL import Image

    from rag.ingest import ocr

    monkeypatch.setattr(ocr, "_ocr", lambda: pytest.fail("OCR ran"))
    default = Image.MAX_IMAGE_PIXELS
    for size in ((150, 100), (300, 100)):  # over our limit; the second also over Pillow's bomb threshold at 2x
        buf = io.BytesIO()
        Image.new("L", size, 255).save(buf, "PNG")
        with warnings.catch_warnings(), pytest.raises(TooLarge, match="big.png: .*10000 pixels"):
            warnings.simplefilter("ignore")
            read_bytes(buf.getvalue(), "big.png", limits=IngestLimits(max_ocr_pixels=10_000))
    assert Image.MAX_IMAGE_PIXELS == default  # Pillow's process-wide setting is restored


def test_slide_and_shape_budgets_are_settings_that_name_the_file() -> None:
    from rag.config import Settings

    data = _pptx()
    n = len(read_bytes(data, "汇报.pptx")[0].meta["pages"])
    with pytest.raises(TooLarge, match=f"汇报.pptx: {n} slides is over the limit of {n - 1} \\(RAG_MAX_SLIDES\\)"):
        read_bytes(data, "汇报.pptx", limits=IngestLimits.of(Settings(_env_file=None, max_slides=n - 1)))
    read_bytes(data, "汇报.pptx", limits=IngestLimits(max_slides=n))  # the worst allowed file
    with pytest.raises(TooLarge, match="汇报.pptx: more than 1 shapes on one slide \\(RAG_MAX_SLIDE_SHAPES\\)"):
        read_bytes(data, "汇报.pptx", limits=IngestLimits(max_slide_shapes=1))


def test_ocr_time_budget_stops_between_pages(monkeypatch) -> None:
    import time

    from PIL import Image

    from rag.ingest import ocr

    calls: list[int] = []

    def slow_engine(arr):  # a page takes 0.2 s and finds nothing
        calls.append(1)
        time.sleep(0.2)
        return [], None

    monkeypatch.setattr(ocr, "_ocr", lambda: slow_engine)
    pages = [Image.new("RGB", (200, 100), "white") for _ in range(4)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    with pytest.raises(TooLarge, match="scan.tif: OCR took more than 0.3 s .*RAG_MAX_OCR_SECONDS"):
        read_bytes(buf.getvalue(), "scan.tif", limits=IngestLimits(max_ocr_seconds=0.3))
    assert len(calls) == 2  # the page that passed the budget finished; the next was refused before it started
    calls.clear()
    with pytest.raises(BadInput, match="OCR found no text"):  # within the budget every page is read
        read_bytes(buf.getvalue(), "scan.tif", limits=IngestLimits(max_ocr_seconds=5))
    assert len(calls) == 4
