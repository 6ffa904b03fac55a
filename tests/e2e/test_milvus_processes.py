"""Milvus across processes: every command here runs in its own process, as a user or a deployment runs them.

On a Milvus Lite file: `rag index`, then `rag search`, `rag ask` and a `rag serve` replica, one after another. Shared
through Milvus Lite's gRPC server: docs/scale.md's "Run two replicas" block as written (a second `rag index` while
two replicas serve, both see the new document), a second writer refused while the lease is held, and `rag eval`
through a process that did not build the index, equal to FAISS to three decimals.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ARTIFACTS, EQUALITY_SAMPLE, QA, ROOT, SEEDS, SHARED_CACHE, free_port

pytestmark = [pytest.mark.model, pytest.mark.slow]
pytest.importorskip("pymilvus")

BIN = Path(sys.executable).parent
QUESTION = "2021年南昌规模以上工业增加值增长了多少？"
NAVEL = "赣州市2024年脐橙种植面积达到203万亩，产量165万吨。"
TIMEOUT = 900


def _env(cwd: Path, uri: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "HF_HUB_OFFLINE": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
            "RAG_EMBED_CACHE": str(SHARED_CACHE),
            "RAG_SEEDS_DIR": str(SEEDS),
            "RAG_PROMPTS_DIR": str(ROOT / "prompts"),
            "RAG_INDEX_DIR": str(cwd / "index"),
            "RAG_STORE": "milvus",
        }
    )
    if uri:
        env["RAG_MILVUS_URI"] = uri
    return env


def rag(cwd: Path, uri: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "rag"), *args], cwd=cwd, env=_env(cwd, uri), capture_output=True, text=True, timeout=TIMEOUT
    )


def _ok(p: subprocess.CompletedProcess) -> dict:
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _refused(p: subprocess.CompletedProcess, code: int, text: str) -> None:
    """The project's own error: its exit code and one message line, never a traceback."""
    assert p.returncode == code, (p.returncode, p.stderr[-3000:])
    assert text in p.stderr and "Traceback" not in p.stderr, p.stderr[-3000:]


class Proc:
    """A background process (a Milvus Lite server, a `rag serve` replica), stopped with its process group."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.log = log
        with open(log, "w") as f:
            self.p = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def _ready(url: str, proc: Proc) -> None:
    for _ in range(TIMEOUT):
        assert proc.p.poll() is None, proc.log.read_text()[-3000:]
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} never became ready: {proc.log.read_text()[-3000:]}")


def _listening(port: int, proc: Proc) -> None:
    """Wait until a background server accepts connections on loopback (it may start slowly on a loaded host)."""
    for _ in range(TIMEOUT):
        assert proc.p.poll() is None, proc.log.read_text()[-3000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"port {port} never accepted a connection: {proc.log.read_text()[-3000:]}")


def _serve(cwd: Path, uri: str, name: str) -> tuple[Proc, str]:
    port = free_port()
    p = Proc([str(BIN / "rag"), "serve", "--port", str(port)], cwd, _env(cwd, uri), cwd / f"{name}.log")
    url = f"http://127.0.0.1:{port}"
    _ready(url, p)
    return p, url


def test_one_process_after_another_on_a_lite_file(tmp_path) -> None:
    """The issue's two commands, then `rag ask` and a replica, each in a fresh process on the same Milvus Lite file."""
    uri = str(tmp_path / "milvus.db")
    built = _ok(rag(tmp_path, uri, "index", "--json"))
    assert built["n_documents"] == 5 and built["n_chunks"] > 300
    assert built["embedded"] + built["cached"] == built["n_chunks"]
    again = _ok(rag(tmp_path, uri, "index", "--json"))  # a process that did not build it sees it unchanged
    assert again["version"] == "" and again["n_chunks"] == built["n_chunks"] and again["embedded"] == 0

    found = _ok(rag(tmp_path, uri, "search", QUESTION, "--json"))["results"]
    assert found[0]["doc_id"].startswith("001_") and any("11.4%" in h["text"] for h in found[:3])
    answer = _ok(rag(tmp_path, uri, "ask", QUESTION, "--json"))
    assert answer["answerable"] and "11.4%" in answer["answer"] and answer["citations"]
    _refused(rag(tmp_path, uri, "search", QUESTION, "--collection", "absent"), 3, "has no index in Milvus")

    replica, url = _serve(tmp_path, uri, "replica")
    try:
        ready = httpx.get(url + "/readyz", timeout=60).json()
        assert ready["documents"] == 5 and ready["passages"] == built["n_chunks"]
        listed = httpx.get(url + "/documents", timeout=120).json()["documents"]
        assert len(listed) == 5 and sum(d["passages"] for d in listed) == built["n_chunks"]
        doc = httpx.get(url + f"/documents/{found[0]['doc_id']}", timeout=60).json()
        assert len(doc["chunks"]) == next(d["passages"] for d in listed if d["doc_id"] == found[0]["doc_id"])
        metrics = httpx.get(url + "/metrics", timeout=60).text
        assert f'rag_index_passages{{collection="default"}} {built["n_chunks"]}' in metrics
        hits = httpx.post(url + "/search", json={"query": QUESTION, "top_k": 3}, timeout=120).json()["results"]
        assert hits[0]["doc_id"] == found[0]["doc_id"]
        # Milvus Lite serves a file to one process: another one is told so, and how to share it.
        _refused(rag(tmp_path, uri, "search", QUESTION), 7, "milvus-lite server --data-dir")
    finally:
        replica.stop()


