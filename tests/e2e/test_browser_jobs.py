"""Upload jobs in a real Chromium against the real app, model and index: 20 files at once become a background job
whose progress bar moves, survives a reload, and finishes; a query then finds the last file; failed files are listed
with their reason; a scanned PDF (OCR) and an .xlsx each answer a question. Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import io
import json
import time
import uuid

import pytest

from tests.e2e.test_browser import ask, browser, page, set_collection, shot  # noqa: F401 - fixtures and helpers

pytestmark = [pytest.mark.browser, pytest.mark.model]

CITIES = ["南昌", "赣州", "九江", "宜春", "上饶", "吉安", "抚州", "景德镇", "萍乡", "新余", "鹰潭"]


def _files(run: str, n: int = 20) -> list[dict]:
    """n different documents of a few passages each (a fresh run id, so nothing comes from the embedding cache)."""
    out = []
    for i in range(n):
        paras = [
            f"第{i + 1}号材料（{run}）第{k}节：{CITIES[(i + k) % len(CITIES)]}市"
            f"第{k + 1}批重点项目共{i * 7 + k + 3}个，"
            f"总投资{i * 13 + k * 5 + 20}亿元，其中先进制造业项目{i + k + 2}个，预计{2024 + k % 3}年全部建成投产，"
            f"新增就业岗位{(i + 1) * (k + 2) * 37}个，带动上下游配套企业{i * 3 + k + 11}家。"
            for k in range(6)
        ]
        if i == n - 1:
            paras.append(
                f"特别说明（{run}）：鹰潭市铜基新材料产业园的智能化改造示范工厂编号为YT-{run}，由最后一份材料记录。"
            )
        out.append({"name": f"材料{i + 1:02d}.txt", "mimeType": "text/plain", "buffer": "\n\n".join(paras).encode()})
    return out


def _job(pg) -> dict:
    return pg.evaluate("""() => { const r = document.querySelector('#jobs .job');
      return r ? {id: r.dataset.jobId, state: r.dataset.state, stage: r.dataset.stage,
                  value: r.querySelector('.job-bar').value,
                  text: r.querySelector('.job-text').textContent} : null; }""")


def test_twenty_files_as_a_job_progress_reload_finish_and_search(page, server) -> None:  # noqa: F811
    pg = page
    coll = "browser-jobs"
    set_collection(pg, coll)
    run = uuid.uuid4().hex[:8]
    pg.set_input_files("#file-input", _files(run))
    pg.wait_for_selector("#jobs .job")
    first = _job(pg)
    assert first["state"] in ("queued", "running"), first
    stored = pg.evaluate("() => JSON.parse(localStorage.getItem('rag.jobs'))")
    assert [j["id"] for j in stored] == [first["id"]]

    # the bar moves while the passages are embedded
    values, deadline = [], time.monotonic() + 600
    while time.monotonic() < deadline:
        j = _job(pg)
        values.append(j["value"])
        if j["stage"] == "embedding" and len(set(v for v in values if v > 15)) >= 2:
            break
        assert j["state"] in ("queued", "running"), j
        pg.wait_for_timeout(200)
    assert values == sorted(values) and values[-1] > values[0], values
    assert "段/秒" in j["text"] or "段落" in j["text"], j["text"]
    shot(pg, "20-job-progress")

    # a reload mid-job finds the job again from localStorage and goes on showing it
    before = _job(pg)["value"]
    pg.reload()
    pg.wait_for_selector(f'#jobs .job[data-job-id="{first["id"]}"]')
    pg.wait_for_function(
        "v => { const b = document.querySelector('#jobs .job .job-bar'); return b && b.value >= v; }", arg=before
    )
    pg.wait_for_function("() => document.querySelector('#jobs .job').dataset.state === 'done'", timeout=600_000)
    done = _job(pg)
    assert done["value"] == 100 and "新增 20" in done["text"], done
    assert pg.evaluate("() => JSON.parse(localStorage.getItem('rag.jobs'))") == []
    pg.wait_for_function("() => document.getElementById('doc-count').textContent.includes('20')")
    shot(pg, "21-job-done")

    r = pg.request.post(
        server.url + "/search",
        data=json.dumps({"query": f"智能化改造示范工厂编号YT-{run}", "collection": coll, "top_k": 3}),
        headers={"Content-Type": "application/json"},
    )
    hits = r.json()["results"]
    assert hits[0]["source"] == "材料20.txt" and f"YT-{run}" in hits[0]["text"], hits[:1]


def test_failed_files_are_listed_with_their_reason(page) -> None:  # noqa: F811
    pg = page
    set_collection(pg, "browser-jobs-failed")
    files = [
        {"name": f"好{i}.txt", "mimeType": "text/plain", "buffer": f"抚州市第{i}个项目总投资{i + 3}亿元。".encode()}
        for i in range(4)
    ]
    files += [
        {
            "name": "旧通知.doc",
            "mimeType": "application/msword",
            "buffer": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        },
        {"name": "照片.txt", "mimeType": "text/plain", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(600)},
    ]
    pg.set_input_files("#file-input", files)
    pg.wait_for_function(
        "() => { const r = document.querySelector('#jobs .job'); return r && r.dataset.state === 'failed'; }",
        timeout=120_000,
    )
    listed = pg.locator("#jobs .job .job-failed-file").all_inner_texts()
    assert len(listed) == 2 and listed[0].startswith("旧通知.doc: 不支持旧版") and "另存为 .docx 或 PDF" in listed[0], (
        listed
    )
    assert listed[1].startswith("照片.txt: ") and "PNG" in listed[1]
    assert "索引失败：2 个文件无法读取" in pg.locator("#jobs .job .job-text").inner_text()
    shot(pg, "22-job-failed-files")


def test_a_scanned_pdf_and_a_spreadsheet_answer_questions(page) -> None:  # noqa: F811
    from openpyxl import Workbook

    from tests.e2e.test_ocr import render

    wb = Workbook()
    ws = wb.active
    ws.title = "重点产业"
    ws.append(["城市", "产业", "2022年", None])
    ws.append([None, None, "营业收入（亿元）", "同比增长"])
    for rng in ("C1:D1", "A1:A2", "B1:B2"):
        ws.merge_cells(rng)
    for row in (
        ["抚州", "汽车及零部件", 321.5, "9.8%"],
        ["上饶", "光伏新能源", 612.8, "35.2%"],
        ["萍乡", "工业陶瓷", 287.3, "7.1%"],
    ):
        ws.append(row)
    xlsx = io.BytesIO()
    wb.save(xlsx)
    scan = io.BytesIO()
    render(
        "吉安市电子信息产业加快发展。2022年，吉安市电子信息产业实现营业收入1580亿元，同比增长18.3%，规模以上电子信息"
        "企业达到356家，成为全市第一个千亿产业。"
    ).convert("RGB").save(scan, "PDF", resolution=150)

    pg = page
    set_collection(pg, "browser-office")
    pg.set_input_files(
        "#file-input",
        [
            {
                "name": "产业数据.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": xlsx.getvalue(),
            },
            {"name": "吉安扫描件.pdf", "mimeType": "application/pdf", "buffer": scan.getvalue()},
        ],
    )
    # a small upload answers at once, or becomes a job if it takes longer: either way both documents arrive
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="产业数据"]', timeout=300_000)
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="吉安扫描件"]', timeout=300_000)
    assert "1 页" in pg.locator('#doc-list .doc-item[data-doc-id="吉安扫描件"] .doc-info').inner_text()

    msg = ask(pg, "上饶光伏新能源产业2022年营业收入是多少？")
    assert "612.8" in msg.locator(".answer").inner_text()
    msg.locator("button.cite").first.click()
    assert pg.locator("#cite-source").inner_text() == "产业数据.xlsx"
    pg.click("#panel-close")

    msg = ask(pg, "吉安市电子信息产业2022年营业收入是多少？")
    assert "1580亿元" in msg.locator(".answer").inner_text()
    msg.locator("button.cite").first.click()
    assert pg.locator("#cite-source").inner_text() == "吉安扫描件.pdf（第 1 页）"
    shot(pg, "23-scan-and-xlsx-answers")


def test_a_deletion_during_an_upload_job_queues_behind_it(page) -> None:  # noqa: F811
    """Deleting a document while a job indexes its collection: the page does not fail with 409, it queues the
    deletion as a job of its own (shown in the job list) that runs once the upload has finished."""
    from tests.e2e.test_browser import upload

    pg = page
    set_collection(pg, "browser-jobs-delete")
    assert "已索引" in upload(pg, [("旧通知.txt", "text/plain", "鹰潭市2021年铜产业营收1500亿元。".encode())])
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="旧通知"]')
    pg.set_input_files("#file-input", _files(uuid.uuid4().hex[:8]))
    pg.wait_for_function(
        "() => { const r = document.querySelector('#jobs .job');"
        " return r && r.dataset.state === 'running' && ['chunking', 'embedding'].includes(r.dataset.stage); }",
        timeout=120_000,
    )
    delete = '#doc-list .doc-item[data-doc-id="旧通知"] button.delete'
    # refreshing the listed collection keeps an unchanged row's elements: a click is not lost to a redraw
    assert pg.evaluate(
        "async (sel) => { const b = document.querySelector(sel); await loadDocuments();"
        " return b.isConnected && b === document.querySelector(sel); }",
        delete,
    )
    fired = []
    pg.once("dialog", lambda d: (fired.append(d.message), d.accept()))
    # a real mouse click while the job runs; the collection field still has the focus, so the click also blurs it
    pg.locator(delete).click()
    pg.wait_for_function("() => document.querySelectorAll('#jobs .job').length === 2")
    assert fired and "删除" in fired[0]  # the page asked first
    rows = pg.locator("#jobs .job")
    deletion = rows.nth(1)
    assert "删除「旧通知」" in deletion.locator(".job-text").inner_text()
    assert deletion.get_attribute("data-state") == "queued"
    assert "删除已排队" in pg.locator("#upload-status").inner_text()
    shot(pg, "23-job-deletion-queued")
    pg.wait_for_function(
        "() => [...document.querySelectorAll('#jobs .job')].every(r => r.dataset.state === 'done')", timeout=600_000
    )
    assert "已删除「旧通知」" in deletion.locator(".job-text").inner_text()
    pg.wait_for_function("() => document.getElementById('doc-count').textContent.includes('20')")
    assert pg.locator('#doc-list .doc-item[data-doc-id="旧通知"]').count() == 0
    assert "删除失败" not in pg.locator("#upload-status").inner_text()
    shot(pg, "24-job-deletion-done")
