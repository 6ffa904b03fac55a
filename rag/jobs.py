"""Indexing as a background job: stages, progress, cancellation, and one writer per collection with a queue.

A `Tracker` (rag.progress) follows each job's indexing run through its stages with passages done, passages/s and an
ETA. `Jobs` runs uploaded files, and deletions asked
for with `Prefer: respond-async`, as jobs: each collection has one worker thread that takes its jobs in order, so a
second write to a busy collection queues behind the first instead of failing. Cancelling stops a job at its next
progress point before publishing; the indexer publishes a version only when it is complete (rag.indexer / rag.store),
so the live version is untouched.

With a record table (rag.jobs_db) every job's record outlives the process: a job that was queued or running when the
service stopped or died reads "interrupted" after the restart, saying whether anything of it was published (the
version serving is compared with the one that served when it started). It is not resumed: its files were not kept.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.config import Settings
from rag.errors import IndexBusy, NotFound, RagError, TooManyJobs
from rag.indexer import Indexer
from rag.job import Job, Upload, interruption
from rag.jobs_db import JobRecords
from rag.progress import Cancelled, Tracker
from rag.types import Document

log = logging.getLogger("rag.jobs")
__all__ = ["Cancelled", "Jobs", "Limits", "Tracker"]  # Tracker and Cancelled: rag.progress

FINAL = ("done", "failed", "cancelled", "interrupted")
LOCK_WAIT_S = 120.0  # how long a job waits for a writer outside the queue to release the collection


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass
class Limits:
    max_active: int = _default("jobs_max_active")  # queued and running jobs, all collections together
    max_bytes: int = _default("jobs_max_bytes")  # uploaded bytes held by queued and running jobs
    keep: int = _default("jobs_keep")  # finished jobs kept per collection for GET /jobs/{id}
    keep_s: float = _default("jobs_keep_s")  # ... and for at most this long after they finish

    @classmethod
    def of(cls, s: Settings) -> Limits:
        return cls(s.jobs_max_active, s.jobs_max_bytes, s.jobs_keep, s.jobs_keep_s)


class Jobs:
    """Registry and runner of indexing jobs; one worker thread per collection while it has jobs. With `records` the
    jobs' records are kept in SQLite: those of an earlier process are read back, the unfinished ones as interrupted."""

    def __init__(
        self,
        indexer: Indexer,
        read: Callable[[bytes, str], list[Document]],
        limits: Limits | None = None,
        records: JobRecords | None = None,
    ):
        self.indexer = indexer
        self.read = read
        self.limits = limits or Limits()
        self.records = records
        self._jobs: dict[str, Job] = {}
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closed = False
        if records is not None:
            self._restore(records)

    # -- submitting and looking up
    def submit(
        self,
        collection: str,
        uploads: list[Upload],
        owner: str | None = None,
        skip_failed: bool = False,
        replace: bool = False,
        wait_for_lock: bool = True,
    ) -> Job:
        """Queue an upload. `wait_for_lock=False` for a caller that waits for the answer (a small upload answered
        synchronously): a writer outside the queue then fails the job with index_busy (409) at once."""
        job = Job(uuid.uuid4().hex, collection, owner, uploads, skip_failed, replace, wait_for_lock=wait_for_lock)
        return self._submit(job)

    def submit_delete(self, collection: str, doc_ids: list[str], owner: str | None = None) -> Job:
        """Delete documents once the jobs ahead of this one in the collection have finished (a document that is not
        there by then fails the job with not_found, and nothing is deleted)."""
        return self._submit(Job(uuid.uuid4().hex, collection, owner, [], deletes=list(doc_ids)))

    def _submit(self, job: Job) -> Job:
        collection = job.collection
        job.tracker.on_change = lambda _snapshot: self._save(job, progress=True)
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
            self._save(job)
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

    def shutdown(self, wait_s: float = 5.0) -> None:
        """Stop everything (the server is stopping): queued jobs at once, running ones at their next check (one that
        is publishing completes), waiting up to wait_s for them; each reads "interrupted", saying what was
        published (a job still running when the process ends is marked so when the next one starts)."""
        with self._lock:
            self._closed = True
            for q in self._queues.values():
                while q:
                    j = q.popleft()
                    j.tracker.cancel()
                    self._interrupt(j)
            running = [j for j in self._jobs.values() if j.state == "running"]
        for j in running:
            j.tracker.cancel()
        deadline = time.monotonic() + wait_s
        for j in running:
            j.wait(max(deadline - time.monotonic(), 0))

    def _interrupt(self, job: Job, why: str = "a stop of the service") -> None:
        job.interrupted, job.exception = interruption(job.to_dict(), self._serving(job.collection), why)
        self._finish(job, "interrupted")

    def _serving(self, collection: str) -> str | None:
        try:
            return self.indexer.store.current_version(collection)
        except (RagError, OSError):  # an unreachable store: the record says it does not know
            return None

    # -- running
    def _work(self, collection: str) -> None:
        while True:
            with self._lock:
                self._purge()  # the finished job's record may push an old one out
                q = self._queues.get(collection)
                if not q or self._closed:
                    self._workers.pop(collection, None)
                    self._queues.pop(collection, None)
                    return
                job = q.popleft()
                job.state, job.started = "running", time.time()
            job.version_before = self._serving(collection)
            self._save(job)
            self._run(job)

    def _run(self, job: Job) -> None:
        t = job.tracker
        try:
            if job.deletes:
                job.report = self._index(job, [])
                self._finish(job, "done")
                return
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
            job.report = self._index(job, docs)
            job.report["failed"] = job.failed
            self._finish(job, "done")
        except Cancelled:
            job.uploads = []
            if self._closed:  # the service is stopping, not the user cancelling
                self._interrupt(job)
            else:
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

    def _index(self, job: Job, docs: list[Document]) -> dict[str, Any]:
        """Run the indexer for the job; while another writer (`rag index`, a DELETE without the opt-in) holds the
        collection, wait for it (up to LOCK_WAIT_S) instead of failing: the lock is taken before any work."""
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                return job.tracker.run(
                    self.indexer, job.collection, docs, replace=job.replace, delete=job.deletes or None
                )
            except IndexBusy:
                if not job.wait_for_lock or time.monotonic() > deadline:
                    raise
                job.tracker.check()
                time.sleep(0.25)

    def _finish(self, job: Job, state: str) -> None:
        job.end(state)
        self._save(job)
        job.released()

    # -- records
    def _save(self, job: Job, progress: bool = False) -> None:
        """Write the job's record; for a progress report only at a stage change or every SAVE_EVERY_S."""
        if self.records is None or job.record is not None:
            return
        d = job.to_dict()
        if not job.record_due(d["stage"], progress):
            return
        try:
            self.records.save(d, job.owner)
        except Exception:  # a full disk must not fail the indexing: the record is only a record
            log.exception("could not save the record of job %s", job.id)

    def _restore(self, records: JobRecords) -> None:
        """Read back an earlier process's jobs; those it left queued or running are interrupted (not resumed)."""
        for record, owner in records.load():
            if record.get("state") not in FINAL:
                info, e = interruption(record, self._serving(record["collection"]), "a restart of the service")
                record.update(
                    state="interrupted",
                    finished_at=time.time(),
                    eta_s=None,
                    interrupted=info,
                    error={"code": e.code, "message": e.message},
                )
                records.save(record, owner)
            job = Job.restored(record, owner)
            self._jobs[job.id] = job
        with self._lock:
            self._purge()

    def _purge(self) -> None:
        """Forget finished jobs past their time or beyond the number kept per collection (oldest first), in memory
        and in the record table. Caller holds the lock."""
        done = sorted((j for j in self._jobs.values() if j.state in FINAL), key=lambda j: j.finished or 0)
        left: dict[str, int] = {}
        for j in done:
            left[j.collection] = left.get(j.collection, 0) + 1
        now, gone = time.time(), []
        for j in done:
            if left[j.collection] > self.limits.keep or now - (j.finished or now) > self.limits.keep_s:
                del self._jobs[j.id]
                gone.append(j.id)
            left[j.collection] -= 1
        if gone and self.records is not None:
            try:
                self.records.delete(gone)
            except Exception:
                log.exception("could not delete job records")