def _walkthrough() -> str:
    text = (ROOT / "docs" / "scale.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- replicas:begin -->\n```bash\n(.*?)```\n<!-- replicas:end -->", text, re.S)
    assert block, "docs/scale.md lost its 'Run two replicas' block"
    return block.group(1)


def test_two_replicas_walkthrough_as_documented(tmp_path) -> None:
    """docs/scale.md's block, pasted into bash (ports made free): both replicas see the second write."""
    script = _walkthrough()
    for port in ("19530", "8001", "8002"):
        script = script.replace(port, str(free_port()))
    (tmp_path / "seeds").symlink_to(SEEDS)
    env = _env(tmp_path, None)
    for k in ("RAG_INDEX_DIR", "RAG_SEEDS_DIR"):  # as a reader has them: the defaults, in the folder it runs in
        env.pop(k)
    p = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    logs = {f.name: f.read_text()[-2000:] for f in tmp_path.glob("*.log")}
    assert p.returncode == 0, (p.stderr[-3000:], logs)
    found = [json.loads(line) for line in p.stdout.splitlines() if line.startswith('{"query"')]
    assert len(found) == 2, (p.stdout[-3000:], logs)
    for res in found:
        assert res["results"][0]["doc_id"] == "navel" and res["results"][0]["text"] == NAVEL


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[Path, str]]:
    """A Milvus Lite gRPC server (as every replica would share a Milvus) with the seeds indexed by another process."""
    d = tmp_path_factory.mktemp("shared")
    port = free_port()
    server = Proc(
        [
            str(BIN / "milvus-lite"),
            "server",
            "--data-dir",
            str(d / "milvus.db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        d,
        _env(d, None),
        d / "milvus.log",
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        _listening(port, server)
        _ok(rag(d, uri, "index", "--json"))
        yield d, uri
    finally:
        server.stop()


def test_second_writer_gets_index_busy(shared) -> None:
    """While one writer holds the collection's lease in Milvus, another process's `rag index` is refused."""
    from rag.store.milvus_store import MilvusStore

    d, uri = shared
    (d / "navel.txt").write_text(NAVEL, encoding="utf-8")
    holder = MilvusStore(uri)
    with holder.lock("busy"):
        _refused(
            rag(d, uri, "index", "navel.txt", "--collection", "busy"),
            6,
            f"collection 'busy' is being indexed by pid {os.getpid()}",
        )
    assert _ok(rag(d, uri, "index", "navel.txt", "--collection", "busy", "--json"))["added"] == ["navel"]


def test_eval_through_a_replica_that_did_not_build_equals_faiss(shared, faiss_retrieval) -> None:
    """`rag eval` on the QA set's fixed EQUALITY_SAMPLE items in a process that did not build the index."""
    d, uri = shared
    out = ARTIFACTS / "eval-milvus-replica.json"
    milvus = _ok(
        rag(d, uri, "eval", str(QA), "--retrieval-only", "--limit", str(EQUALITY_SAMPLE), "--json", "--out", str(out))
    )
    faiss = faiss_retrieval
    assert milvus["n"] == faiss["n"] == EQUALITY_SAMPLE
    for mode in ("dense", "bm25", "hybrid"):
        for k in ("hit@1", "hit@5", "mrr@10"):
            m, f = milvus["retrieval"][mode][k], faiss["retrieval"][mode][k]
            assert abs(m - f) < 5e-4, (mode, k, m, f)
