"""Indexing as a background job: stages, progress, cancellation, and one writer per collection with a queue.

`Tracker` follows one indexing run through its stages (reading, chunking, embedding, publishing) with passages done,
passages/s and an ETA; `rag index` draws it and a `Job` reports it. `Jobs` runs uploaded files as jobs: each
collection has one worker thread that takes its jobs in order, so a second upload to a busy collection queues behind
the first instead of failing. Cancelling stops a job at its next progress point before publishing; the indexer
publishes a version only when it is complete (rag.indexer / rag.store), so the live version is untouched.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rag.errors import NotFound, RagError, TooManyJobs
from rag.indexer import Indexer, takes_tokenizer
from rag.store import Batch
from rag.types import Document
from rag.zh import Tokenizer

log = logging.getLogger("rag.jobs")

STAGES = ("queued", "reading", "chunking", "embedding", "publishing", "done")
FINAL = ("done", "failed", "cancelled")


class Cancelled(RagError):
    code = "cancelled"
    status = 409


class Tracker:
    """Stage and progress of one indexing run, thread-safe to read; `on_change(snapshot)` is called on every change,
    and `check()` raises Cancelled once `cancel()` was called (until publishing starts: then the run completes)."""

    def __init__(self, on_change: Callable[[dict[str, Any]], None] | None = None):
        self.on_change = on_change
        self.stage = "queued"
        self.files_total = 0
        self.files_read = 0
        self.done = 0
        self.total = 0
        self._t_stage = time.monotonic()
        self._rate_from: tuple[float, int] | None = None  # (time, done) at the first embedding report
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    # -- what a run reports
    def set_stage(self, stage: str) -> None:
        with self._lock:
            if stage == self.stage:
                return
            self.stage, self._t_stage = stage, time.monotonic()
        self._changed()

    def file_read(self, n_total: int) -> None:
        with self._lock:
            self.files_total, self.files_read = n_total, self.files_read + 1
        self._changed()

    def passages(self, done: int, total: int) -> None:
        """The indexer's progress callback: passages embedded so far (cached ones count at once) of the total."""
        now = time.monotonic()
        with self._lock:
            if self.stage != "embedding":
                self.stage, self._t_stage = "embedding", now
            if self._rate_from is None:
                self._rate_from = (now, done)  # cache hits arrive in one report: the rate counts what is computed
            self.done, self.total = min(done, total), total
        self._changed()
        self.check()

    # -- cancellation
    def cancel(self) -> bool:
        """Ask the run to stop; False when it is already publishing (it then completes)."""
        self._cancel.set()
        return self.stage not in ("publishing", "done")

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set() and self.stage not in ("publishing", "done"):
            raise Cancelled("cancelled")

    # -- what a reader sees
    def rate(self) -> float:
        with self._lock:
            if self._rate_from is None:
                return 0.0
            t0, d0 = self._rate_from
            dt = time.monotonic() - t0
            return (self.done - d0) / dt if dt > 0.2 and self.done > d0 else 0.0

    def snapshot(self) -> dict[str, Any]:
        rate = self.rate()
        with self._lock:
            left = max(self.total - self.done, 0)
            eta = (
                round(left / rate, 1)
                if rate > 0 and self.stage == "embedding"
                else (0.0 if self.stage == "done" else None)
            )
            return {
                "stage": self.stage,
                "files_total": self.files_total,
                "files_read": self.files_read,
                "passages_done": self.done,
                "passages_total": self.total,
                "passages_per_s": round(rate, 2),
                "eta_s": eta,
                "stage_s": round(time.monotonic() - self._t_stage, 1),
            }

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.snapshot())

    # -- running the indexer under the tracker
    def run(
        self, indexer: Indexer, collection: str, docs: list[Document], rebuild: bool = False, replace: bool = False
    ) -> dict[str, Any]:
        """indexer.update() with stages reported: chunking until the first passages are embedded, embedding, then
        publishing once the last batch is handed to the store. The indexer given is not modified."""
        ix = copy.copy(indexer)  # its own engine attribute; embedder, tokenizer, cache and store are shared
        inner = indexer.engine

        def engine(
            ds: list[Document], progress: Callable[[int, int], None] | None, tokenizer: Tokenizer | None = None
        ) -> Iterator[Batch]:
            self.set_stage("chunking")
            batches: Iterable[Batch] = inner(ds, progress, tokenizer) if tokenizer is not None else inner(ds, progress)
            for b in batches:
                self.check()
                yield b
            self.check()  # the last point where a cancel stops the run: the store publishes after this
            self.set_stage("publishing")

        engine.takes_tokenizer = takes_tokenizer(inner, indexer)  # type: ignore[attr-defined]
        ix.engine = engine
        self.check()
        self.set_stage("chunking")
        report = ix.update(collection, add=docs, rebuild=rebuild, progress=self.passages, replace=replace)
        self.set_stage("done")
        return report.to_dict()


