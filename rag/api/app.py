"""create_app(settings): components built in the lifespan, routes, error translation, metrics, the chat page."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from rag import __version__
from rag.api import errors
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


def _upload_too_big(request: Request, limit: int) -> JSONResponse | None:
    """Refuse an upload whose declared size is over the limit before its body is read and spooled to disk."""
    if request.method != "POST" or request.url.path != "/documents":
        return None
    try:
        size = int(request.headers.get("content-length", "0"))
    except ValueError:
        return errors.error_json(400, "bad_input", "invalid Content-Length header")
    if size > limit * MAX_FILES_PER_UPLOAD + 65536:
        return errors.error_json(413, TooLarge.code, f"upload of {size} bytes is over the limit of {MAX_FILES_PER_UPLOAD} files "
                                                     f"of {limit} bytes (RAG_MAX_UPLOAD_BYTES)")
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

    @app.middleware("http")
    async def _observe(request: Request, call_next):  # noqa: ANN001, ANN202
        t = time.perf_counter()
        too_big = _upload_too_big(request, settings.max_upload_bytes)
        response = too_big or await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "other")
        app.state.metrics.observe(request.method, path, response.status_code, time.perf_counter() - t)
        if not request.url.path.startswith(_OWN_CSP):
            response.headers.update(SECURITY_HEADERS)
        return response

    if (WEB / "index.html").exists():
        app.mount("/static", StaticFiles(directory=str(WEB)), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")

    return app
