"""The real local LLM behind the real server: a client that goes away while the model is still reading its prompt
stops it there (llama.cpp's abort callback), so the next question does not wait behind the abandoned one."""

from __future__ import annotations

import time

import httpx
import pytest

from rag.errors import GenerationError

pytestmark = [pytest.mark.model, pytest.mark.llm]


def test_a_client_gone_mid_prompt_stops_the_model_and_the_next_question_is_answered(components, server) -> None:
    gen = components.generator("llm")
    outcomes: list[str] = []
    real = gen._chat

    def watched(messages, max_tokens):  # records how each generation ended
        try:
            yield from real(messages, max_tokens)
            outcomes.append("finished")
        except GeneratorExit:
            outcomes.append("closed after a token")
            raise
        except GenerationError as e:
            outcomes.append(e.message)
            raise

    gen._chat = watched
    payload = {"question": "2021年南昌工业投资同比增长多少？", "generator": "llm", "stream": True, "draft": True}
    names: list[str] = []
    with httpx.stream("POST", server.url + "/ask", json=payload, timeout=600) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                names.append(line[7:])
            if names[-1:] == ["stage"]:
                time.sleep(2)  # the model is reading its prompt (tens of seconds on a 2-core host) when we leave
                break
    assert names == ["draft", "stage"]  # the quick answer came at once
    deadline = time.monotonic() + 600
    while not outcomes and time.monotonic() < deadline:
        time.sleep(0.2)
    gen._chat = real
    # stopped inside llama_decode (the prompt), not left to reach its first token and be closed there
    assert outcomes and "llama_decode" in outcomes[0], outcomes
    a = httpx.post(
        server.url + "/ask", json={"question": "赣州2023年地区生产总值是多少？", "generator": "llm"}, timeout=600
    ).json()
    assert a["generator"].startswith("llm:"), a["generator"]
