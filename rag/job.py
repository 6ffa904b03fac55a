"""One background job (rag.jobs): what it was asked to do, its state and progress, the record it leaves, and what a
stop or crash of the service leaves of it (interruption)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rag.errors import RagError
from rag.progress import Tracker

SAVE_EVERY_S = 5.0  # a running job's record is written at each stage change and at most this often in between


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
    deletes: list[str] = field(default_factory=list)  # documents to delete (a job of kind "delete")
    wait_for_lock: bool = True  # wait for a writer outside the queue; else fail at once with index_busy
    state: str = "queued"  # queued | running | done | failed | cancelled | interrupted
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    failed: list[dict[str, str]] = field(default_factory=list)  # files that could not be read, with the reason
    report: dict[str, Any] | None = None
    exception: RagError | None = None  # why the job failed
    tracker: Tracker = field(default_factory=Tracker)
    files: list[str] = field(default_factory=list)
    size: int = 0
    version_before: str | None = None  # the version serving when the job started
    interrupted: dict[str, Any] | None = None  # set when the service stopped or died under the job
    record: dict[str, Any] | None = None  # a job restored from the record table: its record, as it was saved
    _progress: dict[str, Any] | None = field(default=None, repr=False)  # the tracker's last word once finished
    _saved: tuple[str, float] = field(default=("", 0.0), repr=False)  # (stage, time) of the last record written
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.files = [u.name for u in self.uploads]
        self.size = sum(len(u.data) for u in self.uploads)
        self.tracker.files_total = len(self.uploads)

    @property
    def kind(self) -> str:
        return "delete" if self.deletes else "upload"

    @classmethod
    def restored(cls, record: dict[str, Any], owner: str | None) -> Job:
        """A finished job read back from the record table (after a restart)."""
        job = cls(record["id"], record["collection"], owner, [], state=record["state"], record=record)
        job.created, job.finished = record["created_at"], record.get("finished_at")
        job._finished.set()
        return job

    def end(self, state: str) -> None:
        """Stop the job's clock and progress at `state`; save its record, then call released()."""
        self._progress = self.tracker.snapshot()  # rate and stage time stop with the job
        self.state, self.finished = state, time.time()

    def released(self) -> None:
        """Wake whoever waits on the job (its final record is saved)."""
        self._finished.set()

    def record_due(self, stage: str, progress: bool) -> bool:
        """Whether to write the record now: always, except for a progress report within the same stage less than
        SAVE_EVERY_S after the last one."""
        now = time.monotonic()
        if progress and stage == self._saved[0] and now - self._saved[1] < SAVE_EVERY_S:
            return False
        self._saved = (stage, now)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job has finished (done, failed, cancelled or interrupted)."""
        return self._finished.wait(timeout)

    def to_dict(self, position: int | None = None) -> dict[str, Any]:
        if self.record is not None:
            return dict(self.record)
        p = dict(self._progress) if self._progress is not None else self.tracker.snapshot()
        if self.state in ("failed", "cancelled", "interrupted"):
            p["eta_s"] = None
        end = self.finished or time.time()
        out: dict[str, Any] = {
            "id": self.id,
            "collection": self.collection,
            "kind": self.kind,
            "state": self.state,
            "stage": p.pop("stage"),
            **p,
            "files": self.files,
            "documents": self.deletes,
            "failed": self.failed,
            "cancel_requested": self.tracker.cancel_requested,
            "created_at": self.created,
            "started_at": self.started,
            "finished_at": self.finished,
            "elapsed_s": round(end - (self.started or end), 1),
            "version_before": self.version_before,
            "report": self.report,
            "error": {"code": self.exception.code, "message": self.exception.message} if self.exception else None,
        }
        if self.interrupted is not None:
            out["interrupted"] = self.interrupted
        if position is not None:
            out["queue_position"] = position
        return out


class Interrupted(RagError):
    """The service stopped or died while the job was queued or running; it is not resumed."""

    code = "interrupted"
    status = 503


def interruption(record: dict[str, Any], serving: str | None, why: str) -> tuple[dict[str, Any], Interrupted]:
    """What a job that was queued or running when the service stopped (`why`) left behind: whether it published,
    from the version serving now and the one that served when it started."""
    stage, before = record.get("stage") or "queued", record.get("version_before")
    started = record.get("started_at") is not None
    if not started:
        published: bool | None = False
        text = f"interrupted by {why} before it started; nothing of it was indexed"
    elif stage == "publishing" and serving != before:
        published = True
        text = (
            f"interrupted by {why} while publishing; version {serving} serves now (it was {before} when the job "
            "started), so its documents were most likely published: check GET /documents"
        )
    elif serving != before:
        published = None
        text = (
            f"interrupted by {why} during {stage}; the job had not published, but version {serving} serves now "
            f"(it was {before} when the job started): another writer changed the collection"
        )
    else:
        published = False
        text = f"interrupted by {why} during {stage}; nothing of it was published (version {serving} still serves)"
    text += "; it is not resumed: send the request again" if published is not True else ""
    info = {"by": why, "stage": stage, "version_before": before, "version_serving": serving, "published": published}
    return info, Interrupted(text)
