"""The app over a small fake-embedder index: a client that disconnects stops the generator, the LLM time budget
falls back to the extractive answer with a note, API keys, security headers. Fakes stand in for the models only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from rag.config import Settings
from rag.factory import Components
from rag.generate.base import Generator
from rag.generate.chat import ChatGenerator
from rag.ingest import read_bytes
from tests.conftest import ROOT, Server

DOC = "南昌市2021年工业投资同比增长18.7%，规模以上工业增加值同比增长11.4%。\n\n赣州2023年地区生产总值达4606亿元。"
Q = "2021年南昌工业投资同比增长多少？"


class Endless(Generator):
    """Streams tokens until it is closed; records how many it made and that it was closed."""

    name = "fake:endless"

    def __init__(self) -> None:
        self.produced = 0
        self.closed = threading.Event()

    def stream(self, question, hits) -> Iterator[str]:  # noqa: ANN001
        try:
            while True:
                self.produced += 1
                time.sleep(0.01)  # a model's pace, so the client can go away mid-answer
                yield "字"
        finally:
            self.closed.set()


class SlowChat(ChatGenerator):
    """A chat model that answers one token at a time, slower than its budget allows."""

    name = "fake:slow-llm"

    def __init__(self, **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        self.closed = threading.Event()

    def _chat(self, messages, max_tokens) -> Iterator[str]:  # noqa: ANN001
        try:
            for _ in range(1000):
                time.sleep(0.02)
                yield "增长"
        finally:
            self.closed.set()


def _components(tmp_path, fake_embedder, **kw) -> Components:  # noqa: ANN001, ANN003
    s = Settings(_env_file=None, index_dir=tmp_path / "index", embed_cache=tmp_path / "cache.sqlite",
                 prompts_dir=ROOT / "prompts", refuse_below=0.0, llm_refuse_below=0.0, **kw)
    comp = Components(s)
    comp.embedder = fake_embedder  # cached_property: the fake replaces the real model
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "nc.txt"))
    return comp


@pytest.fixture
def endless_app(tmp_path, fake_embedder):  # noqa: ANN001, ANN201
    from rag.api.app import create_app

    comp = _components(tmp_path, fake_embedder, generators="extractive,llm")  # requests may choose the (fake) LLM
    gen = Endless()
    comp._generators["llm"] = gen
    with Server(create_app(comp.settings, comp)) as srv:
        yield srv, gen


@pytest.mark.parametrize("path,payload", [
    ("/ask", {"question": Q, "stream": True, "generator": "llm"}),
    ("/v1/chat/completions", {"model": "rag-llm", "stream": True, "messages": [{"role": "user", "content": Q}]}),
])
def test_a_client_that_disconnects_mid_stream_stops_the_generation(endless_app, path, payload) -> None:  # noqa: ANN001
    srv, gen = endless_app
    with httpx.stream("POST", srv.url + path, json=payload, timeout=30) as r:
        assert r.status_code == 200
        lines = r.iter_lines()
        got = [line for line, _ in zip(lines, range(6), strict=False)]
        assert any("字" in line for line in got)
    # the connection is gone: the server stops pulling tokens and closes the generator (releasing the model)
    assert gen.closed.wait(60), "the generator was never closed after the client disconnected"
    n = gen.produced
    time.sleep(0.3)
    assert gen.produced == n


def test_llm_past_its_time_budget_answers_extractively_with_a_note(tmp_path, fake_embedder) -> None:  # noqa: ANN001
    comp = _components(tmp_path, fake_embedder)
    slow = SlowChat(prompts=comp.prompts, tokenizer=comp.tokenizer, timeout_s=0.1)
    comp._generators["llm"] = slow
    events = list(comp.pipeline.ask_events(Q, generator="llm"))
    a = events[-1][1]
    assert a.generator.startswith("extractive (fallback from llm:") and "budget" in a.generator
    assert "fallback:generation_timeout" in a.flags
    assert a.answerable and "18.7%" in a.answer and a.citations[0].quote in DOC
    assert slow.closed.is_set()  # the model was stopped, not left running
    assert events[-2] == ("citations", [c.to_dict() for c in a.citations])


@pytest.fixture
def keyed_app(tmp_path, fake_embedder):  # noqa: ANN001, ANN201
    from rag.api.app import create_app

    comp = _components(tmp_path, fake_embedder, api_keys="read-key", admin_keys="admin-key")
    with Server(create_app(comp.settings, comp)) as srv:
        yield srv


def test_keys_read_and_admin(keyed_app) -> None:  # noqa: ANN001
    url = keyed_app.url
    body = {"query": "南昌工业投资"}
    bearer = lambda k: {"Authorization": f"Bearer {k}"}  # noqa: E731
    r = httpx.post(url + "/search", json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer" and r.json()["error"]["code"] == "unauthorized"
    assert httpx.post(url + "/search", json=body, headers=bearer("wrong")).status_code == 401
    assert httpx.post(url + "/search", json=body, headers=bearer("read-key")).status_code == 200
    assert httpx.post(url + "/search", json=body, headers=bearer("admin-key")).status_code == 200
    # non-ASCII bytes in the header are compared as bytes, never a 500
    r = httpx.post(url + "/search", json=body, headers={"Authorization": "Bearer 密钥".encode()})
    assert r.status_code == 401
    files = [("files", ("a.txt", "九江2022年GDP为3400亿元。".encode(), "text/plain"))]
    assert httpx.post(url + "/documents", files=files).status_code == 401
    r = httpx.post(url + "/documents", files=files, headers=bearer("read-key"))
    assert r.status_code == 403 and "admin key" in r.json()["error"]["message"]
    assert httpx.post(url + "/documents", files=files, headers=bearer("admin-key")).status_code == 201
    assert httpx.delete(url + "/documents/a", headers=bearer("read-key")).status_code == 403
    assert httpx.delete(url + "/documents/a", headers=bearer("admin-key")).json()["deleted"] == ["a"]
    assert httpx.get(url + "/healthz").status_code == 200  # probes need no key
