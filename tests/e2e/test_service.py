"""The real app on loopback over the real index: /search, /ask, streaming, errors, OpenAI client, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.helpers import sse_events

pytestmark = pytest.mark.model


def test_ask_answers_with_citations(server) -> None:
    r = httpx.post(server.url + "/ask", json={"question": "2021年南昌规模以上工业增加值增长了多少？"}, timeout=60)
    assert r.status_code == 200 and "charset=utf-8" in r.headers["content-type"]
    assert "11.4%" in r.text  # Chinese is not escaped
    body = r.json()
    assert body["answerable"] and "11.4%" in body["answer"] and body["citations"][0]["n"] == 1
    c = body["citations"][0]
    doc = httpx.get(server.url + f"/documents/{c['doc_id']}", timeout=30).json()
    assert doc["text"][c["quote_start"] : c["quote_end"]] == c["quote"]
    assert doc["text"][c["start"] : c["end"]] == c["text"]
    assert set(body["timings_ms"]) >= {"retrieve", "generate", "total"}


def test_search_modes_and_shape(server) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        r = httpx.post(
            server.url + "/search", json={"query": "华勤千亿产业基地项目投资多少", "top_k": 3, "mode": mode}, timeout=30
        )
        body = r.json()
        assert r.status_code == 200 and len(body["results"]) == 3
        first = body["results"][0]
        assert {"rank", "chunk_id", "doc_id", "source", "title", "heading", "text", "start", "end", "score"} <= set(
            first
        )
        assert "total" in body["timings_ms"]
    assert (
        "华勤千亿产业基地项目"
        in httpx.post(server.url + "/search", json={"query": "华勤千亿产业基地项目投资多少"}).json()["results"][0][
            "text"
        ]
    )


@pytest.mark.parametrize(
    "payload,status",
    [
        ({"question": ""}, 400),
        ({"question": "   "}, 400),
        ({"question": "问" * 100_000}, 413),
        ({"question": 5}, 422),
        ({}, 422),
        ({"question": "南昌", "top_k": 0}, 422),
        ({"question": "南昌", "collection": "nope"}, 404),
        ({"question": "南昌", "generator": "gpt-9"}, 400),
    ],
)
def test_bad_input_is_a_clear_4xx(server, payload, status) -> None:
    r = httpx.post(server.url + "/ask", json=payload, timeout=30)
    assert r.status_code == status, r.text
    assert set(r.json()["error"]) == {"code", "message"}


def test_not_json_is_4xx(server) -> None:
    r = httpx.post(server.url + "/ask", content=b"\xff\xfe not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500


def test_stream_events(server) -> None:
    events = sse_events(server.url + "/ask", {"question": "2021年南昌工业投资同比增长多少？", "stream": True})
    kinds = [e[0] for e in events]
    assert kinds[0] == "token" and kinds[-2:] == ["citations", "done"]
    done = events[-1][1]
    assert "".join(d["text"] for k, d in events if k == "token") == done["answer"]
    assert "18.7%" in done["answer"]


def test_refusal_over_http(server) -> None:
    body = httpx.post(server.url + "/ask", json={"question": "景德镇陶瓷产业2022年营业收入是多少？"}, timeout=60).json()
    assert body["answerable"] is False and "无法从文档中找到答案" in body["answer"] and body["citations"] == []


def test_openai_client(server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="unused")
    assert "rag" in [m.id for m in client.models.list().data]
    r = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "2021年南昌工业投资同比增长多少？"}]
    )
    assert "18.7%" in r.choices[0].message.content
    assert r.model_extra["citations"][0]["n"] == 1
    text = "".join(
        ch.choices[0].delta.content or ""
        for ch in client.chat.completions.create(
            model="rag", stream=True, messages=[{"role": "user", "content": "2021年南昌工业投资同比增长多少？"}]
        )
    )
    assert "18.7%" in text


def test_health_and_metrics(server) -> None:
    assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
    ready = httpx.get(server.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 5
    m = httpx.get(server.url + "/metrics").text
    assert 'rag_index_documents{collection="default"} 5' in m and "rag_requests_total" in m


def test_openapi_documents_every_endpoint(server) -> None:
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    assert {"/search", "/ask", "/v1/chat/completions", "/v1/models", "/documents", "/healthz", "/readyz"} <= set(paths)


def test_cli_index_search_ask_json(index_copy, tmp_path) -> None:
    env = {"RAG_INDEX_DIR": str(index_copy), "PATH": "", "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}

    def run(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "rag.cli", *a], capture_output=True, text=True, env=env, timeout=300
        )

    r = run("index", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["unchanged"], r.stderr
    r = run("ask", "2021年南昌规模以上工业增加值增长了多少？", "--json")
    assert r.returncode == 0 and "11.4%" in json.loads(r.stdout)["answer"]
    q = tmp_path / "q.jsonl"
    q.write_text(
        '{"_id": "a", "text": "华勤千亿产业基地项目投资多少"}\n{"_id": "b", "text": "赣州地区生产总值"}\n',
        encoding="utf-8",
    )
    r = run("search", "--batch", str(q), "--json", "--top-k", "3")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["_id"] for x in lines] == ["a", "b"] and len(lines[0]["results"]) == 3
    r = run("ask", "")
    assert r.returncode == 2 and "non-empty" in r.stderr
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("景德镇陶瓷产业2022年营业收入为500亿元。".encode("gbk"))
    r = run("index", str(gbk), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["added"] == ["gbk"]
    r = run("index", str(tmp_path / "missing.txt"))
    assert r.returncode == 2 and "missing.txt" in r.stderr


def test_langchain_retriever_in_a_real_chain(components) -> None:
    from langchain_core.runnables import RunnableLambda

    from rag.langchain import RagRetriever

    retriever = RagRetriever(pipeline=components.pipeline, top_k=3)
    chain = retriever | RunnableLambda(lambda docs: "\n".join(f"[{i}] {d.page_content}" for i, d in enumerate(docs, 1)))
    out = chain.invoke("华勤千亿产业基地项目投资多少")
    assert out.startswith("[1]") and "华勤千亿产业基地项目" in out
    docs = retriever.invoke("赣州2023年地区生产总值")
    assert docs[0].metadata["source"].startswith("002") and "start" in docs[0].metadata


def test_upload_then_delete_and_it_never_answers_again(server) -> None:
    coll = "upload-test"
    q = {"question": "景德镇陶瓷产业2022年营业收入是多少？", "collection": coll}
    files = [
        ("files", ("jdz.txt", "景德镇陶瓷产业2022年营业收入为500亿元。".encode("gbk"), "text/plain")),
        ("files", ("other.md", "# 其他\n\n宜春锂电产业发展良好。".encode(), "text/markdown")),
    ]
    r = httpx.post(server.url + "/documents", files=files, data={"collection": coll}, timeout=120)
    assert r.status_code == 201 and sorted(r.json()["added"]) == ["jdz", "other"]
    docs = httpx.get(server.url + "/documents", params={"collection": coll}).json()["documents"]
    assert {d["doc_id"] for d in docs} == {"jdz", "other"}
    a = httpx.post(server.url + "/ask", json=q, timeout=60).json()
    assert "500亿元" in a["answer"] and a["citations"][0]["doc_id"] == "jdz"
    bad = httpx.post(
        server.url + "/documents",
        files=[("files", ("x.txt", bytes(range(256)) * 8, "text/plain"))],
        data={"collection": coll},
        timeout=60,
    )
    assert bad.status_code == 415 and "x.txt" in bad.json()["error"]["message"]
    assert httpx.delete(server.url + "/documents/jdz", params={"collection": coll}).json()["deleted"] == ["jdz"]
    a = httpx.post(server.url + "/ask", json=q, timeout=60).json()
    assert a["answerable"] is False and "500亿元" not in a["answer"]
    hits = httpx.post(server.url + "/search", json={"query": "景德镇陶瓷", "collection": coll}).json()["results"]
    assert all(h["doc_id"] != "jdz" for h in hits)
    assert httpx.delete(server.url + "/documents/jdz", params={"collection": coll}).status_code == 404


def test_start_up_loads_what_the_first_question_would_wait_for(built_index) -> None:
    """The tokenizer's dictionaries and tagger (1-2 s), its abbreviation table and the extractive generator are loaded
    before the server says it is up, not by the first user's question."""
    from rag.api.app import create_app
    from rag.factory import Components
    from tests.helpers import Server, settings_for

    comp = Components(settings_for(built_index))
    with Server(create_app(comp.settings, comp)):
        tok = comp.library.retriever("default").tokenizer
        assert tok._ready and tok._abbrevs is not None
        assert "extractive" in comp._generators
