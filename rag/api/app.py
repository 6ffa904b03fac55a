"""create_app(settings): components built in the lifespan, routes, error translation, the guard (rag.api.guard),
metrics, the chat page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from rag import __version__
from rag.api import errors
from rag.api.conversations import router as conversations_router
from rag.api.guard import Guard
from rag.api.jobs import router as jobs_router
from rag.api.metrics import Metrics
from rag.api.routes import router
from rag.config import Settings, get_settings
from rag.errors import ConfigError, RagError
from rag.factory import Components

log = logging.getLogger("rag.api")
WEB = Path(str(resources.files("rag") / "web"))


def create_app(settings: Settings | None = None, components: Components | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.llm_replay_log:
        raise ConfigError("RAG_LLM_REPLAY_LOG is for rag eval and rag bench only: the service answers from the model")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        comp = components or Components(settings)
        app.state.components = comp
        comp.prompts  # noqa: B018 - fail at start-up on a broken prompt template
        try:  # load the index, its tokenizer's dictionaries and the model before the first request
            comp.library.retriever(settings.collection).tokenizer.warm()
        except RagError as e:
            log.warning("starting without a ready index: %s", e.message)
        try:
            comp.embedder.embed_query("预热")  # and the query encoder (rag.embed.e5_fast loads on its first query)
        except RagError as e:
            log.warning("the query embedder is not ready: %s", e.message)
        comp.warm("extractive")  # every server answers with it: the quick draft, a fallback, or its own generator
        if settings.generator != "extractive":
            try:
                comp.warm(settings.generator)  # load the local LLM now, not on the first question
            except RagError as e:
                log.warning(
                    "generator '%s' unavailable, answers fall back to extractive: %s", settings.generator, e.message
                )
        yield
        if getattr(app.state, "jobs", None) is not None:
            app.state.jobs.shutdown()  # indexing jobs stop before publishing; the live versions stay as they are

    app = FastAPI(
        title="rag: 中文文档问答",
        version=__version__,
        lifespan=lifespan,
        description="Hybrid retrieval (FAISS + jieba BM25) over Chinese documents and answers with verified citations.",
    )
    app.state.metrics = Metrics()
    errors.install(app)
    app.include_router(router)
    app.include_router(jobs_router)
    app.include_router(conversations_router)

    # outermost of the app's own middleware: host, origin, key and body limits before any body is read
    app.add_middleware(Guard, settings=settings, metrics=app.state.metrics)

    if (WEB / "index.html").exists():
        app.mount("/static", StaticFiles(directory=str(WEB)), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")

    return app
