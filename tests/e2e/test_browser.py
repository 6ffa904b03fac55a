"""The chat page in a real Chromium against the real app and index: streaming answer, citations, document view,
upload, delete, refusal, text-only rendering of document text, phone width. Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]

CHROMIUM = Path(os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic"]
HINT = (f"Chromium is not installed at {CHROMIUM}, so the browser tests cannot run (this is a failure, not a skip). "
        "Install it with `make browser` (as root: apt-get install -y chromium fonts-noto-cjk); `.ci/run` installs it on CI. "
        "Set RAG_CHROMIUM to use a Chromium elsewhere.")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
COLL = "browser-test"  # uploads go here, never into the default collection the other tests read
Q_NANCHANG = "2021年南昌规模以上工业增加值增长了多少？"
Q_JDZ = "景德镇陶瓷产业2022年营业收入是多少？"

# Records every state the newest answer goes through, so the test can see it arrive while still streaming.
WATCH = """() => {
  window.__frames = [];
  window.__status = [];
  new MutationObserver(() => {
    const msgs = document.querySelectorAll('.msg.assistant');
    const m = msgs[msgs.length - 1];
    if (m) window.__frames.push([m.classList.contains('streaming'), m.querySelector('.answer').textContent]);
  }).observe(document.getElementById('log'), {subtree: true, childList: true, characterData: true, attributes: true});
  new MutationObserver(() => window.__status.push(document.getElementById('upload-status').textContent))
    .observe(document.getElementById('upload-status'), {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(HINT, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):  # noqa: ANN001, ANN201
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url + "/")
    pg.evaluate(WATCH)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(pg, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def ask(pg, question: str):  # noqa: ANN001, ANN201
    """Type a question, send it, wait for the answer to finish; returns the newest assistant message."""
    n = pg.locator(".msg.assistant").count()
    pg.fill("#question", question)
    pg.click("#send")
    msg = pg.locator(".msg.assistant").nth(n)
    pg.wait_for_function("n => { const m = document.querySelectorAll('.msg.assistant')[n];"
                         " return m && !m.classList.contains('streaming'); }", arg=n)
    assert "error" not in (msg.get_attribute("class") or ""), msg.inner_text()
    return msg


def set_collection(pg, name: str) -> None:  # noqa: ANN001
    pg.fill("#collection", name)
    pg.dispatch_event("#collection", "change")


def upload(pg, files: list[tuple[str, str, bytes]]) -> str:  # noqa: ANN001
    pg.set_input_files("#file-input", [{"name": n, "mimeType": m, "buffer": b} for n, m, b in files])
    status = pg.locator("#upload-status")
    pg.wait_for_function("() => /已索引|失败/.test(document.getElementById('upload-status').textContent)")
    return status.inner_text()


def drop_files(pg, files: list[tuple[str, str]]) -> str:  # noqa: ANN001
    """Drag-and-drop text files onto the drop zone, as a user dragging them from the desktop would."""
    pg.evaluate("""files => {
      const dt = new DataTransfer();
      for (const [name, text] of files) dt.items.add(new File([text], name, {type: 'text/plain'}));
      const zone = document.getElementById('drop');
      zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
      zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [list(f) for f in files])
    pg.wait_for_function("() => /已索引|失败/.test(document.getElementById('upload-status').textContent)")
    return pg.locator("#upload-status").inner_text()


def test_ask_stream_cite_document_upload_delete(page, server) -> None:  # noqa: ANN001
    pg = page
    assert pg.title() == "中文文档问答"
    pg.wait_for_selector("#doc-list .doc-item")
    assert pg.locator("#doc-list .doc-item").count() == 5
    shot(pg, "01-home")

    # 1. the answer streams in, then carries generator, timings and clickable [n]
    msg = ask(pg, Q_NANCHANG)
    frames = pg.evaluate("window.__frames")
    assert any(streaming and text for streaming, text in frames), "no answer text was shown while streaming"
    answer = msg.locator(".answer").inner_text()
    assert "11.4%" in answer and answer.endswith(("11.4%", "。", "]")) and "11.4%" in frames[-1][1]
    assert msg.locator(".meta .generator").inner_text().startswith("回答：")
    assert "总计" in msg.locator(".meta .timings").inner_text()
    assert "unanswerable" not in (msg.get_attribute("class") or "")
    shot(pg, "02-answer")

    # 2. citation [1]: the passage with the quote highlighted
    msg.locator("button.cite", has_text="[1]").first.click()
    panel = pg.locator("#panel")
    assert panel.is_visible()
    assert "11.4%" in pg.locator("#passage mark.quote").inner_text()
    assert pg.locator("#cite-source").inner_text().endswith(".txt")
    shot(pg, "03-citation")

    # 3. the whole document with the cited chunk highlighted and scrolled into view
    pg.click("#open-doc")
    chunk = pg.locator("#doc-text mark.chunk")
    chunk.wait_for()
    assert "11.4%" in chunk.inner_text() and "11.4%" in chunk.locator("mark.quote").inner_text()
    pg.wait_for_function("() => { const r = document.querySelector('#doc-text mark.chunk').getBoundingClientRect();"
                         " const p = document.querySelector('#doc-view').getBoundingClientRect();"
                         " return r.top >= p.top - 1 && r.top < p.bottom; }")
    assert len(pg.locator("#doc-text").inner_text()) > 2 * len(chunk.inner_text())
    shot(pg, "04-document")
    pg.click("#panel-close")

    # 4. upload two files into a separate collection through the file input
    set_collection(pg, COLL)
    pg.wait_for_function("() => document.querySelector('#doc-list').textContent.includes('还没有文档')")
    report = upload(pg, [("jdz.txt", "text/plain", "景德镇陶瓷产业2022年营业收入为500亿元。".encode("gbk")),
                         ("yc.md", "text/markdown", "# 宜春\n\n宜春锂电产业发展良好。".encode())])
    assert "新增 2" in report and COLL in report, report
    assert any("正在索引" in s for s in pg.evaluate("window.__status")), "no 正在索引… while indexing"
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="jdz"]')
    shot(pg, "05-uploaded")

    # 5. the page asks that collection now
    msg = ask(pg, Q_JDZ)
    assert "500亿元" in msg.locator(".answer").inner_text()
    msg.locator("button.cite").first.click()
    assert pg.locator("#cite-source").inner_text() == "jdz.txt"
    shot(pg, "06-answer-from-upload")
    pg.click("#panel-close")

    # 6. delete it through the page (confirm dialog) and the answer is gone
    pg.once("dialog", lambda d: d.accept())
    pg.locator('#doc-list .doc-item[data-doc-id="jdz"] button.delete').click()
    pg.wait_for_function("() => document.getElementById('upload-status').textContent.includes('已删除')")
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="yc"]')  # the list reloaded
    assert pg.locator("#doc-list .doc-item").count() == 1
    shot(pg, "07-deleted")
    msg = ask(pg, Q_JDZ)
    assert "unanswerable" in (msg.get_attribute("class") or "")
    assert msg.locator(".notfound").inner_text() == "文档中没有找到答案"
    assert "500亿元" not in msg.inner_text() and msg.locator("button.cite").count() == 0
    shot(pg, "08-not-found")

    # 7. a new conversation forgets the history
    assert pg.locator(".msg").count() == 6
    pg.click("#new-chat")
    assert pg.locator(".msg").count() == 0


def test_history_is_sent_and_errors_are_shown(page) -> None:  # noqa: ANN001
    pg = page
    sent: list[dict] = []
    pg.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/ask") else None)
    first = ask(pg, Q_NANCHANG)
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first.locator("button.copy").click()
    pg.wait_for_function("() => document.querySelector('.msg.assistant button.copy').textContent === '已复制'")
    assert pg.evaluate("navigator.clipboard.readText()") == first.locator(".answer").inner_text()
    ask(pg, "2021年南昌工业投资同比增长多少？")
    assert sent[0]["history"] == [] and sent[0]["stream"] is True and sent[0]["generator"] is None
    assert sent[0]["collection"] == "default"
    assert [t["role"] for t in sent[1]["history"]] == ["user", "assistant"] and sent[1]["history"][0]["content"] == Q_NANCHANG
    # an error response is shown, not swallowed
    pg.evaluate("() => { const o = document.createElement('option'); o.value = o.textContent = 'gpt-9';"
                " document.getElementById('generator').append(o); }")
    pg.select_option("#generator", "gpt-9")
    n = pg.locator(".msg.assistant").count()
    pg.fill("#question", "南昌")
    pg.click("#send")
    err = pg.locator(".msg.assistant").nth(n)
    pg.wait_for_function("n => document.querySelectorAll('.msg.assistant')[n].classList.contains('error')", arg=n)
    assert "出错了" in err.inner_text() and "gpt-9" in err.inner_text()
    shot(pg, "09-error")


def test_document_text_is_never_markup(page) -> None:  # noqa: ANN001
    pg = page
    set_collection(pg, COLL)
    evil = "<script>window.__pwned=1</script>"
    row = {"_id": "xss", "title": "<img src=x onerror=window.__pwned=1>恶意标题",
           "text": f"鄱阳湖越冬候鸟数量2023年达到70万只。{evil}<img src=x onerror=\"window.__pwned=1\">这段文字应当原样显示。"}
    # a BEIR line keeps its text verbatim (a .txt with raw tags would be cleaned as HTML and lose the <script>)
    report = drop_files(pg, [("xss.jsonl", json.dumps(row, ensure_ascii=False) + "\n")])
    assert "已索引" in report and "新增 1" in report, report
    item = pg.locator('#doc-list .doc-item[data-doc-id="xss"]')
    assert "<img src=x" in item.locator(".doc-open").inner_text()
    msg = ask(pg, "鄱阳湖越冬候鸟数量2023年达到多少？")
    assert "70万只" in msg.locator(".answer").inner_text()
    msg.locator("button.cite").first.click()
    assert evil in pg.locator("#passage").inner_text()
    pg.click("#open-doc")
    pg.locator("#doc-text mark.chunk").wait_for()
    text = pg.locator("#doc-text").inner_text()
    assert evil in text and "<script>" in text
    assert pg.locator("#doc-text script, #doc-text img, #passage script, #doc-list img, .answer script").count() == 0
    pg.wait_for_timeout(300)  # give an injected onerror handler the time it would need to fire
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    shot(pg, "10-script-as-text")


def test_phone_width(browser, server) -> None:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN", is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(server.url + "/")
        for sel in ("#question", "#send", "#new-chat"):
            box = pg.locator(sel).bounding_box()
            assert pg.locator(sel).is_visible() and box is not None, sel
            assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 800, (sel, box)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 375
        shot(pg, "11-phone")
        msg = ask(pg, Q_NANCHANG)
        msg.locator("button.cite").first.click()
        box = pg.locator("#panel").bounding_box()
        assert box is not None and box["width"] <= 375 and box["y"] + box["height"] <= 800
        assert "11.4%" in pg.locator("#passage mark.quote").inner_text()
        shot(pg, "12-phone-citation")
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        ctx.close()


def test_pdf_upload_cites_its_page(page) -> None:  # noqa: ANN001
    from tests.unit.test_ingest_formats import make_pdf

    pg = page
    set_collection(pg, "browser-pdf")
    # page 1 is long enough to fill a passage and ends with a sentence too long to be carried over, so page 2 starts one
    filler = [f"Section {i} of the Nanchang annual industry report describes local manufacturing output in detail." for i in range(4)]
    pdf = make_pdf([filler, ["Ceramics output in Jingdezhen reached 50 billion yuan in 2022.", "Second page ends here."]])
    report = upload(pg, [("report.pdf", "application/pdf", pdf)])
    assert "新增 1" in report, report
    item = pg.locator('#doc-list .doc-item[data-doc-id="report"]')
    assert "2 页" in item.locator(".doc-info").inner_text() and item.locator(".doc-open").inner_text() == "report"
    msg = ask(pg, "How much did ceramics output in Jingdezhen reach in 2022?")
    assert "50 billion yuan" in msg.locator(".answer").inner_text()
    msg.locator("button.cite").first.click()
    assert pg.locator("#cite-source").inner_text() == "report.pdf（第 2 页）"
    shot(pg, "13-pdf-page")


def test_file_names_are_text_and_the_csp_blocks_inline_scripts(page, server) -> None:  # noqa: ANN001
    import httpx

    pg = page
    csp = httpx.get(server.url + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    violations = pg.evaluate("""() => { window.__violations = [];
      document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      return typeof window.__inline; }""")
    assert violations == "undefined"  # the browser refused the inline script
    pg.wait_for_function("() => window.__violations.some(v => v.startsWith('script-src'))")
    set_collection(pg, "browser-names")
    name = "<img src=x onerror=window.__pwned=1>报告.txt"
    report = drop_files(pg, [(name, "抚州2022年粮食总产量为55亿斤。")])
    assert "新增 1" in report, report
    item = pg.locator("#doc-list .doc-item").first
    item.wait_for()
    assert name in item.inner_text()  # the name as text, not an <img>
    assert pg.locator("#doc-list img").count() == 0
    pg.wait_for_timeout(300)
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    shot(pg, "14-file-name-as-text")
