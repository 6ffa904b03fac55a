"""Routes: each a few lines over the pipeline; errors are translated in rag.api.errors."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from rag import cancel
from rag.api.deps import Admin, Comp, Ops, User
from rag.api.errors import public
from rag.api.jobs import JobsDep, Owner, job_json
from rag.api.limits import allowed_generators, check_generator, check_history
from rag.api.schemas import COLLECTION_PATTERN, ERROR_RESPONSES, AskRequest, ChatRequest, SearchRequest
from rag.config import DEFAULT_COLLECTION
from rag.errors import BadInput, IndexNotFound, NotFound, TooLarge
from rag.job import Upload

router = APIRouter(responses=ERROR_RESPONSES)
CollectionQuery = Annotated[str, Query(pattern=COLLECTION_PATTERN, description="collection name")]


def _json(obj: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(obj, status_code=status, media_type="application/json; charset=utf-8")


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class EventStream(StreamingResponse):
    """text/event-stream over a generator, closed however the response ends: when the client goes away, closing it
    stops the pipeline and the model (and frees the model for the next question)."""

    def __init__(self, lines: Generator[str, None, None], stop: threading.Event | None = None):
        self._lines = lines
        self._stop = stop or threading.Event()
        super().__init__(
            lines,
            media_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def listen_for_disconnect(self, receive: Receive) -> None:
        await super().listen_for_disconnect(receive)
        self._stop.set()  # the client went away: the model stops now, not at its next token (rag.cancel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cancel.bind(self._stop)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stop.set()
            self._lines.close()


@router.post("/search", dependencies=[User], tags=["query"], summary="Hybrid, dense or BM25 passage search")
def search(req: SearchRequest, c: Comp) -> JSONResponse:
    res = c.pipeline.search(req.query, req.top_k, req.collection, req.mode)
    return _json({"query": req.query, "results": [h.to_dict() for h in res.hits], "timings_ms": res.timings_ms})


# With "stream": true the answer comes as server-sent events (each: an optional event name and a JSON data line);
# the schema says so, so clients and fuzzers know.
SSE_EVENT = {
    "type": "object",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
    "required": ["data"],
}
STREAMED = {
    200: {
        "description": 'the answer as JSON, or with "stream": true as server-sent events',
        "content": {"application/json": {}, "text/event-stream": {"schema": SSE_EVENT}},
    }
}


@router.post(
    "/ask", dependencies=[User], tags=["query"], summary="Answer a question with cited passages", responses=STREAMED
)
def ask(req: AskRequest, request: Request, c: Comp):
    history = check_history(c.settings, [t.model_dump() for t in req.history])
    stop = threading.Event()
    cancel.bind(stop)
    events = c.pipeline.ask_events(
        req.question,
        req.top_k,
        req.collection,
        history,
        check_generator(c.settings, req.generator),
        quick=req.draft and req.stream,
    )
    if not req.stream:
        answer = next(ev[1] for ev in events if ev[0] == "done")
        request.app.state.metrics.answered(answer.generator, answer.answerable)
        return _json(answer.to_dict())
    first = next(events)  # validation and retrieval errors surface here, before the stream starts

    def gen() -> Generator[str, None, None]:
        with closing(events):
            for kind, data in _chain(first, events):
                if kind == "done":
                    request.app.state.metrics.answered(data.generator, data.answerable)
                    yield _sse("done", data.to_dict())
                elif kind == "token":
                    yield _sse("token", {"text": data})
                elif kind == "draft":
                    yield _sse("draft", data.to_dict())
                else:
                    yield _sse(kind, data)

    return EventStream(gen(), stop)


def _chain(first: tuple[str, Any], rest: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    yield first
    yield from rest


@router.get("/v1/models", dependencies=[User], tags=["openai"])
def models(c: Comp) -> JSONResponse:
    now = int(time.time())
    names = ["rag"] + [f"rag-{g}" for g in allowed_generators(c.settings)]
    return _json(
        {"object": "list", "data": [{"id": n, "object": "model", "created": now, "owned_by": "rag"} for n in names]}
    )


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content or ""


@router.post(
    "/v1/chat/completions",
    dependencies=[User],
    tags=["openai"],
    summary="OpenAI-compatible chat over the documents",
    responses=STREAMED,
)
def chat(req: ChatRequest, request: Request, c: Comp):
    msgs = [(m.role, _text(m.content)) for m in req.messages if m.role in ("user", "assistant")]
    if not msgs or msgs[-1][0] != "user":
        raise BadInput("messages must end with a user message")
    history = check_history(c.settings, [{"role": r, "content": t} for r, t in msgs[:-1]])
    generator = check_generator(c.settings, req.generator or (req.model[4:] if req.model.startswith("rag-") else None))
    stop = threading.Event()
    cancel.bind(stop)
    events = c.pipeline.ask_events(msgs[-1][1], req.top_k, req.collection, history, generator)
    cid, now = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    if not req.stream:
        a = next(ev[1] for ev in events if ev[0] == "done")
        request.app.state.metrics.answered(a.generator, a.answerable)
        d = a.to_dict()
        return _json(
            {
                "id": cid,
                "object": "chat.completion",
                "created": now,
                "model": req.model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": a.answer}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "citations": d["citations"],
                "answerable": a.answerable,
                "query": a.query,
                "generator": a.generator,
                "conflicts": d["conflicts"],
            }
        )
    first = next(events)

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": now,
            "model": req.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def gen() -> Generator[str, None, None]:
        with closing(events):
            yield chunk({"role": "assistant", "content": ""})
            for kind, data in _chain(first, events):
                if kind == "token":
                    yield chunk({"content": data})
                elif kind == "done":
                    request.app.state.metrics.answered(data.generator, data.answerable)
                    d = data.to_dict()
                    yield chunk(
                        {},
                        "stop",
                        citations=d["citations"],
                        answerable=data.answerable,
                        generator=data.generator,
                        conflicts=d["conflicts"],
                    )
            yield "data: [DONE]\n\n"

    return EventStream(gen(), stop)


@router.get("/documents", dependencies=[User], tags=["documents"])
def list_documents(c: Comp, collection: CollectionQuery = DEFAULT_COLLECTION) -> JSONResponse:
    data = c.library.retriever(collection).data
    counts = data.passage_counts()
    docs = [
        {
            "doc_id": d.doc_id,
            "source": d.source,
            "title": d.title,
            "chars": len(d.text),
            "passages": counts.get(d.doc_id, 0),
            "meta": {k: v for k, v in d.meta.items() if k not in ("headings", "pages")},
        }  # both in GET /documents/{id}
        for d in sorted(data.documents.values(), key=lambda d: d.doc_id)
    ]
    return _json({"collection": collection, "documents": docs, "version": data.version})


@router.get("/documents/{doc_id}", dependencies=[User], tags=["documents"])
def get_document(doc_id: str, c: Comp, collection: CollectionQuery = DEFAULT_COLLECTION) -> JSONResponse:
    data = c.library.retriever(collection).data
    d = data.documents.get(doc_id)
    if d is None:
        raise NotFound(f"document '{doc_id}' is not in collection '{collection}'")
    chunks = [
        {"chunk_id": ch.chunk_id, "start": ch.start, "end": ch.end, "heading": ch.heading}
        for ch in data.doc_chunks(doc_id)
    ]
    return _json(
        {
            "doc_id": d.doc_id,
            "source": d.source,
            "title": d.title,
            "text": d.text,
            "meta": {k: v for k, v in d.meta.items() if k != "headings"},
            "headings": d.meta.get("headings", []),
            "chunks": chunks,
        }
    )


UPLOADED = {
    201: {"description": "a small upload, indexed within RAG_UPLOAD_SYNC_WAIT_S: the index report"},
    202: {"description": "indexing as a background job: its state (poll the Location header, /jobs/{id})"},
    429: {"description": "the job queue is full"},
}


@router.post(
    "/documents",
    dependencies=[Admin],
    tags=["documents"],
    status_code=201,
    summary="Upload and index files",
    responses=UPLOADED,
)
async def upload(
    request: Request,
    c: Comp,
    jobs: JobsDep,
    owner: Owner,
    files: Annotated[list[UploadFile], File()],
    collection: Annotated[str, Form(pattern=COLLECTION_PATTERN)] = DEFAULT_COLLECTION,
    on_error: Annotated[Literal["abort", "skip"], Form()] = "abort",
    replace: Annotated[bool, Query(description="replace documents of the same id from another file")] = False,
) -> JSONResponse:
    """Files are indexed by a background job, one job at a time per collection (a second one queues). By default a
    file that cannot be read fails the job and nothing is indexed; `on_error=skip` indexes the others and lists it.
    A small upload (RAG_UPLOAD_SYNC_MAX_FILES / _BYTES) to an idle collection answers 201 with the report once
    indexed, or its error; anything else, or `Prefer: respond-async`, answers 202 with the job and Location.
    A document whose id another file already holds is a 409 unless `replace=true`."""
    form = await request.form()  # already parsed: FastAPI takes an empty field for an absent one (its default)
    for name in ("collection", "on_error"):
        if form.get(name) == "":
            raise BadInput(f"{name} is empty")
    limit = c.settings.max_upload_bytes
    uploads: list[Upload] = []
    for f in files:
        data = await f.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"{f.filename}: larger than {limit} bytes (RAG_MAX_UPLOAD_BYTES)")
        if not data:
            raise BadInput(f"{f.filename}: empty file")
        uploads.append(Upload(f.filename or "upload.txt", data))
    s = c.settings
    small = (
        len(uploads) <= s.upload_sync_max_files
        and sum(len(u.data) for u in uploads) <= s.upload_sync_max_bytes
        and "respond-async" not in request.headers.get("prefer", "").lower()
        and not jobs.busy(collection)
    )
    job = jobs.submit(
        collection, uploads, owner, skip_failed=on_error == "skip", replace=replace, wait_for_lock=not small
    )
    if small and await run_in_threadpool(job.wait, s.upload_sync_wait_s):
        if job.state == "failed" and job.exception is not None:
            raise job.exception
        if job.state == "done" and job.report is not None:
            return _json(job.report, 201)
    return job_json(jobs, job, 202, location=True)


DELETED = {
    202: {"description": "with `Prefer: respond-async`: the deletion as a job, after the collection's queued jobs"},
    409: {"description": "without `Prefer: respond-async`, while another write holds the collection (index_busy)"},
}


@router.delete("/documents/{doc_id}", dependencies=[Admin], tags=["documents"], responses=DELETED)
def delete_document(
    doc_id: str,
    request: Request,
    c: Comp,
    jobs: JobsDep,
    owner: Owner,
    collection: CollectionQuery = DEFAULT_COLLECTION,
) -> JSONResponse:
    """Delete a document now (409 index_busy while a job writes the collection), or with `Prefer: respond-async` as
    a job queued behind the collection's other jobs (202 and Location: /jobs/{id})."""
    if "respond-async" in request.headers.get("prefer", "").lower():
        if not jobs.busy(collection):  # else a job ahead may still create the collection or add the document
            if doc_id not in c.library.retriever(collection).data.documents:
                raise NotFound(f"document '{doc_id}' is not in collection '{collection}'")
        return job_json(jobs, jobs.submit_delete(collection, [doc_id], owner), 202, location=True)
    c.library.retriever(collection)  # an unknown collection is a 404, and no folder is made for it
    report = c.indexer.update(collection, delete=[doc_id])
    return _json(report.to_dict())


