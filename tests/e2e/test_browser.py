"""The chat page in a real Chromium against the real app and index: streaming answer, citations, document view,
upload, delete, refusal, text-only rendering of document text, phone width. Screenshots: artifacts/screenshots/."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]

CHROMIUM = Path(os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HINT = (
    f"Chromium is not installed at {CHROMIUM}, so the browser tests cannot run (this is a failure, not a skip). "
    "Install it with `make browser` (as root: apt-get install -y chromium fonts-noto-cjk); "
    "`.ci/run` installs it on CI. "
    "Set RAG_CHROMIUM to use a Chromium elsewhere."
)
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


@contextmanager
def open_page(browser, width: int, height: int, **context):
    """A page in its own Chinese-locale context; the test fails on any JavaScript error the page raised."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", **context)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        ctx.close()


@pytest.fixture
def page(browser, server):
    with open_page(browser, 1280, 860) as pg:
        pg.goto(server.url + "/")
        pg.evaluate(WATCH)
        yield pg


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def ask(pg, question: str):
    """Type a question, send it, wait for the answer to finish; returns the newest assistant message."""
    n = pg.locator(".msg.assistant").count()
    pg.fill("#question", question)
    pg.click("#send")
    msg = pg.locator(".msg.assistant").nth(n)
    pg.wait_for_function(
        "n => { const m = document.querySelectorAll('.msg.assistant')[n];"
        " return m && !m.classList.contains('streaming'); }",
        arg=n,
    )
    assert "error" not in (msg.get_attribute("class") or ""), msg.inner_text()
    return msg


def set_collection(pg, name: str) -> None:
    pg.fill("#collection", name)
    pg.dispatch_event("#collection", "change")


def upload(pg, files: list[tuple[str, str, bytes]]) -> str:
    pg.set_input_files("#file-input", [{"name": n, "mimeType": m, "buffer": b} for n, m, b in files])
    status = pg.locator("#upload-status")
    pg.wait_for_function("() => /已索引|失败/.test(document.getElementById('upload-status').textContent)")
    return status.inner_text()


def drop_files(pg, files: list[tuple[str, str]]) -> str:
    """Drag-and-drop text files onto the drop zone, as a user dragging them from the desktop would."""
    pg.evaluate(
        """files => {
      const dt = new DataTransfer();
      for (const [name, text] of files) dt.items.add(new File([text], name, {type: 'text/plain'}));
      const zone = document.getElementById('drop');
      zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
      zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""",
        [list(f) for f in files],
    )
    pg.wait_for_function("() => /已索引|失败/.test(document.getElementById('upload-status').textContent)")
    return pg.locator("#upload-status").inner_text()


def test_ask_stream_cite_document_upload_delete(page, server) -> None:
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
    assert msg.locator(".meta .generator").inner_text() == "回答：快速（摘录原文）"
    msg.locator(".details summary").click()  # the timings sit behind 详情, with units
    timings = msg.locator(".meta .timings").inner_text()
    assert "总计" in timings and ("毫秒" in timings or "秒" in timings) and " ms" not in timings
    # its sources are listed by document title, not by the hashed file name
    chips = msg.locator(".cite-chip").all_inner_texts()
    assert chips and not any(re.search(r"\d+_[0-9a-f]{8,}", t) for t in chips), chips
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
    pg.wait_for_function(
        "() => { const r = document.querySelector('#doc-text mark.chunk').getBoundingClientRect();"
        " const p = document.querySelector('#doc-view').getBoundingClientRect();"
        " return r.top >= p.top - 1 && r.top < p.bottom; }"
    )
    assert len(pg.locator("#doc-text").inner_text()) > 2 * len(chunk.inner_text())
    shot(pg, "04-document")
    pg.click("#panel-close")

    # 4. upload two files into a separate collection through the file input
    set_collection(pg, COLL)
    pg.wait_for_function("() => document.querySelector('#doc-list').textContent.includes('还没有文档')")
    report = upload(
        pg,
        [
            ("jdz.txt", "text/plain", "景德镇陶瓷产业2022年营业收入为500亿元。".encode("gbk")),
            ("yc.md", "text/markdown", "# 宜春\n\n宜春锂电产业发展良好。".encode()),
        ],
    )
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
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="jdz"]', state="detached")  # the list reloaded
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="yc"]')
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


