"""The chat page with the real local LLM in real Chromium: the quick extractive draft at once (快速摘录), then the
model's verified answer replacing it (or the draft kept, said in the bubble); 停止 mid-answer keeps the draft, and
the model answers the next question (the server stopped the abandoned generation)."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import Q_NANCHANG, browser, page, shot  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.llm]


def _finished(pg, n: int) -> None:
    pg.wait_for_function(
        "n => { const m = document.querySelectorAll('.msg.assistant')[n];"
        " return m && !m.classList.contains('streaming'); }",
        arg=n,
        timeout=600_000,
    )


def test_draft_first_then_the_verified_answer_and_stop(page) -> None:  # noqa: F811
    pg = page
    pg.select_option("#generator", "llm")
    sent: list[dict] = []
    pg.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/ask") else None)
    pg.fill("#question", Q_NANCHANG)
    pg.click("#send")
    assert sent[0]["draft"] is True and sent[0]["generator"] == "llm"
    # the extractive draft arrives right after retrieval, marked, while the model works
    pg.wait_for_selector(".msg.assistant.draft .badge", timeout=120_000)
    msg = pg.locator(".msg.assistant").first
    assert msg.locator(".badge").inner_text() == "快速摘录" and "11.4%" in msg.locator(".answer").inner_text()
    assert "智能回答正在生成" in msg.locator(".stage").inner_text()
    shot(pg, "22-llm-draft")
    _finished(pg, 0)
    note = msg.locator(".replaced").inner_text()
    label = msg.locator(".meta .generator").inner_text()
    if "替换为智能回答" in note:  # the model's answer, verified, replaced the draft
        assert label == "回答：智能（本地大模型）" and msg.locator(".badge").count() == 0
    else:  # the model refused or failed: the draft stays, and the bubble says so
        assert "保留上面的快速摘录" in note and msg.locator(".badge").inner_text() == "快速摘录"
    assert "11.4%" in msg.locator(".answer").inner_text()
    shot(pg, "23-llm-answer")

    # stop while the model works: the draft stays, and the model is free for the next question
    pg.fill("#question", "2021年南昌工业投资同比增长多少？")
    pg.click("#send")
    pg.wait_for_selector(".msg.assistant.draft .badge >> nth=0", timeout=120_000)
    pg.wait_for_function(
        "() => document.querySelectorAll('.msg.assistant')[1]?.classList.contains('draft')", timeout=120_000
    )
    pg.click("#stop")
    _finished(pg, 1)
    second = pg.locator(".msg.assistant").nth(1)
    assert "已停止生成，保留快速摘录" in second.inner_text() and "18.7%" in second.locator(".answer").inner_text()
    pg.fill("#question", "赣州2023年地区生产总值是多少？")
    pg.click("#send")
    _finished(pg, 2)
    third = pg.locator(".msg.assistant").nth(2)
    assert "error" not in (third.get_attribute("class") or ""), third.inner_text()
    assert "智能回答未能完成" not in third.inner_text()  # not a timeout fallback behind the abandoned generation
