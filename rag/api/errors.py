"""The one translation of errors to HTTP: domain errors by their status, validation errors as 422, never a 500 for
bad input."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import RagError

log = logging.getLogger("rag.api")

# What a caller is not told (it goes to the log): where files live on the server and which process holds a lock.
_ABS_PATH = re.compile(r"(?<![\w.:/])(?:~|/[\w.@+-]+)(?:/[\w.@+-]+)+/?")
_PID = re.compile(r"\bpid \d+")


def public(message: str) -> str:
    """The message without absolute paths and process ids; the full one is logged when anything was taken out."""
    out = _PID.sub("another process", _ABS_PATH.sub("<server path>", message))
    if out != message:
        log.info("error detail (not sent to the client): %s", message)
    return out


def error_json(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": public(message)}}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(RagError)
    async def _rag(_: Request, e: RagError) -> JSONResponse:
        return error_json(e.status, e.code, e.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return error_json(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}".strip(": "))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException) -> JSONResponse:
        return error_json(e.status_code, "http_error", str(e.detail))

    @app.exception_handler(Exception)
    async def _crash(_: Request, e: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_json(500, "internal_error", "internal error; see the server log")
