"""Indexing jobs across a real `rag serve` killed with SIGKILL mid-embedding: after the restart GET /jobs/{id} says the
job was interrupted and published nothing, the previous version serves, another key still cannot read the job, and
the collection takes writes again; a deletion sent with `Prefer: respond-async` queues behind a running upload while
one without it keeps its documented 409. Real model, real server processes on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.helpers import ROOT, free_port

pytestmark = pytest.mark.model

A = {"Authorization": "Bearer key-a"}
B = {"Authorization": "Bearer key-b"}
ASYNC = {**A, "Prefer": "respond-async"}


def _big(tag: str, n: int = 700) -> bytes:
    """A document of ~n/6 passages that no cache holds (the tag is new each run): embedding it takes seconds."""
    return "\n\n".join(
        f"第{i}条：{tag}市{i}号产业园区2023年引进项目{i * 7 % 97}个，总投资{i * 13 % 500}亿元，"
        f"其中新材料企业{i % 37}家，带动就业{i * 11 + 5}人。"
        for i in range(n)
    ).encode()


class Serve:
    """`rag serve` in its own process over a private copy of the seeds index."""

    def __init__(self, index_dir, cache) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            "RAG_INDEX_DIR": str(index_dir),
            "RAG_EMBED_CACHE": str(cache),
            "RAG_ADMIN_KEYS": "key-a,key-b",
            "RAG_PROMPTS_DIR": str(ROOT / "prompts"),
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "OMP_WAIT_POLICY": "PASSIVE",
            "HF_HUB_OFFLINE": "1",
            "HOME": os.environ.get("HOME", "/tmp"),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(1200):
            if self.proc.poll() is not None:
                raise RuntimeError(f"rag serve exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/readyz", headers=A, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("rag serve did not become ready")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _poll(url: str, until, timeout: float = 300) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        d = httpx.get(url, headers=A, timeout=10).json()
        if until(d):
            return d
        time.sleep(0.1)
    raise AssertionError(f"timed out; last: {d}")


def _version(url: str) -> str:
    return httpx.get(url + "/readyz", headers=A, timeout=10).json()["version"]


def test_a_job_killed_mid_embedding_reads_interrupted_after_restart_and_deletions_queue(index_copy, tmp_path) -> None:
    cache = tmp_path / "cache.sqlite"
    srv = Serve(index_copy, cache)
    try:
        before = _version(srv.url)
        files = [("files", ("园区.txt", _big(uuid.uuid4().hex[:6]), "text/plain"))]
        r = httpx.post(srv.url + "/documents", files=files, headers=ASYNC, timeout=60)
        assert r.status_code == 202, r.text
        job = r.headers["location"]
        mid = _poll(srv.url + job, lambda d: d["stage"] == "embedding" and d["passages_done"] > 0)
        assert mid["passages_done"] < mid["passages_total"], "the job finished before it could be killed"
        srv.kill()
    finally:
        srv.stop()

    srv = Serve(index_copy, cache)
    try:
        assert _version(srv.url) == before  # the previous version serves
        d = httpx.get(srv.url + job, headers=A, timeout=10).json()
        assert d["state"] == "interrupted" and d["error"]["code"] == "interrupted", d
        assert d["interrupted"]["published"] is False and d["interrupted"]["version_serving"] == before
        assert d["stage"] == "embedding" and "nothing of it was published" in d["error"]["message"]
        assert httpx.get(srv.url + job, headers=B, timeout=10).status_code == 404  # another key's job
        hits = httpx.post(
            srv.url + "/search", json={"query": "2021年南昌规模以上工业增加值增长"}, headers=A, timeout=30
        ).json()["results"]
        assert hits and all(h["doc_id"] != "园区" for h in hits)

        # the collection takes writes again: an upload runs, a deletion waits behind it when asked to
        victim = httpx.get(srv.url + "/documents", headers=A, timeout=10).json()["documents"][0]["doc_id"]
        files = [("files", ("园区二.txt", _big(uuid.uuid4().hex[:6]), "text/plain"))]
        r = httpx.post(srv.url + "/documents", files=files, headers=ASYNC, timeout=60)
        assert r.status_code == 202, r.text
        upload = r.headers["location"]
        _poll(srv.url + upload, lambda d: d["state"] == "running" and d["stage"] in ("chunking", "embedding"))
        r = httpx.delete(srv.url + f"/documents/{victim}", headers=A, timeout=30)
        assert r.status_code == 409 and r.json()["error"]["code"] == "index_busy"  # without the opt-in
        r = httpx.delete(srv.url + f"/documents/{victim}", headers=ASYNC, timeout=30)
        assert r.status_code == 202 and r.json()["queue_position"] == 1, r.text
        deletion = r.headers["location"]
        up = _poll(srv.url + upload, lambda d: d["state"] != "running" and d["state"] != "queued")
        assert up["state"] == "done" and up["report"]["added"] == ["园区二"], up
        gone = _poll(srv.url + deletion, lambda d: d["state"] not in ("queued", "running"))
        assert gone["state"] == "done" and gone["report"]["deleted"] == [victim], gone
        assert gone["started_at"] >= up["finished_at"]
        docs = {x["doc_id"] for x in httpx.get(srv.url + "/documents", headers=A, timeout=10).json()["documents"]}
        assert "园区二" in docs and victim not in docs
        listed = {j["id"]: j["state"] for j in httpx.get(srv.url + "/jobs", headers=A, timeout=10).json()["jobs"]}
        assert listed[job.rsplit("/", 1)[1]] == "interrupted" and len(listed) == 3
    finally:
        srv.stop()
