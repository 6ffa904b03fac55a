"""Nothing lost: `rag index` killed with SIGKILL mid-build leaves the previous version serving the same answers and the
next run removes the half-built one; a second writer is refused with a clear message; a live re-index switches
concurrent /search and /ask requests to the new version atomically, with zero errors. Real model, real server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from rag.indexer import collection_lock
from tests.helpers import SEEDS, SHARED_CACHE, Server, settings_for

pytestmark = pytest.mark.model

QUESTIONS = [
    "2021年南昌规模以上工业增加值增长了多少？",
    "华勤千亿产业基地项目投资多少",
    "景德镇陶瓷产业2022年营业收入是多少？",
]
Q_NEW = "景德镇陶瓷产业2022年营业收入是多少？"
NEW_DOC = "景德镇陶瓷产业2022年营业收入为500亿元，同比增长12%。"


def _env(index_dir) -> dict[str, str]:
    return {
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_EMBED_CACHE": str(SHARED_CACHE),
        "PATH": os.environ.get("PATH", ""),
        "OMP_WAIT_POLICY": "PASSIVE",
        "HF_HUB_OFFLINE": "1",
        "HOME": os.environ.get("HOME", "/tmp"),
    }


def _answers(index_dir, embedder) -> list[dict]:
    from rag.factory import Components

    comp = Components(settings_for(index_dir), embedder=embedder)  # the same real model, loaded once per session
    out = []
    for q in QUESTIONS:
        d = comp.pipeline.ask(q).to_dict()
        d.pop("timings_ms")
        out.append(d)
    return out


def _leftovers(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((".building-", ".CURRENT-")))


def test_sigkill_mid_build_keeps_the_previous_index_and_the_next_run_cleans_up(
    index_copy, tmp_path, components
) -> None:
    root = index_copy / "default"
    before_version = (root / "CURRENT").read_text()
    before = _answers(index_copy, components.embedder)
    # a big input whose passages are all in the embedding cache: the build spends its time chunking and writing,
    # so the half-built version folder exists for long enough to be killed in the middle of it
    big = tmp_path / "big"
    big.mkdir()
    for i in range(12):
        for f in SEEDS.glob("*.txt"):
            shutil.copy(f, big / f"copy{i:02d}_{f.name}")
    killed_mid_build = False
    for _ in range(3):  # the kill must land while a version folder is half-written; try again if the build won the race
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "index", str(big), "--json"],
            env=_env(index_copy),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        while proc.poll() is None:
            if _leftovers(root):
                proc.send_signal(signal.SIGKILL)
                killed_mid_build = True
                break
            time.sleep(0.002)
        proc.wait(timeout=60)
        if killed_mid_build:
            break
        assert proc.returncode == 0, proc.stderr.read().decode()
        subprocess.run(
            [sys.executable, "-m", "rag.cli", "index", "--rebuild"],
            env=_env(index_copy),
            check=True,
            capture_output=True,
            timeout=600,
        )  # back to the seeds alone, then try again
        before_version = (root / "CURRENT").read_text()
    assert killed_mid_build and proc.returncode == -signal.SIGKILL
    assert _leftovers(root), "the killed build should have left its half-written folder"
    assert (root / "CURRENT").read_text() == before_version
    assert _answers(index_copy, components.embedder) == before  # the previous version loads and answers the same

    # the next run (here: nothing to do) takes the lock and removes what the killed one left
    r = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", "--json"],
        env=_env(index_copy),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert _leftovers(root) == []
    assert (root / "CURRENT").read_text() == before_version


def test_a_second_writer_is_refused_with_a_clear_message(index_copy, tmp_path, built_index, server) -> None:
    doc = tmp_path / "jdz.txt"
    doc.write_text(NEW_DOC, encoding="utf-8")
    with collection_lock(index_copy, "default"):
        r = subprocess.run(
            [sys.executable, "-m", "rag.cli", "index", str(doc)],
            env=_env(index_copy),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert r.returncode == 6, r.stderr
    assert f"collection 'default' is being indexed by pid {os.getpid()}" in r.stderr
    # over HTTP: the same refusal as a 409 in the API's error shape (a collection of the shared server's index)
    with collection_lock(built_index, "busy-test"):
        r = httpx.post(
            server.url + "/documents",
            files=[("files", ("jdz.txt", NEW_DOC.encode(), "text/plain"))],
            data={"collection": "busy-test"},
            timeout=60,
        )
    assert r.status_code == 409 and r.json()["error"]["code"] == "index_busy"
    assert "being indexed" in r.json()["error"]["message"]


def test_live_reindex_switches_concurrent_requests_atomically(index_copy, tmp_path, components) -> None:
    from rag.api.app import create_app
    from rag.factory import Components

    comp = Components(settings_for(index_copy), embedder=components.embedder)
    doc = tmp_path / "jdz.txt"
    doc.write_text(NEW_DOC, encoding="utf-8")
    stop = threading.Event()
    seen: dict[int, list[tuple[float, int, bool]]] = {}

    def client(k: int) -> None:
        log = seen.setdefault(k, [])
        with httpx.Client(base_url=srv.url, timeout=120) as http:
            while not stop.is_set():
                t = time.monotonic()
                if k % 2:
                    r = http.post("/search", json={"query": "景德镇陶瓷产业营业收入", "top_k": 3})
                    new = r.status_code == 200 and any(h["doc_id"] == "jdz" for h in r.json()["results"])
                else:
                    r = http.post("/ask", json={"question": Q_NEW})
                    new = r.status_code == 200 and "500亿元" in r.json()["answer"]
                    if r.status_code == 200 and not new and r.json()["answerable"]:
                        log.append((t, -1, new))  # neither the old refusal nor the new answer
                        continue
                log.append((t, r.status_code, new))

    with Server(create_app(comp.settings, comp)) as srv:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for th in threads:
            th.start()
        while sum(len(v) for v in seen.values()) < 8:  # some requests are answered by the old version first
            time.sleep(0.05)
        r = subprocess.run(
            [sys.executable, "-m", "rag.cli", "index", str(doc), "--json"],
            env=_env(index_copy),
            capture_output=True,
            text=True,
            timeout=600,
        )
        published = time.monotonic()
        assert r.returncode == 0, r.stderr
        while sum(1 for v in seen.values() for t, _, _ in v if t > published) < 8:  # and some by the new one
            time.sleep(0.05)
        stop.set()
        for th in threads:
            th.join(timeout=120)

    requests = [x for v in seen.values() for x in v]
    assert all(status == 200 for _, status, _ in requests), sorted({s for _, s, _ in requests})
    assert any(not new for _, _, new in requests) and any(new for _, _, new in requests)
    for log in seen.values():  # each client moves from the old version to the new one once and never back
        flags = [new for _, _, new in log]
        assert flags == sorted(flags), flags
    assert all(new for t, _, new in requests if t > published)
