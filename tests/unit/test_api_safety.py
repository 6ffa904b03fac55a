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
from rag.prompts import load_prompts
from tests.helpers import ROOT, Server, unit_settings

DOC = "南昌市2021年工业投资同比增长18.7%，规模以上工业增加值同比增长11.4%。\n\n赣州2023年地区生产总值达4606亿元。"
Q = "2021年南昌工业投资同比增长多少？"


class Endless(Generator):
    """Streams tokens until it is closed; records how many it made and that it was closed."""

    name = "fake:endless"

    def __init__(self) -> None:
        self.produced = 0
        self.closed = threading.Event()

    def stream(self, question, hits, tokenizer=None, bm25=None) -> Iterator[str]:
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

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.closed = threading.Event()

    def _chat(self, messages, max_tokens) -> Iterator[str]:
        try:
            for _ in range(1000):
                time.sleep(0.02)
                yield "增长"
        finally:
            self.closed.set()


def _components(tmp_path, fake_embedder, llm: Generator | None = None, **kw) -> Components:
    """The fake-embedder index; `llm`: the generator requests naming "llm" get; `kw`: settings."""
    s = unit_settings(tmp_path, **kw)
    comp = Components(s, embedder=fake_embedder, generators={"llm": llm} if llm else None)
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "nc.txt"))
    return comp


@pytest.fixture
def endless_app(tmp_path, fake_embedder):
    from rag.api.app import create_app

    gen = Endless()
    comp = _components(tmp_path, fake_embedder, gen, generators="extractive,llm")  # requests may choose the fake LLM
    with Server(create_app(comp.settings, comp)) as srv:
        yield srv, gen


@pytest.mark.parametrize(
    "path,payload",
    [
        ("/ask", {"question": Q, "stream": True, "generator": "llm"}),
        ("/v1/chat/completions", {"model": "rag-llm", "stream": True, "messages": [{"role": "user", "content": Q}]}),
    ],
)
def test_a_client_that_disconnects_mid_stream_stops_the_generation(endless_app, path, payload) -> None:
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


def test_llm_past_its_time_budget_answers_extractively_with_a_note(tmp_path, fake_embedder, tokenizer) -> None:
    slow = SlowChat(prompts=load_prompts(ROOT / "prompts"), tokenizer=tokenizer, timeout_s=0.1)
    comp = _components(tmp_path, fake_embedder, slow)
    events = list(comp.pipeline.ask_events(Q, generator="llm"))
    a = events[-1][1]
    assert a.generator.startswith("extractive (fallback from llm:") and "budget" in a.generator
    assert "fallback:generation_timeout" in a.flags
    assert a.answerable and "18.7%" in a.answer and a.citations[0].quote in DOC
    assert slow.closed.is_set()  # the model was stopped, not left running
    assert events[-2] == ("citations", [c.to_dict() for c in a.citations])


@pytest.fixture
def keyed_app(tmp_path, fake_embedder):
    from rag.api.app import create_app

    comp = _components(tmp_path, fake_embedder, api_keys="read-key", admin_keys="admin-key")
    with Server(create_app(comp.settings, comp)) as srv:
        yield srv


def test_keys_read_and_admin(keyed_app) -> None:
    url = keyed_app.url
    body = {"query": "南昌工业投资"}
    bearer = lambda k: {"Authorization": f"Bearer {k}"}  # noqa: E731
    r = httpx.post(url + "/search", json=body)
    assert (
        r.status_code == 401
        and r.headers["www-authenticate"] == "Bearer"
        and r.json()["error"]["code"] == "unauthorized"
    )
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


def test_only_the_loopback_address_itself_is_safe_without_keys() -> None:
    from rag.api.deps import bind_host

    for host in ("127.0.0.2", "127.1.2.3", "0.0.0.0", "192.168.1.5"):
        assert bind_host(Settings(_env_file=None), host)[0] == "127.0.0.1"
    for host in ("127.0.0.1", "localhost", "::1"):
        assert bind_host(Settings(_env_file=None), host)[0] == host
    assert bind_host(Settings(_env_file=None, admin_keys="a"), "0.0.0.0")[0] == "0.0.0.0"
    assert bind_host(Settings(_env_file=None, metrics_keys="m"), "0.0.0.0")[0] == "0.0.0.0"