def test_history_is_sent_and_errors_are_shown(page) -> None:
    pg = page
    sent: list[dict] = []
    pg.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/ask") else None)
    first = ask(pg, Q_NANCHANG)
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first.locator("button.copy").click()
    pg.wait_for_function("() => document.querySelector('.msg.assistant button.copy').textContent === '已复制'")
    copied = pg.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(first.locator(".answer").inner_text().strip()) and "\n\n来源：\n[1] " in copied
    assert "「" in copied  # each source with its quote
    ask(pg, "2021年南昌工业投资同比增长多少？")
    assert sent[0]["history"] == [] and sent[0]["stream"] is True and sent[0]["generator"] is None
    assert sent[0]["collection"] == "default"
    assert [t["role"] for t in sent[1]["history"]] == ["user", "assistant"] and sent[1]["history"][0][
        "content"
    ] == Q_NANCHANG
    # an error response is shown, not swallowed
    pg.evaluate(
        "() => { const o = document.createElement('option'); o.value = o.textContent = 'gpt-9';"
        " document.getElementById('generator').append(o); }"
    )
    pg.select_option("#generator", "gpt-9")
    n = pg.locator(".msg.assistant").count()
    pg.fill("#question", "南昌")
    pg.click("#send")
    err = pg.locator(".msg.assistant").nth(n)
    pg.wait_for_function("n => document.querySelectorAll('.msg.assistant')[n].classList.contains('error')", arg=n)
    assert "出错了：输入有误" in err.inner_text() and "gpt-9" in err.inner_text()
    shot(pg, "09-error")


def test_document_text_is_never_markup(page) -> None:
    pg = page
    set_collection(pg, COLL)
    evil = "<script>window.__pwned=1</script>"
    row = {
        "_id": "xss",
        "title": "<img src=x onerror=window.__pwned=1>恶意标题",
        "text": f"鄱阳湖越冬候鸟数量2023年达到70万只。{evil}"
        '<img src=x onerror="window.__pwned=1">这段文字应当原样显示。',
    }
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


def test_phone_width(browser, server) -> None:
    with open_page(browser, 375, 800, is_mobile=True, has_touch=True) as pg:
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


def test_pdf_upload_cites_its_page(page) -> None:
    from tests.unit.test_ingest_formats import make_pdf

    pg = page
    set_collection(pg, "browser-pdf")
    # page 1 is long enough to fill a passage and ends with a sentence too long to be carried over, so page 2 starts one
    filler = [
        f"Section {i} of the Nanchang annual industry report describes local manufacturing output in detail."
        for i in range(4)
    ]
    pdf = make_pdf(
        [filler, ["Ceramics output in Jingdezhen reached 50 billion yuan in 2022.", "Second page ends here."]]
    )
    report = upload(pg, [("report.pdf", "application/pdf", pdf)])
    assert "新增 1" in report, report
    item = pg.locator('#doc-list .doc-item[data-doc-id="report"]')
    assert "2 页" in item.locator(".doc-info").inner_text() and item.locator(".doc-open").inner_text() == "report"
    msg = ask(pg, "How much did ceramics output in Jingdezhen reach in 2022?")
    assert "50 billion yuan" in msg.locator(".answer").inner_text()
    msg.locator("button.cite").first.click()
    assert pg.locator("#cite-source").inner_text() == "report.pdf（第 2 页）"
    shot(pg, "13-pdf-page")


def test_file_names_are_text_and_the_csp_blocks_inline_scripts(page, server) -> None:
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


# ---------------------------------------------------------------------------------------------- issue 16

Q_GANZHOU = "2021年南昌工业投资同比增长多少？"


def saved(pg, n: int) -> None:
    """Wait until the conversation list shows n saved conversations."""
    pg.wait_for_function("n => document.querySelectorAll('#conv-list .conv-item').length === n", arg=n)


