"""create_app(settings): components built in the lifespan, routes, error translation, metrics, the chat page."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import __version__
from rag.api import errors
from rag.api.conversations import router as conversations_router
from rag.api.metrics import Metrics
from rag.api.routes import router
from rag.config import Settings, get_settings
from rag.errors import RagError, TooLarge
from rag.factory import Components

log = logging.getLogger("rag.api")
WEB = Path(str(resources.files("rag") / "web"))


# The chat page loads only its own script and stylesheet: no inline script can run, whatever a document holds.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY"}
_OWN_CSP = ("/docs", "/redoc")  # FastAPI's API explorer pages load their own script from a CDN
MAX_FILES_PER_UPLOAD = 8  # a request body may hold this many files at the per-file limit


class Guard:
    """Pure ASGI middleware, so streamed answers pass straight through (and a client going away reaches them):
    refuses oversized uploads before their body is read, adds the security headers, and counts requests."""

    def __init__(self, app: ASGIApp, max_upload_bytes: int, metrics: Metrics):
        self.app = app
        self.max_upload_bytes = max_upload_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t = time.perf_counter()
        status = [500]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                if not scope["path"].startswith(_OWN_CSP):
                    MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        try:
            refusal = self._upload_too_big(scope)
            await (refusal or self.app)(scope, receive, send_with_headers)
        finally:
            path = getattr(scope.get("route"), "path", "other")
            self.metrics.observe(scope["method"], path, status[0], time.perf_counter() - t)

    def _upload_too_big(self, scope: Scope) -> JSONResponse | None:
        if scope["method"] != "POST" or scope["path"] != "/documents":
            return None
        try:
            size = int(Headers(scope=scope).get("content-length", "0"))
        except ValueError:
            return errors.error_json(400, "bad_input", "invalid Content-Length header")
        limit = self.max_upload_bytes
        if size > limit * MAX_FILES_PER_UPLOAD + 65536:
            return errors.error_json(413, TooLarge.code, f"upload of {size} bytes is over the limit of {MAX_FILES_PER_UPLOAD} "
                                                         f"files of {limit} bytes (RAG_MAX_UPLOAD_BYTES)")
        return None


def create_app(settings: Settings | None = None, components: Components | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        comp = components or Components(settings)
        app.state.components = comp
        comp.prompts  # noqa: B018 - fail at start-up on a broken prompt template
        try:
            comp.library.retriever(settings.collection)  # load the index and the model before the first request
        except RagError as e:
            log.warning("starting without a ready index: %s", e.message)
        try:
            comp.embedder.embed_query("预热")  # and the query encoder (rag.embed.e5_fast loads on its first query)
        except RagError as e:
            log.warning("the query embedder is not ready: %s", e.message)
        if settings.generator != "extractive":
            try:
                comp.warm(settings.generator)  # load the local LLM now, not on the first question
            except RagError as e:
                log.warning("generator '%s' unavailable, answers fall back to extractive: %s", settings.generator, e.message)
        yield

    app = FastAPI(title="rag: 中文文档问答", version=__version__, lifespan=lifespan,
                  description="Hybrid retrieval (FAISS + jieba BM25) over Chinese documents and answers with verified citations.")
    app.state.metrics = Metrics()
    errors.install(app)
    app.include_router(router)
    app.include_router(conversations_router)

    app.add_middleware(Guard, max_upload_bytes=settings.max_upload_bytes, metrics=app.state.metrics)

    if (WEB / "index.html").exists():
        app.mount("/static", StaticFiles(directory=str(WEB)), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")

    return app
