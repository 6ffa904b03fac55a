"""Indexing job records in SQLite (RAG_JOBS_DB, default RAG_INDEX_DIR/jobs.sqlite), so that GET /jobs/{id} still
answers after a restart.

A record is the job's JSON as GET /jobs/{id} shows it, with its owner (a hash of the API key that created it, or none
on a server without keys) in its own column; the uploaded bytes are never stored. rag.jobs writes a record when a job
is queued, starts, changes stage and finishes, and forgets the oldest finished ones per collection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, collection TEXT NOT NULL, owner TEXT, state TEXT NOT NULL, created REAL NOT NULL,
  finished REAL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_collection ON jobs(collection, created);
"""


class JobRecords:
    """The job table: one row per job, written whole (jobs are few and their records small)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def save(self, record: dict[str, Any], owner: str | None) -> None:
        row = (
            record["id"],
            record["collection"],
            owner,
            record["state"],
            float(record["created_at"]),
            record.get("finished_at"),
            json.dumps(record, ensure_ascii=False),
        )
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def load(self) -> list[tuple[dict[str, Any], str | None]]:
        """Every record with its owner, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT record, owner FROM jobs ORDER BY created").fetchall()
        out = []
        for text, owner in rows:
            try:
                out.append((json.loads(text), owner))
            except json.JSONDecodeError:  # a damaged row is skipped, not a server that will not start
                continue
        return out

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        with self._lock:
            self._db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])

    def close(self) -> None:
        with self._lock:
            self._db.close()