def hold_first_ask(pg) -> list:
    """The first /ask request waits (as a slow answer would) until the test lets it through; later ones pass."""
    held: list = []
    pg.route("**/ask", lambda r: held.append(r) if not held else r.continue_())
    return held


def test_conversations_are_saved_reloaded_renamed_exported_and_deleted(browser, server) -> None:
    with open_page(browser, 1366, 800) as pg:
        pg.goto(server.url + "/")
        before = pg.evaluate("fetch('/conversations').then(r => r.json()).then(b => b.conversations.length)")
        ask(pg, Q_NANCHANG)
        saved(pg, before + 1)
        first = pg.locator("#conv-list .conv-item.current")
        assert (
            Q_NANCHANG in first.locator(".conv-title").inner_text()
            and "今天" in first.locator(".conv-date").inner_text()
        )
        # a reload brings the conversation back, answer, sources and all
        pg.reload()
        pg.wait_for_selector(".msg.assistant .cite-chip")
        assert "11.4%" in pg.locator(".msg.assistant .answer").inner_text()
        assert pg.locator(".msg.user .bubble").inner_text() == Q_NANCHANG
        # a second conversation beside it
        pg.click("#new-chat")
        assert pg.locator(".msg").count() == 0
        ask(pg, Q_GANZHOU)
        saved(pg, before + 2)
        shot(pg, "15-two-conversations")
        # a colleague's browser (same server, no key) sees both
        other = pg.context.browser.new_context(locale="zh-CN").new_page()
        other.goto(server.url + "/")
        other.wait_for_function("n => document.querySelectorAll('#conv-list .conv-item').length === n", arg=before + 2)
        other.context.close()
        # switch back to the first, rename it
        pg.locator("#conv-list .conv-item", has_text=Q_NANCHANG).first.locator(".conv-open").click()
        pg.wait_for_function("q => document.querySelector('.msg.user .bubble')?.textContent === q", arg=Q_NANCHANG)
        pg.once("dialog", lambda d: d.accept("南昌工业增长"))
        pg.locator("#conv-list .conv-item.current .conv-rename").click()
        pg.wait_for_function(
            "() => document.querySelector('#conv-list .conv-item.current .conv-title').textContent === '南昌工业增长'"
        )
        # export Markdown (with its sources) and JSON
        with pg.expect_download() as dl:
            pg.click("#export-md")
        md = Path(dl.value.path()).read_text(encoding="utf-8")
        assert (
            md.startswith("# 南昌工业增长") and f"## 问：{Q_NANCHANG}" in md and "11.4%" in md and "来源：\n[1] " in md
        )
        with pg.expect_download() as dl:
            pg.click("#export-json")
        body = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        assert [m["role"] for m in body["messages"]] == ["user", "assistant"] and body["messages"][1]["answer"][
            "citations"
        ]
        # delete it (the confirmation names it): the list and the page forget it
        msgs: list[str] = []
        pg.once("dialog", lambda d: (msgs.append(d.message), d.accept()))
        pg.locator("#conv-list .conv-item.current .conv-delete").click()
        saved(pg, before + 1)
        assert "南昌工业增长" in msgs[0] and pg.locator(".msg").count() == 0