@dataclass
class Upload:
    name: str
    data: bytes


@dataclass
class Job:
    id: str
    collection: str
    owner: str | None
    uploads: list[Upload]
    skip_failed: bool = False
    replace: bool = False  # documents may replace those of the same id from another file
    state: str = "queued"  # queued | running | done | failed | cancelled
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    failed: list[dict[str, str]] = field(default_factory=list)  # files that could not be read, with the reason
    report: dict[str, Any] | None = None
    exception: RagError | None = None  # why the job failed
    tracker: Tracker = field(default_factory=Tracker)
    files: list[str] = field(default_factory=list)
    size: int = 0
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.files = [u.name for u in self.uploads]
        self.size = sum(len(u.data) for u in self.uploads)
        self.tracker.files_total = len(self.uploads)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job has finished (done, failed or cancelled)."""
        return self._finished.wait(timeout)

    def to_dict(self, position: int | None = None) -> dict[str, Any]:
        p = self.tracker.snapshot()
        if self.state in ("failed", "cancelled"):
            p["eta_s"] = None
        end = self.finished or time.time()
        out: dict[str, Any] = {
            "id": self.id,
            "collection": self.collection,
            "state": self.state,
            "stage": p.pop("stage"),
            **p,
            "files": self.files,
            "failed": self.failed,
            "cancel_requested": self.tracker.cancel_requested,
            "created_at": self.created,
            "started_at": self.started,
            "finished_at": self.finished,
            "elapsed_s": round(end - (self.started or end), 1),
            "report": self.report,
            "error": {"code": self.exception.code, "message": self.exception.message} if self.exception else None,
        }
        if position is not None:
            out["queue_position"] = position
        return out


@dataclass
class Limits:
    max_active: int = 16  # queued and running jobs, all collections together
    max_bytes: int = 512 * 1024 * 1024  # uploaded bytes held by queued and running jobs
    keep: int = 100  # finished jobs kept for GET /jobs/{id}
    keep_s: float = 3600.0  # ... and for at most this long


class Jobs:
    """Registry and runner of upload jobs; one worker thread per collection while it has jobs."""

    def __init__(self, indexer: Indexer, read: Callable[[bytes, str], list[Document]], limits: Limits | None = None):
        self.indexer = indexer
        self.read = read
        self.limits = limits or Limits()
        self._jobs: dict[str, Job] = {}
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- submitting and looking up
    def submit(
        self,
        collection: str,
        uploads: list[Upload],
        owner: str | None = None,
        skip_failed: bool = False,
        replace: bool = False,
    ) -> Job:
        job = Job(uuid.uuid4().hex, collection, owner, uploads, skip_failed, replace)
        with self._lock:
            self._purge()
            active = [j for j in self._jobs.values() if j.state in ("queued", "running")]
            if len(active) >= self.limits.max_active:
                raise TooManyJobs(
                    f"{len(active)} indexing jobs are queued or running (the limit is "
                    f"{self.limits.max_active}, RAG_JOBS_MAX_ACTIVE); try again when one has finished"
                )
            held = sum(j.size for j in active if j.uploads)
            if held + job.size > self.limits.max_bytes:
                raise TooManyJobs(
                    f"queued jobs already hold {held} bytes of uploads (the limit is {self.limits.max_bytes}, "
                    "RAG_JOBS_MAX_BYTES); try again when one has finished"
                )
            self._jobs[job.id] = job
            self._queues.setdefault(collection, deque()).append(job)
            w = self._workers.get(collection)
            if w is None or not w.is_alive():
                w = threading.Thread(target=self._work, args=(collection,), name=f"rag-jobs-{collection}", daemon=True)
                self._workers[collection] = w
                w.start()
        return job

    def get(self, job_id: str, owner: str | None = None) -> Job:
        """The job, if it exists and `owner` created it (another key's job is as unknown as a missing one)."""
        with self._lock:
            self._purge()
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(
                f"job '{job_id}' not found (jobs are kept for {int(self.limits.keep_s)} s after they finish)"
            )
        return job

    def list(self, owner: str | None = None) -> list[Job]:
        with self._lock:
            self._purge()
            return sorted((j for j in self._jobs.values() if j.owner == owner), key=lambda j: j.created, reverse=True)

    def position(self, job: Job) -> int | None:
        """0 for the running job, 1.. for the jobs waiting behind it in its collection; None when finished."""
        with self._lock:
            if job.state == "running":
                return 0
            q = self._queues.get(job.collection) or deque()
            return next((i + 1 for i, j in enumerate(q) if j is job), None)

    def busy(self, collection: str) -> bool:
        """Whether a job is queued or running for the collection."""
        with self._lock:
            return any(j.collection == collection and j.state in ("queued", "running") for j in self._jobs.values())

    def cancel(self, job_id: str, owner: str | None = None, wait_s: float = 5.0) -> Job:
        """Cancel a queued job at once, a running one at its next progress point (waiting up to wait_s for it);
        a job already publishing completes."""
        job = self.get(job_id, owner)
        with self._lock:
            q = self._queues.get(job.collection)
            if job.state == "queued" and q is not None and job in q:
                q.remove(job)
                job.tracker.cancel()
                self._finish(job, "cancelled")
                return job
        if job.state == "running" and job.tracker.cancel():
            job.wait(wait_s)
        return job

    def shutdown(self) -> None:
        """Cancel everything (the server is stopping): queued jobs at once, running ones at their next check."""
        with self._lock:
            self._closed = True
            for q in self._queues.values():
                while q:
                    j = q.popleft()
                    j.tracker.cancel()
                    self._finish(j, "cancelled")
            running = [j for j in self._jobs.values() if j.state == "running"]
        for j in running:
            j.tracker.cancel()

    # -- running
    def _work(self, collection: str) -> None:
        while True:
            with self._lock:
                q = self._queues.get(collection)
                if not q or self._closed:
                    self._workers.pop(collection, None)
                    self._queues.pop(collection, None)
                    return
                job = q.popleft()
                job.state, job.started = "running", time.time()
            self._run(job)

    def _run(self, job: Job) -> None:
        t = job.tracker
        try:
            t.set_stage("reading")
            docs: list[Document] = []
            for u in job.uploads:
                t.check()
                try:
                    docs.extend(self.read(u.data, u.name))
                except RagError as e:
                    job.failed.append({"file": u.name, "code": e.code, "reason": e.message})
                    if job.exception is None:
                        job.exception = e
                t.file_read(len(job.uploads))
            job.uploads = []  # the bytes are not needed any more
            if job.failed and (not job.skip_failed or not docs):
                self._finish(job, "failed")  # all or nothing unless asked to skip: nothing is indexed
                return
            job.exception = None
            job.report = t.run(self.indexer, job.collection, docs, replace=job.replace)
            job.report["failed"] = job.failed
            self._finish(job, "done")
        except Cancelled:
            job.uploads = []
            self._finish(job, "cancelled")
        except RagError as e:
            job.uploads = []
            job.exception = e
            self._finish(job, "failed")
        except Exception as e:
            log.exception("indexing job %s failed", job.id)
            job.uploads = []
            job.exception = RagError(f"internal error while indexing ({type(e).__name__}); see the server log")
            self._finish(job, "failed")

    def _finish(self, job: Job, state: str) -> None:
        job.state, job.finished = state, time.time()
        job._finished.set()

    def _purge(self) -> None:
        """Forget finished jobs past their time or beyond the number kept (oldest first). Caller holds the lock."""
        done = sorted((j for j in self._jobs.values() if j.state in FINAL), key=lambda j: j.finished or 0)
        now = time.time()
        for i, j in enumerate(done):
            if len(done) - i > self.limits.keep or now - (j.finished or now) > self.limits.keep_s:
                del self._jobs[j.id]
