"""Background indexing jobs with a real indexer and FAISS store over a slow fake embedder: stages and ETA, a queue per
collection, cancellation that leaves the live version untouched, failed files, bounds, per-key visibility, HTTP."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pytest

from rag.config import Settings
from rag.errors import NotFound, TooManyJobs
from rag.factory import Components
from rag.ingest import read_bytes
from rag.job import Upload
from rag.jobs import Jobs, Limits, Tracker
from rag.jobs_db import JobRecords
from rag.store import faiss_store as store
from tests.helpers import ROOT, FakeEmbedder, Server


class SlowEmbedder(FakeEmbedder):
    """Embeds two texts at a time at a model's pace; `gate` holds it (cleared) so a test can act mid-embedding."""

    def __init__(self, delay: float = 0.02) -> None:
        super().__init__()
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def embed_documents(self, texts, progress=None):
        out = []
        for i in range(0, len(texts), 2):
            self.started.set()
            self.gate.wait(30)
            time.sleep(self.delay)
            part = texts[i : i + 2]
            out.extend(self._vec(t) for t in part)
            if progress:
                progress(len(part))
        return np.stack(out) if out else np.zeros((0, self.dim), np.float32)


def doc_text(tag: str, n: int = 40) -> str:
    return "\n\n".join(
        f"{tag}第{i}项：南昌市{tag}重点项目{i}号总投资{i * 3 + 7}亿元，"
        f"预计{2024 + i % 5}年建成投产，带动就业{i * 11 + 5}人。"
        for i in range(n)
    )


def make(tmp_path, embedder=None, **kw) -> Components:
    s = Settings(
        _env_file=None,
        index_dir=tmp_path / "index",
        embed_cache=tmp_path / "cache.sqlite",
        prompts_dir=ROOT / "prompts",
        **kw,
    )
    comp = Components(s, embedder=embedder or SlowEmbedder())
    comp.indexer.update("default", add=read_bytes("南昌市2021年规模以上工业增加值增长11.4%。".encode(), "base.txt"))
    return comp


def jobs_for(comp: Components, records: JobRecords | None = None, **limits) -> Jobs:
    return Jobs(comp.indexer, lambda data, name: read_bytes(data, name), Limits(**limits), records)


def up(name: str, text: str) -> Upload:
    return Upload(name, text.encode())


def current(comp: Components, coll: str = "default") -> str:
    return (store.collection_path(comp.settings.index_dir, coll) / "CURRENT").read_text()


def test_tracker_reports_stages_in_order_with_rate_and_eta(tmp_path) -> None:
    comp = make(tmp_path, SlowEmbedder(delay=0.1))
    seen: list[dict] = []
    t = Tracker(on_change=seen.append)
    report = t.run(comp.indexer, "default", read_bytes(doc_text("甲", 80).encode(), "甲.txt"))
    stages = list(dict.fromkeys(s["stage"] for s in seen))
    assert stages == ["chunking", "embedding", "publishing", "done"]
    emb = [s for s in seen if s["stage"] == "embedding"]
    total = emb[-1]["passages_total"]
    assert total == report["embedded"] + report["cached"] >= 10 and emb[-1]["passages_done"] == total
    assert [s["passages_done"] for s in emb] == sorted(s["passages_done"] for s in emb)
    timed = [s for s in emb if s["eta_s"] is not None]
    assert timed and all(s["passages_per_s"] > 0 for s in timed)
    mid = timed[0]  # ETA = passages left / rate
    assert mid["eta_s"] == pytest.approx((total - mid["passages_done"]) / mid["passages_per_s"], rel=0.05, abs=0.2)
    assert comp.indexer.engine == comp.indexer.embed_local  # the shared indexer was not modified