def test_new_conversation_while_an_answer_is_running_starts_clean(page) -> None:
    pg = page
    sent: list[dict] = []
    pg.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/ask") else None)
    held = hold_first_ask(pg)
    pg.fill("#question", Q_NANCHANG)
    pg.click("#send")
    pg.wait_for_function("() => document.querySelector('.msg.assistant .stage')?.textContent === '正在检索…'")
    while not held:
        pg.wait_for_timeout(50)
    assert pg.locator("#stop").is_visible()
    pg.click("#new-chat")  # while the first answer is still on its way
    assert pg.locator(".msg").count() == 0 and not pg.locator("#stop").is_visible()
    ask(pg, "那赣州呢？")
    assert (
        sent[-1]["question"] == "那赣州呢？" and sent[-1]["history"] == []
    )  # nothing leaked from the other conversation
    held[0].continue_()
    # the first conversation gets its answer, saved, though it is no longer on screen
    pg.wait_for_function(
        "q => [...document.querySelectorAll('#conv-list .conv-title')].some(t => t.textContent.includes(q))",
        arg=Q_NANCHANG,
    )
    assert "11.4%" not in pg.locator("#log").inner_text()
    pg.locator("#conv-list .conv-item", has_text=Q_NANCHANG).first.locator(".conv-open").click()
    pg.wait_for_function("q => document.querySelector('.msg.user .bubble')?.textContent === q", arg=Q_NANCHANG)
    assert "11.4%" in pg.locator(".msg.assistant .answer").inner_text()


def test_stop_regenerate_edit_and_enter_while_running(page) -> None:
    pg = page
    held = hold_first_ask(pg)
    pg.fill("#question", Q_NANCHANG)
    pg.press("#question", "Enter")
    while not held:
        pg.wait_for_timeout(50)
    # Enter while it runs: the question waits its turn, and the page says so
    pg.fill("#question", Q_GANZHOU)
    pg.press("#question", "Enter")
    assert "完成后自动发送" in pg.locator("#ask-note").inner_text()
    pg.locator("#ask-note button", has_text="取消").click()  # changed my mind: the question is back in the box
    assert pg.locator("#question").input_value() == Q_GANZHOU
    pg.click("#stop")
    msg = pg.locator(".msg.assistant").first
    pg.wait_for_function("() => !document.querySelector('.msg.assistant').classList.contains('streaming')")
    assert "已停止生成" in msg.inner_text()
    held[0].abort()
    # regenerate: the stopped answer is replaced by a full one
    pg.locator(".regen").click()
    pg.wait_for_function("() => document.querySelector('.msg.assistant .cite-chip')")
    assert pg.locator(".msg.user").count() == 1 and "11.4%" in pg.locator(".msg.assistant .answer").inner_text()
    # edit and resend: the question and what followed are replaced
    pg.locator(".msg.user .edit").click()
    assert pg.locator("#question").input_value() == Q_NANCHANG and "正在修改" in pg.locator("#ask-note").inner_text()
    pg.fill("#question", Q_GANZHOU)
    pg.press("#question", "Enter")
    pg.wait_for_function("() => document.querySelector('.msg.assistant .cite-chip')")
    assert pg.locator(".msg.user .bubble").all_inner_texts() == [Q_GANZHOU]
    assert "18.7%" in pg.locator(".msg.assistant .answer").inner_text()
    shot(pg, "16-edited")


def test_feedback_is_stored_exported_and_scored_by_rag_eval(page, server, components, tmp_path) -> None:
    import subprocess
    import sys

    import httpx

    pg = page
    msg = ask(pg, Q_NANCHANG)
    msg.locator(".fb-up").click()
    msg.locator(".fb-comment").fill("准确")
    msg.locator(".fb-submit").click()
    msg.locator(".fb-done").wait_for()
    assert msg.locator(".fb-up").get_attribute("aria-pressed") == "true"
    msg = ask(pg, Q_GANZHOU)
    msg.locator(".fb-down").click()
    msg.locator(".fb-correct").fill("18.7%")
    msg.locator(".fb-comment").fill("应当直接给出数字")
    shot(pg, "17-feedback")
    msg.locator(".fb-submit").click()
    msg.locator(".fb-done").wait_for()
    rows = httpx.get(server.url + "/feedback", timeout=30).json()["feedback"]
    up = next(r for r in rows if r["question"] == Q_NANCHANG and r["comment"] == "准确")
    down = next(r for r in rows if r["question"] == Q_GANZHOU and r["correct_answer"] == "18.7%")
    version = components.library.retriever("default").data.version
    assert up["rating"] == "up" and up["generator"] == "extractive" and up["index_version"] == version
    assert up["citations"] and up["query"] and "11.4%" in up["answer"] and down["rating"] == "down"
    # `rag feedback export` writes a QA set, and `rag eval` scores it
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(components.settings.index_dir),
        "RAG_EMBED_CACHE": str(components.settings.embed_cache),
        "RAG_PROMPTS_DIR": str(components.settings.prompts_dir),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    qa = tmp_path / "feedback.jsonl"
    subprocess.run(
        [sys.executable, "-m", "rag.cli", "feedback", "export", "--out", str(qa)], env=env, check=True, timeout=120
    )
    items = [json.loads(x) for x in qa.read_text(encoding="utf-8").splitlines()]
    mine = [it for it in items if it["question"] in (Q_NANCHANG, Q_GANZHOU)]
    assert {it["answer"] for it in mine} >= {"18.7%"} and any("11.4%" in it["answer"] for it in mine)
    assert all(it["evidence"] for it in mine)  # from the cited quotes
    qa.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in mine), encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "eval",
            str(qa),
            "--json",
            "--generator",
            "extractive",
            "--mode",
            "hybrid",
            "--out",
            str(tmp_path / "eval.json"),
        ],
        env=env,
        check=True,
        timeout=600,
        capture_output=True,
        text=True,
    ).stdout
    report = json.loads(out)
    assert report["n"] == len(mine) and report["answers"]["answer_accuracy"] > 0
    assert report["retrieval"]["hybrid"]["hit@5"] > 0