def test_host_rules() -> None:
    from rag.api.guard import _host_ok, allowed_hosts

    loop = allowed_hosts(Settings(_env_file=None))
    assert _host_ok("127.0.0.1:8000", loop) and _host_ok("localhost", loop) and _host_ok("[::1]:8000", loop)
    assert (
        not _host_ok("evil.example", loop) and not _host_ok("127.0.0.1.evil.example", loop) and not _host_ok("", loop)
    )
    assert allowed_hosts(Settings(_env_file=None, host="0.0.0.0", api_keys="k")) == ["*"]
    own = allowed_hosts(
        Settings(_env_file=None, host="0.0.0.0", api_keys="k", allowed_hosts="rag.example.com,*.corp.example")
    )
    assert (
        _host_ok("rag.example.com:443", own)
        and _host_ok("a.corp.example", own)
        and not _host_ok("corp.example.evil", own)
    )


def test_roles_by_path_default_to_needing_a_key() -> None:
    from rag.api.guard import route_role

    assert route_role("GET", "/healthz") == ("open", False) and route_role("HEAD", "/healthz")[0] == "open"
    assert route_role("GET", "/static/app.js")[0] == "open" and route_role("GET", "/")[0] == "open"
    assert route_role("GET", "/metrics")[0] == "ops" and route_role("GET", "/readyz")[0] == "ops"
    assert route_role("POST", "/documents") == ("admin", True) and route_role("DELETE", "/documents/x")[0] == "admin"
    assert route_role("GET", "/documents/x")[0] == "user" and route_role("POST", "/ask")[0] == "user"
    assert route_role("POST", "/conversations")[0] == "user" and route_role("GET", "/no/such/route")[0] == "user"


def test_check_key_rules() -> None:
    from rag.api.deps import check_key
    from rag.errors import Forbidden, Unauthorized

    s = Settings(_env_file=None, admin_keys="adm", metrics_keys="mon")
    check_key(s, {"authorization": "Bearer adm"}, "user")  # admin keys read too
    check_key(s, {"x-api-key": "mon"}, "ops")
    for headers, role, err in (
        ({}, "user", Unauthorized),
        ({"x-api-key": "mon"}, "user", Forbidden),
        ({"authorization": "Bearer nope"}, "ops", Unauthorized),
        ({}, "ops", Unauthorized),
    ):
        with pytest.raises(err):
            check_key(s, headers, role)
    check_key(Settings(_env_file=None), {}, "admin")  # no keys at all: open (and loopback only)


def test_bounded_query_keeps_the_last_sentences_that_fit() -> None:
    from rag.pipeline import bounded

    q = "2021年南昌规模以上工业增加值增长了多少？"
    assert bounded(q, 150) == q
    long = "背景说明。" * 100 + q
    assert bounded(long, 150).endswith(q) and len(bounded(long, 150)) <= 150
    assert len(bounded("南" * 2000, 150)) == 150


def test_pos_tagging_is_bounded_but_unchanged_for_questions(tokenizer) -> None:
    import json
    import random

    from rag.zh import _hmm_prefix

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").open(encoding="utf-8")]
    assert all(_hmm_prefix(q.lower()) == len(q.lower()) for q in questions)
    rnd = random.Random(1)
    rare = "".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(2000))
    assert _hmm_prefix(rare) < 50
    tokenizer.tagged("预热")
    slow = []
    for i in range(3):  # the best of three texts (results are cached per text): a pause of the machine is not the code
        t = time.perf_counter()
        tokenizer.tagged(f"南昌{i}" + rare)
        slow.append(time.perf_counter() - t)
    t = time.perf_counter()
    tokenizer.tagged("2021年南昌规模以上工业增加值增长了多少？赣州呢？")
    assert min(slow) < 200 * max(time.perf_counter() - t, 0.005)  # was ~13 s, i.e. ~60,000 times a question


def test_history_and_generator_checks() -> None:
    from rag.api.limits import allowed_generators, check_generator, check_history
    from rag.errors import BadInput, TooLarge

    s = Settings(_env_file=None)
    assert allowed_generators(s) == ["extractive"] and allowed_generators(
        Settings(_env_file=None, generator="llm")
    ) == ["extractive", "llm"]
    assert allowed_generators(Settings(_env_file=None, generators="openai,extractive")) == ["extractive", "openai"]
    with pytest.raises(BadInput, match="RAG_GENERATORS"):
        check_generator(s, "llm")
    assert check_generator(s, None) is None and check_generator(s, "extractive") == "extractive"
    turn = {"role": "user", "content": "南" * 200}
    assert len(check_history(s, [turn] * 40)) == 40
    for history in (
        [turn] * 41,
        [{"role": "user", "content": "南" * 2001}],
        [{"role": "user", "content": "南" * 1900}] * 9,
    ):
        with pytest.raises(TooLarge):
            check_history(s, history)
