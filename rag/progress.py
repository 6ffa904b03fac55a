"""Progress of one indexing run: its stage (reading, chunking, embedding, publishing), passages done, passages/s and an
ETA, and cancellation until it publishes. `rag index` draws a Tracker on the terminal; a job (rag.jobs) reports it."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rag.errors import RagError
from rag.indexer import Indexer, takes_tokenizer
from rag.store import Batch
from rag.types import Document
from rag.zh import Tokenizer


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
        self,
        indexer: Indexer,
        collection: str,
        docs: list[Document],
        rebuild: bool = False,
        replace: bool = False,
        delete: list[str] | None = None,
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
        report = ix.update(
            collection, add=docs, delete=delete, rebuild=rebuild, progress=self.passages, replace=replace
        )
        self.set_stage("done")
        return report.to_dict()