def test_markdown_answer_is_rendered_and_a_hostile_one_is_inert(page) -> None:
    pg = page
    set_collection(pg, "browser-md")
    text = (
        "赣州稀土产业2023年的营业收入达到**800亿元**<img src=x onerror=window.__pwned=1>"
        '[详情](javascript:window.__pwned=1)<a href="javascript:window.__pwned=1">点这里</a>。'
    )
    row = {"_id": "md", "title": "赣州稀土<script>window.__pwned=1</script>", "text": text}
    report = drop_files(pg, [("md.jsonl", json.dumps(row, ensure_ascii=False) + "\n")])
    assert "新增 1" in report, report
    msg = ask(pg, "赣州稀土产业2023年的营业收入达到多少？")
    answer = msg.locator(".answer")
    assert "800亿元" in answer.inner_text() and answer.locator("strong").inner_text() == "800亿元"
    assert msg.locator(".answer img, .answer script, .answer [onerror], .answer iframe").count() == 0
    hrefs = [a.get_attribute("href") or "" for a in answer.locator("a").all()]
    assert not any(h.strip().lower().startswith("javascript") for h in hrefs), hrefs
    for a in answer.locator("a").all():
        a.click()
    pg.wait_for_timeout(300)
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    shot(pg, "18-markdown-inert")


def test_errors_are_plain_chinese_and_the_question_is_kept(browser, components) -> None:
    from rag.api.app import create_app
    from tests.helpers import Server

    ctx = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    try:
        srv = Server(create_app(components.settings, components)).__enter__()
        pg.goto(srv.url + "/")
        # an upload error in Chinese
        set_collection(pg, "browser-errors")
        report = drop_files(pg, [("空.txt", "")])
        assert "上传失败：文件是空的" in report, report
        srv.__exit__(None, None, None)  # the server goes away
        pg.fill("#question", Q_NANCHANG)
        pg.click("#send")
        pg.wait_for_selector(".msg.assistant.error")
        err = pg.locator(".msg.assistant.error")
        assert "无法连接服务器，请稍后重试" in err.inner_text() and "Failed to fetch" not in err.inner_text()
        assert err.locator("button.retry").is_visible()
        assert pg.locator("#question").input_value() == Q_NANCHANG  # what was typed is not lost
        shot(pg, "19-offline")
    finally:
        ctx.close()