def test_a_second_job_queues_behind_the_first_then_both_publish(tmp_path) -> None:
    emb = SlowEmbedder()
    comp = make(tmp_path, emb)
    jobs = jobs_for(comp)
    emb.gate.clear()
    emb.started.clear()
    first = jobs.submit("default", [up("甲.txt", doc_text("甲"))])
    assert emb.started.wait(30)
    second = jobs.submit("default", [up("乙.txt", doc_text("乙"))])
    assert jobs.busy("default") and not jobs.busy("other")
    assert (first.state, jobs.position(first)) == ("running", 0)
    assert (second.state, jobs.position(second), second.to_dict()["stage"]) == ("queued", 1, "queued")
    assert first.to_dict()["stage"] in ("chunking", "embedding")
    emb.gate.set()
    assert first.wait(60) and second.wait(60)
    assert (first.state, second.state) == ("done", "done"), (first.exception, second.exception)
    assert first.report["added"] == ["甲"] and second.report["added"] == ["乙"]
    assert second.started >= first.finished  # one writer at a time
    docs = comp.store.load("default").documents
    assert {"base", "甲", "乙"} <= set(docs)
    d = second.to_dict()
    assert d["passages_done"] == d["passages_total"] > 0 and d["eta_s"] == 0.0 and d["files"] == ["乙.txt"]


def test_cancelling_a_running_job_leaves_the_live_version_untouched(tmp_path) -> None:
    emb = SlowEmbedder()
    comp = make(tmp_path, emb)
    jobs = jobs_for(comp)
    before = current(comp)
    emb.gate.clear()
    emb.started.clear()
    job = jobs.submit("default", [up("甲.txt", doc_text("甲"))])
    queued = jobs.submit("default", [up("乙.txt", doc_text("乙"))])
    assert emb.started.wait(30)
    assert jobs.cancel(queued.id).state == "cancelled" and queued.started is None  # a queued job never starts
    threading.Timer(0.3, emb.gate.set).start()
    assert jobs.cancel(job.id, wait_s=30).state == "cancelled"
    d = job.to_dict()
    assert d["cancel_requested"] and d["report"] is None and d["passages_done"] < d["passages_total"]
    assert current(comp) == before
    assert set(comp.store.load("default").documents) == {"base"}
    # the next write to the collection goes ahead, and removes what the cancelled one left half-written
    again = jobs.submit("default", [up("丙.txt", "景德镇陶瓷产业2022年营业收入为500亿元。")])
    assert again.wait(30) and again.state == "done"
    root = store.collection_path(comp.settings.index_dir, "default")
    assert {p.name for p in root.iterdir() if p.is_dir()} <= {"versions", *(p.name for p in root.glob("v*"))}


