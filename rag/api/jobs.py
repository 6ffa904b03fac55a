"""Background indexing jobs over HTTP: GET /jobs, GET /jobs/{id}, DELETE /jobs/{id} (POST /documents creates them).

A job is visible only to the API key that created it when keys are configured (another key's job is a 404, as a
missing one is); without keys the service serves loopback only and every job is visible. Job records are kept in
RAG_JOBS_DB (default RAG_INDEX_DIR/jobs.sqlite), so a job's fate is still known after a restart.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from rag.api.deps import Admin, keys_configured, presented
from rag.api.errors import public
from rag.api.schemas import ERROR_RESPONSES
from rag.job import Job
from rag.jobs import Jobs, Limits
from rag.jobs_db import JobRecords

router = APIRouter(responses=ERROR_RESPONSES, tags=["jobs"])
_make = threading.Lock()


def get_jobs(request: Request) -> Jobs:
    """The app's job registry, made on first use from its components."""
    state = request.app.state
    with _make:
        if getattr(state, "jobs", None) is None:
            from rag.ingest import IngestLimits, read_bytes

            c = state.components
            s = c.settings
            state.jobs = Jobs(
                c.indexer,
                lambda data, name: read_bytes(data, name, s.dedup_min_chars, IngestLimits.of(s)),
                Limits.of(s),
                JobRecords(s.jobs_db or s.index_dir / "jobs.sqlite"),
            )
        return state.jobs


def job_owner(request: Request) -> str | None:
    """Who owns the jobs this request creates or sees: a hash of its API key when keys are configured, else nobody."""
    s = request.app.state.components.settings
    if not keys_configured(s):
        return None
    return hashlib.sha256(presented(request.headers)).hexdigest()[:32]


JobsDep = Annotated[Jobs, Depends(get_jobs)]
Owner = Annotated[str | None, Depends(job_owner)]


def job_dict(jobs: Jobs, job: Job) -> dict:
    """The job as a client sees it: its errors without server paths or process ids, as every error response."""
    d = job.to_dict(jobs.position(job))
    if d.get("error"):
        d["error"] = {**d["error"], "message": public(d["error"]["message"])}
    d["failed"] = [{**f, "reason": public(f["reason"])} for f in d.get("failed") or []]
    return d


def job_json(jobs: Jobs, job: Job, status: int = 200, location: bool = False) -> JSONResponse:
    headers = {"Location": f"/jobs/{job.id}"} if location else None
    return JSONResponse(
        job_dict(jobs, job),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


@router.get("/jobs", dependencies=[Admin], summary="This key's indexing jobs, newest first")
def list_jobs(jobs: JobsDep, owner: Owner) -> JSONResponse:
    return JSONResponse(
        {"jobs": [job_dict(jobs, j) for j in jobs.list(owner)]}, media_type="application/json; charset=utf-8"
    )


@router.get("/jobs/{job_id}", dependencies=[Admin], summary="Stage, progress, ETA and failed files of an indexing job")
def get_job(job_id: str, jobs: JobsDep, owner: Owner) -> JSONResponse:
    return job_json(jobs, jobs.get(job_id, owner))


@router.delete("/jobs/{job_id}", dependencies=[Admin], summary="Cancel an indexing job (the live index is untouched)")
def cancel_job(job_id: str, jobs: JobsDep, owner: Owner) -> JSONResponse:
    return job_json(jobs, jobs.cancel(job_id, owner))