def test_keyboard_only_and_deleted_document_citation(page) -> None:
    pg = page
    # Playwright turns on file-chooser interception asynchronously when the first listener is added: added early,
    # so the keyboard's file chooser below is never missed
    pg.on("filechooser", lambda _: None)
    # the question box has the focus on arrival and is the first stop of the tab order
    assert pg.evaluate("document.activeElement.id") == "question"
    first = pg.evaluate("""() => [...document.querySelectorAll(
        'a[href], button, input, select, textarea, summary, [tabindex]')]
      .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length)[0].id""")
    assert first == "question"
    pg.keyboard.type(Q_NANCHANG)
    pg.keyboard.press("Enter")
    pg.wait_for_function("() => document.querySelector('.msg.assistant .cite-chip')")
    # Tab reaches the [1] button; Enter opens the citation; the focus ring is visible
    for _ in range(40):
        pg.keyboard.press("Tab")
        if pg.evaluate("document.activeElement.classList.contains('cite')"):
            break
    assert pg.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    pg.keyboard.press("Enter")
    assert pg.locator("#panel").is_visible() and "11.4%" in pg.locator("#passage mark.quote").inner_text()
    pg.keyboard.press("Escape")
    assert not pg.locator("#panel").is_visible()
    # the drop zone opens the file chooser from the keyboard
    pg.focus("#drop")
    with pg.expect_file_chooser() as fc:
        pg.keyboard.press("Enter")
    assert fc.value.is_multiple()
    # a citation of a document deleted since: said in Chinese
    set_collection(pg, "browser-deleted")
    drop_files(pg, [("jxs.txt", "吉安市2022年井冈蜜柚产量为30万吨。")])
    pg.wait_for_selector('#doc-list .doc-item[data-doc-id="jxs"]')
    msg = ask(pg, "吉安市2022年井冈蜜柚产量是多少？")
    assert "30万吨" in msg.locator(".answer").inner_text()
    msgs: list[str] = []
    pg.once("dialog", lambda d: (msgs.append(d.message), d.accept()))
    pg.locator('#doc-list .doc-item[data-doc-id="jxs"] button.delete').click()
    pg.wait_for_function("() => document.getElementById('upload-status').textContent.includes('已删除')")
    assert (
        "吉安市2022年井冈蜜柚" in msgs[0] and "browser-deleted" in msgs[0]
    )  # the document's title in the confirmation
    msg.locator("button.cite").first.click()
    pg.click("#open-doc")
    pg.wait_for_function("() => document.getElementById('doc-meta').textContent.includes('已从知识库中删除')")


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def axe_violations(pg) -> list[dict]:
    pg.add_script_tag(path=str(AXE))
    res = pg.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in res["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme,viewport", [("light", (1366, 800)), ("dark", (1366, 800)), ("light", (390, 844))])
def test_accessibility_axe_dark_mode_and_phone(browser, server, scheme, viewport) -> None:
    # axe is injected as a script, which the page's CSP would (rightly) refuse: bypassed for this check only
    ctx = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        locale="zh-CN",
        color_scheme=scheme,
        bypass_csp=True,
        is_mobile=viewport[0] < 500,
        has_touch=viewport[0] < 500,
    )
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    try:
        pg.goto(server.url + "/")
        pg.wait_for_selector("#doc-list .doc-item", state="attached")
        tag = f"{scheme}-{viewport[0]}"
        if scheme == "dark":
            bg = pg.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            assert sum(int(x) for x in re.findall(r"\d+", bg)[:3]) < 150, bg
        assert axe_violations(pg) == [], "home"
        assert pg.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        msg = ask(pg, Q_NANCHANG)
        # the finished answer, its sources and 复制 are in view, not under the question box
        copy = msg.locator("button.copy").bounding_box()
        form = pg.locator("#ask-form").bounding_box()
        assert copy and form and copy["y"] + copy["height"] <= form["y"] + 1, (copy, form)
        msg.locator(".details summary").click()
        assert axe_violations(pg) == [], "answer"
        shot(pg, f"20-answer-{tag}")
        msg.locator("button.cite").first.click()
        assert axe_violations(pg) == [], "citation"
        shot(pg, f"21-citation-{tag}")
        # [n] contrast, measured
        ratio = pg.evaluate("""() => {
          const lum = c => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map(v => v / 255)
            .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
            return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
          const b = document.querySelector('button.cite'); const s = getComputedStyle(b);
          const [l1, l2] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
          return (l1 + 0.05) / (l2 + 0.05); }""")
        assert ratio >= 4.5, ratio
    finally:
        ctx.close()