def test_failed_files_abort_the_job_unless_asked_to_skip(tmp_path) -> None:
    comp = make(tmp_path)
    jobs = jobs_for(comp)
    before = current(comp)
    bad = [
        up("好.txt", "九江2022年GDP为3400亿元。"),
        Upload("坏.txt", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        Upload("旧.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)),
    ]
    job = jobs.submit("default", bad)
    assert job.wait(30) and job.state == "failed"
    assert [(f["file"], f["code"]) for f in job.failed] == [
        ("坏.txt", "unsupported_format"),
        ("旧.doc", "unsupported_format"),
    ]
    assert "另存为 .docx" in job.failed[1]["reason"] and job.to_dict()["error"]["message"].startswith("坏.txt")
    assert current(comp) == before  # all or nothing: the good file was not indexed either
    job = jobs.submit("default", bad, skip_failed=True)
    assert job.wait(30) and job.state == "done", job.exception
    assert job.report["added"] == ["好"] and [f["file"] for f in job.report["failed"]] == ["坏.txt", "旧.doc"]
    assert job.to_dict()["error"] is None


def test_jobs_are_bounded_and_visible_only_to_their_owner(tmp_path) -> None:
    emb = SlowEmbedder()
    comp = make(tmp_path, emb)
    jobs = jobs_for(comp, max_active=1, keep=1, max_bytes=10_000)
    emb.gate.clear()
    a = jobs.submit("default", [up("甲.txt", doc_text("甲", 4))], owner="key-a")
    with pytest.raises(TooManyJobs, match="limit is 1"):
        jobs.submit("other", [up("乙.txt", "宜春锂电。")], owner="key-a")
    with pytest.raises(NotFound):
        jobs.get(a.id, owner="key-b")
    with pytest.raises(NotFound):
        jobs.cancel(a.id, owner="key-b")
    assert jobs.get(a.id, owner="key-a") is a and jobs.list("key-b") == [] and jobs.list("key-a") == [a]
    emb.gate.set()
    assert a.wait(30)
    with pytest.raises(TooManyJobs, match="bytes"):
        jobs.submit("default", [Upload("大.txt", "南".encode() * 4000)], owner="key-a")
    b = jobs.submit("default", [up("乙.txt", "宜春锂电。")], owner="key-a")
    assert b.wait(30)
    with pytest.raises(NotFound):  # only the newest finished job is kept
        jobs.get(a.id, owner="key-a")


def test_a_deletion_queues_behind_a_running_upload_and_may_delete_what_it_adds(tmp_path) -> None:
    emb = SlowEmbedder()
    comp = make(tmp_path, emb)
    jobs = jobs_for(comp)
    emb.gate.clear()
    emb.started.clear()
    upload = jobs.submit("default", [up("甲.txt", doc_text("甲"))], owner="key-a")
    assert emb.started.wait(30)
    gone = jobs.submit_delete("default", ["base"], owner="key-a")
    added = jobs.submit_delete("default", ["甲"], owner="key-a")  # not there yet: the upload ahead adds it
    missing = jobs.submit_delete("default", ["无此文档"], owner="key-a")
    d = gone.to_dict(jobs.position(gone))
    assert (d["kind"], d["state"], d["queue_position"], d["documents"], d["files"]) == (
        "delete",
        "queued",
        1,
        ["base"],
        [],
    )
    assert upload.to_dict()["kind"] == "upload"
    emb.gate.set()
    for j in (upload, gone, added, missing):
        assert j.wait(60)
    assert (upload.state, gone.state, added.state) == ("done", "done", "done"), (gone.exception, added.exception)
    assert gone.report["deleted"] == ["base"] and added.report["deleted"] == ["甲"]
    assert gone.started >= upload.finished and added.started >= gone.finished  # in order, one writer at a time
    assert missing.state == "failed" and missing.to_dict()["error"]["code"] == "not_found"
    assert comp.store.load("default").documents == {}


def test_a_job_waits_for_a_writer_outside_the_queue_instead_of_failing(tmp_path) -> None:
    comp = make(tmp_path)
    jobs = jobs_for(comp)
    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:  # `rag index` or a DELETE without the opt-in, holding the collection
        with comp.store.lock("default"):
            held.set()
            release.wait(30)

    threading.Thread(target=other_writer, daemon=True).start()
    assert held.wait(30)
    # a caller that waits for its answer (a small upload answered at once) keeps the documented 409
    quick = jobs.submit("default", [up("乙.txt", "宜春锂电。")], wait_for_lock=False)
    assert quick.wait(30) and quick.state == "failed" and quick.exception.code == "index_busy"
    job = jobs.submit("default", [up("甲.txt", "抚州2022年GDP为1900亿元。")])
    assert not job.wait(0.6) and job.state == "running"
    release.set()
    assert job.wait(30) and job.state == "done", job.exception
    assert job.report["added"] == ["甲"]


def test_job_records_survive_a_restart_and_unfinished_jobs_read_interrupted(tmp_path) -> None:
    emb = SlowEmbedder()
    comp = make(tmp_path, emb)
    db = tmp_path / "index" / "jobs.sqlite"
    jobs = jobs_for(comp, JobRecords(db))
    done = jobs.submit("default", [up("乙.txt", "宜春锂电产业2022年营收1000亿元。")], owner="key-a")
    assert done.wait(30) and done.state == "done"
    before = current(comp)
    emb.gate.clear()
    emb.started.clear()
    running = jobs.submit("default", [up("甲.txt", doc_text("甲"))], owner="key-a")
    queued = jobs.submit("default", [up("丙.txt", doc_text("丙"))], owner="key-a")
    assert emb.started.wait(30)
    time.sleep(0.2)

    # the process dies here: a new one reads the records (the old worker, frozen, writes nothing more)
    jobs.records = None
    later = jobs_for(comp, JobRecords(db))
    d = later.get(done.id, owner="key-a").to_dict()
    assert d["state"] == "done" and d["report"] == done.report and d["files"] == ["乙.txt"]
    r = later.get(running.id, owner="key-a").to_dict()
    assert r["state"] == "interrupted" and r["error"]["code"] == "interrupted" and r["eta_s"] is None
    assert r["interrupted"] == {
        "by": "a restart of the service",
        "stage": r["stage"],
        "version_before": before,
        "version_serving": before,
        "published": False,
    }
    assert r["stage"] in ("chunking", "embedding") and "nothing of it was published" in r["error"]["message"]
    assert "not resumed" in r["error"]["message"]
    q = later.get(queued.id, owner="key-a").to_dict()
    assert q["state"] == "interrupted" and "before it started" in q["error"]["message"]
    assert q["interrupted"]["published"] is False
    assert later.cancel(running.id, owner="key-a").state == "interrupted"  # a finished job stays as it is
    assert not later.busy("default") and later.position(later.get(running.id, owner="key-a")) is None
    # another key cannot read them after the restart either
    for j in (done, running, queued):
        with pytest.raises(NotFound):
            later.get(j.id, owner="key-b")
    assert later.list("key-b") == [] and len(later.list("key-a")) == 3
    assert current(comp) == before  # the interrupted job published nothing: the previous version serves
    threading.Timer(0.3, emb.gate.set).start()
    jobs.shutdown(wait_s=30)  # the first process's worker stops (it holds the collection's lock)
    assert running.wait(30)
    # the collection takes writes again, and a third process still reads the same
    again = later.submit("default", [up("丁.txt", "抚州2022年GDP为1900亿元。")], owner="key-a")
    assert again.wait(30) and again.state == "done", again.exception
    third = jobs_for(comp, JobRecords(db))
    assert third.get(running.id, owner="key-a").to_dict() == later.get(running.id, owner="key-a").to_dict()
    assert third.get(again.id, owner="key-a").to_dict()["report"]["added"] == ["丁"]


def test_a_stopping_service_records_its_jobs_as_interrupted_and_the_table_is_bounded(tmp_path) -> None:
    emb = SlowEmbedder()
    comp = make(tmp_path, emb)
    db = tmp_path / "jobs.sqlite"
    jobs = jobs_for(comp, JobRecords(db), keep=2)
    for i in range(3):
        j = jobs.submit("default", [up(f"小{i}.txt", f"新余2022年第{i}季度增长8.{i}%。")])
        assert j.wait(30)
        o = jobs.submit("other", [up(f"他{i}.txt", f"萍乡2022年第{i}季度增长6.{i}%。")])
        assert o.wait(30)
    assert len(jobs.list()) == 4  # the last two per collection, in memory and in the table
    assert sorted(r["collection"] for r, _ in JobRecords(db).load()) == ["default"] * 2 + ["other"] * 2
    before = current(comp)
    emb.gate.clear()
    emb.started.clear()
    running = jobs.submit("default", [up("甲.txt", doc_text("甲"))])
    queued = jobs.submit("default", [up("乙.txt", doc_text("乙"))])
    assert emb.started.wait(30)
    threading.Timer(0.3, emb.gate.set).start()
    jobs.shutdown(wait_s=30)
    assert (running.state, queued.state) == ("interrupted", "interrupted")
    r = running.to_dict()
    assert r["interrupted"]["by"] == "a stop of the service" and r["interrupted"]["published"] is False
    assert current(comp) == before
    records = {rec["id"]: rec for rec, _ in JobRecords(db).load()}
    assert records[running.id]["state"] == records[queued.id]["state"] == "interrupted"
    assert records[running.id]["error"]["code"] == "interrupted"


@pytest.fixture
def app(tmp_path):
    from rag.api.app import create_app

    emb = SlowEmbedder()
    comp = make(tmp_path, emb, admin_keys="key-a,key-b")
    with Server(create_app(comp.settings, comp)) as srv:
        yield srv, emb, comp


def test_http_upload_job_poll_cancel_and_visibility(app) -> None:
    srv, emb, comp = app
    a, b = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    files = [("files", (f"文件{i}.txt", doc_text(f"文{i}", 6).encode(), "text/plain")) for i in range(6)]
    emb.gate.clear()
    emb.delay = 0.3
    r = httpx.post(srv.url + "/documents", files=files, data={"collection": "jobs"}, headers=a, timeout=60)
    assert r.status_code == 202, r.text
    assert emb.started.wait(30)
    assert httpx.get(srv.url + r.headers["location"], headers=a).json()["stage"] == "chunking"
    job = r.json()
    assert r.headers["location"] == f"/jobs/{job['id']}" and job["collection"] == "jobs"
    assert job["state"] in ("queued", "running") and len(job["files"]) == 6
    assert httpx.get(srv.url + r.headers["location"], headers=b).status_code == 404  # another key's job
    assert httpx.get(srv.url + r.headers["location"]).status_code == 401
    emb.gate.set()
    stages, last = [], None
    for _ in range(600):
        last = httpx.get(srv.url + r.headers["location"], headers=a).json()
        stages.append(last["stage"])
        if last["state"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert last["state"] == "done" and last["report"]["added"] == sorted(f"文件{i}" for i in range(6))
    assert "embedding" in stages and last["passages_done"] == last["passages_total"] > 0
    emb.delay = 0.02
    assert [j["id"] for j in httpx.get(srv.url + "/jobs", headers=a).json()["jobs"]] == [job["id"]]
    assert httpx.get(srv.url + "/jobs", headers=b).json()["jobs"] == []
    hits = httpx.post(srv.url + "/search", json={"query": "文5第3项重点项目", "collection": "jobs"}, headers=a).json()
    assert hits["results"][0]["doc_id"] == "文件5"

    # a small upload answers at once with the report; Prefer: respond-async makes it a job all the same
    small = [("files", ("小.txt", "新余2022年增长8.8%。".encode(), "text/plain"))]
    r = httpx.post(srv.url + "/documents", files=small, data={"collection": "jobs"}, headers=a, timeout=60)
    assert r.status_code == 201 and r.json()["added"] == ["小"] and r.json()["failed"] == []
    r = httpx.post(
        srv.url + "/documents",
        files=small,
        data={"collection": "jobs"},
        timeout=60,
        headers={**a, "Prefer": "respond-async"},
    )
    assert r.status_code == 202 and httpx.get(srv.url + r.headers["location"], headers=a).status_code == 200
    for _ in range(600):  # the collection is idle again before the next small upload (else it would queue: 202)
        if httpx.get(srv.url + r.headers["location"], headers=a).json()["state"] == "done":
            break
        time.sleep(0.05)
    mixed = [
        ("files", ("好.txt", "萍乡2022年工业陶瓷营收287.3亿元。".encode(), "text/plain")),
        ("files", ("坏.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "application/octet-stream")),
    ]
    r = httpx.post(srv.url + "/documents", files=mixed, data={"collection": "jobs"}, headers=a, timeout=60)
    assert r.status_code == 415 and r.json()["error"]["message"].startswith("坏.wps: 不支持旧版 WPS 文字 文件")
    for field in ("on_error", "collection"):  # an empty field is no choice (FastAPI would read it as absent)
        r = httpx.post(srv.url + "/documents", files=mixed, data={field: ""}, headers=a, timeout=60)
        assert r.status_code == 400 and r.json()["error"]["message"] == f"{field} is empty", r.text
    r = httpx.post(
        srv.url + "/documents", files=mixed, data={"collection": "jobs", "on_error": "skip"}, headers=a, timeout=60
    )
    assert (
        r.status_code == 201 and r.json()["added"] == ["好"] and [f["file"] for f in r.json()["failed"]] == ["坏.wps"]
    )

    # cancel over HTTP mid-embedding: the live version stays
    before = current(comp, "jobs")
    emb.gate.clear()
    emb.started.clear()
    r = httpx.post(
        srv.url + "/documents",
        files=[("files", ("取消.txt", doc_text("取消").encode(), "text/plain"))],
        data={"collection": "jobs"},
        headers={**a, "Prefer": "respond-async"},
        timeout=60,
    )
    assert emb.started.wait(30)
    threading.Timer(0.3, emb.gate.set).start()
    d = httpx.delete(srv.url + r.headers["location"], headers=a, timeout=60).json()
    assert d["state"] == "cancelled" and d["cancel_requested"]
    assert current(comp, "jobs") == before
    assert httpx.delete(srv.url + r.headers["location"], headers=b).status_code == 404


def test_http_reader_limits_are_settings(tmp_path) -> None:
    """A lowered reader limit is enforced on uploads: a 413 naming the file and the setting, nothing indexed."""
    from rag.api.app import create_app

    comp = make(tmp_path, max_table_rows=3)
    before = current(comp)
    rows = "城市,人口\n" + "".join(f"城{i},{i}\n" for i in range(4))
    with Server(create_app(comp.settings, comp)) as srv:
        r = httpx.post(srv.url + "/documents", files=[("files", ("人口.csv", rows.encode(), "text/csv"))], timeout=60)
        assert r.status_code == 413, r.text
        err = r.json()["error"]
        assert err["code"] == "too_large" and err["message"].startswith("人口.csv: more than 3 rows")
        assert "RAG_MAX_TABLE_ROWS" in err["message"]
        assert current(comp) == before
        ok = "城市,人口\n" + "".join(f"城{i},{i}\n" for i in range(3))  # the worst allowed file
        r = httpx.post(srv.url + "/documents", files=[("files", ("人口.csv", ok.encode(), "text/csv"))], timeout=60)
        assert r.status_code == 201 and r.json()["added"] == ["人口"], r.text


def _poll(url: str, headers: dict) -> dict:
    for _ in range(600):
        d = httpx.get(url, headers=headers).json()
        if d["state"] not in ("queued", "running"):
            return d
        time.sleep(0.05)
    raise AssertionError(f"job still running: {d}")


def test_http_deletion_queues_behind_a_job_when_asked_and_jobs_outlive_the_app(app) -> None:
    from rag.api.app import create_app

    srv, emb, comp = app
    a, b = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    later = {**a, "Prefer": "respond-async"}
    emb.gate.clear()
    emb.started.clear()
    files = [("files", ("甲.txt", doc_text("甲").encode(), "text/plain"))]
    r = httpx.post(srv.url + "/documents", files=files, headers=later, timeout=60)
    assert r.status_code == 202
    upload = r.headers["location"]
    assert emb.started.wait(30)
    r = httpx.delete(srv.url + "/documents/base", headers=a)  # the documented answer without the opt-in
    assert r.status_code == 409 and r.json()["error"]["code"] == "index_busy"
    r = httpx.delete(srv.url + "/documents/base", headers=later)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/jobs/{job['id']}"
    assert (job["kind"], job["state"], job["queue_position"], job["documents"]) == ("delete", "queued", 1, ["base"])
    assert httpx.get(srv.url + r.headers["location"], headers=b).status_code == 404
    missing = httpx.delete(srv.url + "/documents/无此文档", headers=later).headers["location"]
    emb.gate.set()
    assert _poll(srv.url + upload, a)["state"] == "done"
    d = _poll(srv.url + r.headers["location"], a)
    assert d["state"] == "done" and d["report"]["deleted"] == ["base"], d
    assert _poll(srv.url + missing, a)["error"]["code"] == "not_found"
    docs = httpx.get(srv.url + "/documents", headers=a).json()["documents"]
    assert [x["doc_id"] for x in docs] == ["甲"]
    # on an idle collection a missing document or collection is a 404 at once, as without the opt-in
    assert httpx.delete(srv.url + "/documents/base", headers=later).status_code == 404
    assert httpx.delete(srv.url + "/documents/甲?collection=nowhere", headers=later).status_code == 404

    # a new app over the same index (a restart) still knows the jobs, for their key only
    with Server(create_app(comp.settings, comp)) as again:
        d2 = httpx.get(again.url + r.headers["location"], headers=a).json()
        assert {k: d2[k] for k in ("state", "kind", "report")} == {k: d[k] for k in ("state", "kind", "report")}
        assert httpx.get(again.url + r.headers["location"], headers=b).status_code == 404
        assert len(httpx.get(again.url + "/jobs", headers=a).json()["jobs"]) == 3