@router.head("/healthz", include_in_schema=False)  # probes that send HEAD
@router.get("/healthz", tags=["health"])
def healthz() -> JSONResponse:
    return _json({"status": "ok"})


@router.head("/readyz", dependencies=[Ops], include_in_schema=False)
@router.get("/readyz", dependencies=[Ops], tags=["health"], responses={503: {"description": "no index yet"}})
def readyz(c: Comp) -> JSONResponse:
    try:
        data = c.library.retriever(c.settings.collection).data
    except (IndexNotFound, NotFound) as e:
        return _json({"status": "not_ready", "error": {"code": e.code, "message": public(e.message)}}, 503)
    return _json(
        {
            "status": "ready",
            "collection": c.settings.collection,
            "version": data.version,
            "documents": len(data.documents),
            "passages": len(data.chunks),
            "embedder": c.embedder.id,
        }
    )


@router.get("/metrics", dependencies=[Ops], tags=["health"], response_class=PlainTextResponse)
def metrics(request: Request, c: Comp) -> PlainTextResponse:
    sizes = {}
    for name in c.store.list_collections():
        m = c.store.read_manifest(name) or {}
        sizes[name] = (int(m.get("n_documents", 0)), int(m.get("n_chunks", 0)))
    return PlainTextResponse(request.app.state.metrics.render(sizes), media_type="text/plain; version=0.0.4")
