"""Saved conversations and feedback over the real app and a small fake-embedder index: per-key isolation, every
client-controlled bound (413/400), the feedback export as a QA set, the opt-in `draft` event, and a client that
stops a stream freeing the model for the next question. Fakes stand in for the models only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from rag.conversations import ConversationStore, Limits, owner_of, qa_items
from rag.errors import BadInput, NotFound, TooLarge
from rag.factory import Components
from rag.generate.base import Generator
from rag.generate.chat import ChatGenerator
from rag.ingest import read_bytes
from rag.prompts import load_prompts
from tests.helpers import ROOT, Server, unit_settings

DOC = "南昌市2021年工业投资同比增长18.7%，规模以上工业增加值同比增长11.4%。\n\n赣州2023年地区生产总值达4606亿元。"
Q = "2021年南昌工业投资同比增长多少？"


def _components(tmp_path, fake_embedder, llm: Generator | None = None, **kw) -> Components:
    """The fake-embedder index; `llm`: the generator requests naming "llm" get; `kw`: settings."""
    s = unit_settings(tmp_path, **kw)
    comp = Components(s, embedder=fake_embedder, generators={"llm": llm} if llm else None)
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "nc.txt"))
    return comp


# ---------------------------------------------------------------------------------------------- the store itself


def test_store_round_trip_titles_and_owners(tmp_path) -> None:
    st = ConversationStore(tmp_path / "c.sqlite")
    a, b = owner_of(b"key-a"), owner_of(b"key-b")
    assert a != b and "key-a" not in a and owner_of(None) == "local"
    c = st.create(a, messages=[{"role": "user", "content": "  南昌\n工业投资增长多少？ "}])
    assert c["title"] == "南昌 工业投资增长多少？"  # the first question, one line
    st.update(
        a,
        c["id"],
        messages=[*c["messages"], {"role": "assistant", "content": "18.7%[1]", "answer": {"answer": "18.7%[1]"}}],
    )
    got = st.get(a, c["id"])
    assert got["messages"][1]["answer"] == {"answer": "18.7%[1]"} and got["updated"] >= got["created"]
    st.update(a, c["id"], title="重命名")
    assert [x["title"] for x in st.list(a)] == ["重命名"] and st.list(a)[0]["n_messages"] == 2
    assert st.list(b) == []
    with pytest.raises(NotFound):
        st.get(b, c["id"])  # another owner's id is simply not found
    with pytest.raises(NotFound):
        st.delete(b, c["id"])
    st.delete(a, c["id"])
    assert st.list(a) == []
    # it is a file beside the index: a new store on the same file sees what was saved
    st.create(a, title="留下")
    assert [x["title"] for x in ConversationStore(tmp_path / "c.sqlite").list(a)] == ["留下"]


def test_store_bounds(tmp_path) -> None:
    lim = Limits(
        max_conversations=2,
        max_messages=3,
        max_message_chars=10,
        max_conversation_bytes=400,
        max_title_chars=5,
        max_comment_chars=4,
    )
    st = ConversationStore(tmp_path / "c.sqlite", lim)
    user = lambda t: {"role": "user", "content": t}  # noqa: E731
    st.create("o", title="五个字标题", messages=[user("一" * 10)] * 3)  # every limit at its worst allowed value
    with pytest.raises(TooLarge):
        st.create("o", title="六个字的标题")
    with pytest.raises(TooLarge):
        st.create("o", messages=[user("一" * 11)])
    with pytest.raises(TooLarge):
        st.create("o", messages=[user("一")] * 4)
    with pytest.raises(TooLarge):
        st.create("o", messages=[{**user("一"), "answer": {"x": "字" * 200}}])
    with pytest.raises(BadInput):
        st.create("o", messages=[{"role": "system", "content": "x"}])
    st.create("o")
    with pytest.raises(TooLarge, match="limit is 2"):
        st.create("o")
    st.create("other")  # the count is per owner
    with pytest.raises(TooLarge):
        st.add_feedback("o", {"rating": "up", "question": "q", "answer": "a", "comment": "五个字太长"}, "v1")
    with pytest.raises(BadInput):
        st.add_feedback("o", {"rating": "meh", "question": "q", "answer": "a"}, "v1")


def test_feedback_becomes_qa_items() -> None:
    cite = {"n": 1, "source": "nc.txt", "quote": "工业投资同比增长18.7%", "text": "南昌市2021年工业投资同比增长18.7%，"}
    rows = [
        {
            "id": 1,
            "rating": "up",
            "answerable": True,
            "question": Q,
            "answer": "增长18.7%[1]。",
            "citations": [cite],
            "correct_answer": "",
            "generator": "extractive",
            "index_version": "v1",
        },
        {
            "id": 2,
            "rating": "down",
            "answerable": True,
            "question": "赣州呢？",
            "answer": "错的[1]",
            "citations": [cite],
            "correct_answer": "4606亿元",
            "generator": "llm",
            "index_version": "v1",
        },
        {
            "id": 3,
            "rating": "down",
            "answerable": True,
            "question": "x",
            "answer": "y",
            "citations": [],
            "correct_answer": "",
            "generator": "llm",
            "index_version": "v1",
        },
        {
            "id": 4,
            "rating": "up",
            "answerable": False,
            "question": "景德镇呢？",
            "answer": "无法从文档中找到答案",
            "citations": [],
            "correct_answer": "",
            "generator": "llm",
            "index_version": "v1",
        },
    ]
    items, skipped = qa_items(rows)
    assert skipped == 1 and [it["id"] for it in items] == ["fb00001", "fb00002", "fb00004"]
    assert (
        items[0] | {} == items[0]
        and items[0]["answer"] == "增长18.7%"
        and items[0]["evidence"] == "工业投资同比增长18.7%"
    )
    assert items[0]["doc"] == "nc.txt" and items[0]["type"] == "factoid"
    assert items[1]["answer"] == "4606亿元" and items[1]["evidence"] is None  # the cited quote does not hold it
    assert items[2]["type"] == "unanswerable" and items[2]["doc"] is None


# ---------------------------------------------------------------------------------------------- over HTTP


@pytest.fixture
def keyed(tmp_path, fake_embedder):
    from rag.api.app import create_app

    comp = _components(
        tmp_path,
        fake_embedder,
        api_keys="key-a,key-b",
        admin_keys="admin",
        max_title_chars=20,
        max_conversation_messages=4,
        max_conversations=3,
    )
    with Server(create_app(comp.settings, comp)) as srv:
        yield srv, comp


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_conversations_per_key_and_bounds_over_http(keyed) -> None:
    srv, comp = keyed
    url = srv.url
    assert httpx.get(url + "/conversations").status_code == 401
    msgs = [
        {"role": "user", "content": Q},
        {"role": "assistant", "content": "18.7%[1]", "answer": {"answer": "18.7%[1]"}},
    ]
    r = httpx.post(url + "/conversations", json={"messages": msgs}, headers=_h("key-a"))
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert r.json()["title"] == Q[:20] or r.json()["title"] == Q
    assert [c["id"] for c in httpx.get(url + "/conversations", headers=_h("key-a")).json()["conversations"]] == [cid]
    # another key sees nothing of it, and cannot read, rename or delete it
    assert httpx.get(url + "/conversations", headers=_h("key-b")).json()["conversations"] == []
    assert httpx.get(url + f"/conversations/{cid}", headers=_h("key-b")).status_code == 404
    assert httpx.patch(url + f"/conversations/{cid}", json={"title": "x"}, headers=_h("key-b")).status_code == 404
    assert httpx.delete(url + f"/conversations/{cid}", headers=_h("key-b")).status_code == 404
    # rename, bounds
    r = httpx.patch(url + f"/conversations/{cid}", json={"title": "南昌工业"}, headers=_h("key-a"))
    assert r.status_code == 200 and r.json()["title"] == "南昌工业" and r.json()["messages"] == msgs
    r = httpx.patch(url + f"/conversations/{cid}", json={"title": "长" * 21}, headers=_h("key-a"))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert httpx.patch(url + f"/conversations/{cid}", json={"title": "长" * 20}, headers=_h("key-a")).status_code == 200
    r = httpx.patch(url + f"/conversations/{cid}", json={"messages": msgs * 3}, headers=_h("key-a"))
    assert r.status_code == 413
    assert (
        httpx.patch(url + f"/conversations/{cid}", json={"messages": msgs * 2}, headers=_h("key-a")).status_code == 200
    )
    # a body larger than any allowed conversation is refused from its declared length
    huge = json.dumps({"messages": [{"role": "user", "content": "长" * 1000}] * 2000}, ensure_ascii=False).encode()
    r = httpx.post(url + "/conversations", content=huge, headers={**_h("key-a"), "Content-Type": "application/json"})
    assert r.status_code == 413 and "RAG_MAX_CONVERSATION_BYTES" in r.json()["error"]["message"]
    r = httpx.post(url + "/conversations", json={"messages": [{"role": "tool", "content": "x"}]}, headers=_h("key-a"))
    assert r.status_code in (400, 422)
    for _ in range(2):
        assert httpx.post(url + "/conversations", json={}, headers=_h("key-a")).status_code == 201
    r = httpx.post(url + "/conversations", json={}, headers=_h("key-a"))
    assert r.status_code == 413 and "limit is 3" in r.json()["error"]["message"]
    assert httpx.delete(url + f"/conversations/{cid}", headers=_h("key-a")).json() == {"deleted": cid}
    assert httpx.get(url + f"/conversations/{cid}", headers=_h("key-a")).status_code == 404
    # the rows live beside the index, keyed by a hash: no key is stored
    raw = (comp.settings.index_dir / "conversations.sqlite").read_bytes()
    assert b"key-a" not in raw
    paths = httpx.get(url + "/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/conversations"]) and {"get", "patch", "delete"} <= set(
        paths["/conversations/{conv_id}"]
    )
    assert "/feedback" in paths and "/me" in paths


def test_feedback_is_stored_with_the_index_version_and_exported_for_admins(keyed) -> None:
    srv, comp = keyed
    url = srv.url
    ans = httpx.post(url + "/ask", json={"question": Q}, headers=_h("key-a")).json()
    assert "18.7%" in ans["answer"]
    fb = {
        "rating": "up",
        "comment": "对",
        "question": Q,
        "query": ans["query"],
        "answer": ans["answer"],
        "answerable": ans["answerable"],
        "citations": ans["citations"],
        "generator": ans["generator"],
    }
    r = httpx.post(url + "/feedback", json=fb, headers=_h("key-a"))
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["index_version"] == comp.library.retriever("default").data.version and row["generator"] == "extractive"
    assert row["owner"].startswith("key:") and row["citations"][0]["quote"] in DOC
    r = httpx.post(url + "/feedback", json={**fb, "comment": "长" * 3000}, headers=_h("key-a"))
    assert r.status_code == 413
    assert httpx.get(url + "/feedback", headers=_h("key-a")).status_code == 403
    assert len(httpx.get(url + "/feedback", headers=_h("admin")).json()["feedback"]) == 1
    lines = httpx.get(url + "/feedback?format=qa", headers=_h("admin")).text.splitlines()
    item = json.loads(lines[0])
    assert item["question"] == Q and "18.7%" in item["answer"] and item["evidence"] in DOC
    me = httpx.get(url + "/me", headers=_h("admin")).json()
    assert me == {"auth": True, "admin": True}
    assert httpx.get(url + "/me", headers=_h("key-a")).json() == {"auth": True, "admin": False}


# ---------------------------------------------------------------------------------------------- draft and stop


class Typing(ChatGenerator):
    """A chat model that types a fixed answer slowly, one generation at a time (like llama.cpp's one KV cache)."""

    name = "fake:typing"

    def __init__(self, text: str, pieces: int = 400, **kw) -> None:
        super().__init__(**kw)
        self.text, self.pieces = text, pieces
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.last_usage = {}

    def _chat(self, messages, max_tokens) -> Iterator[str]:
        with self.lock:
            try:
                for _ in range(self.pieces):
                    time.sleep(0.02)
                    yield ""
                yield self.text
            finally:
                self.closed.set()


def test_draft_event_comes_first_then_the_models_answer(tmp_path, fake_embedder, tokenizer) -> None:
    typing = Typing(
        "南昌工业投资同比增长18.7%[1]。", pieces=1, prompts=load_prompts(ROOT / "prompts"), tokenizer=tokenizer
    )
    comp = _components(tmp_path, fake_embedder, typing)
    events = list(comp.pipeline.ask_events(Q, generator="llm", quick=True))
    kinds = [k for k, _ in events]
    assert kinds[:2] == ["draft", "stage"] and kinds[-2:] == ["citations", "done"]
    draft, done = events[0][1], events[-1][1]
    assert draft.generator == "extractive" and draft.answerable and "18.7%" in draft.answer and "draft" in draft.flags
    assert done.generator == "fake:typing" and "18.7%" in done.answer
    # without the flag (and for the extractive generator) the events are as before
    assert [k for k, _ in comp.pipeline.ask_events(Q, generator="llm")][0] == "token"
    assert "draft" not in [k for k, _ in comp.pipeline.ask_events(Q, generator="extractive", quick=True)]


def test_stopping_a_stream_frees_the_model_for_the_next_question(tmp_path, fake_embedder, tokenizer) -> None:
    from rag.api.app import create_app

    gen = Typing(
        "南昌工业投资同比增长18.7%[1]。", pieces=100_000, prompts=load_prompts(ROOT / "prompts"), tokenizer=tokenizer
    )
    comp = _components(tmp_path, fake_embedder, gen, generators="extractive,llm")  # a request may choose the model
    with Server(create_app(comp.settings, comp)) as srv:
        payload = {"question": Q, "stream": True, "generator": "llm", "draft": True}
        with httpx.stream("POST", srv.url + "/ask", json=payload, timeout=30) as r:
            names = []
            for line in r.iter_lines():
                if line.startswith("event: "):
                    names.append(line[7:])
                if len(names) >= 4:
                    break  # the user pressed 停止 mid-answer
        assert names[:3] == ["draft", "stage", "token"]
        assert gen.closed.wait(30), "the server kept generating after the client went away"
        assert not gen.lock.locked()
        gen.pieces = 1  # the next question, on the same model, is answered (it would wait on the lock forever)
        r = httpx.post(srv.url + "/ask", json={"question": Q, "generator": "llm"}, timeout=30)
        assert r.status_code == 200 and "18.7%" in r.json()["answer"]