def test_a_saved_conversation_shows_conflicts_and_stays_inert(page, server) -> None:
    """What another client saved through the API is shown by the page: conflicting figures marked 文档说法不一致,
    and hostile text in a saved question, answer or citation rendered as inert text."""
    import httpx

    pg = page
    real = httpx.post(server.url + "/ask", json={"question": Q_NANCHANG}, timeout=60).json()
    evil = "<img src=x onerror=window.__pwned=1>"
    answer = {
        **real,
        "answer": f"总投资为120亿元[1]，另一处写作1000亿元[1]。{evil}<script>window.__pwned=1</script>",
        "conflicts": [
            {
                "subject": "华勤千亿产业基地项目",
                "attribute": "总投资",
                "values": [{"value": "120亿元", "n": 1}, {"value": "10000000万元（即1000亿元）", "n": 1}],
            }
        ],
        "citations": [{**real["citations"][0], "title": evil + "标题"}],
    }
    msgs = [
        {"role": "user", "content": "华勤项目总投资多少？" + evil},
        {"role": "assistant", "content": answer["answer"], "answer": answer},
    ]
    conv = httpx.post(server.url + "/conversations", json={"messages": msgs}, timeout=30).json()
    pg.evaluate("id => localStorage.setItem('rag.conv', id)", conv["id"])
    pg.reload()
    box = pg.locator(".msg.assistant .conflicts")
    box.wait_for()
    assert (
        "文档说法不一致" in box.inner_text()
        and "总投资：120亿元 [1] / 10000000万元（即1000亿元） [1]" in box.inner_text()
    )
    assert evil in pg.locator(".msg.user .bubble").inner_text()  # the question as text
    assert evil in pg.locator(".msg.assistant .cite-chip").first.inner_text()  # the title as text
    assert pg.locator("#log img, #log script").count() == 0
    pg.wait_for_timeout(300)
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    shot(pg, "24-conflicts")


def test_delete_only_for_admins_and_conversations_per_key(browser, components, built_index) -> None:
    from rag.api.app import create_app
    from rag.factory import Components
    from tests.helpers import Server, settings_for

    comp = Components(
        settings_for(built_index, api_keys="reader-key", admin_keys="admin-key"), embedder=components.embedder
    )
    ctx = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    try:
        with Server(create_app(comp.settings, comp)) as srv:
            pg.goto(srv.url + "/")
            pg.wait_for_function(
                "() => document.getElementById('conv-list').textContent.includes('需要正确的 API 密钥')"
            )
            for key, deletable in (("reader-key", False), ("admin-key", True)):
                pg.fill("#api-key", key)
                pg.dispatch_event("#api-key", "change")
                pg.wait_for_function("() => document.querySelectorAll('#doc-list .doc-item').length === 5")
                pg.wait_for_function("() => !document.getElementById('conv-list').textContent.includes('无法')")
                if deletable:  # the page asks /me which key it holds, then redraws the list with 删除
                    pg.wait_for_function("() => document.querySelectorAll('#doc-list button.delete').length === 5")
                assert (pg.locator("#doc-list button.delete").count() == 5) is deletable, key
                if key == "reader-key":
                    ask(pg, Q_NANCHANG)
                    saved(pg, 1)
                else:  # the admin's list does not hold the reader's conversation, nor does the screen
                    pg.wait_for_function(
                        "() => document.getElementById('conv-list').textContent.includes('还没有保存的对话')"
                    )
                    assert pg.locator(".msg").count() == 0
            # the question box grows with its text
            h0 = pg.locator("#question").bounding_box()["height"]
            pg.fill("#question", "第一行\n第二行\n第三行\n第四行")
            pg.dispatch_event("#question", "input")
            assert pg.locator("#question").bounding_box()["height"] > h0 * 1.5
    finally:
        ctx.close()
