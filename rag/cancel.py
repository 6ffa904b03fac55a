"""Stopping the work behind a request whose client went away. The API binds an event to the request's context and
sets it on disconnect; the local LLM polls it, even in the middle of evaluating a prompt, so the next question does
not wait behind an abandoned one."""

from __future__ import annotations

import threading
from contextvars import ContextVar

_event: ContextVar[threading.Event | None] = ContextVar("rag_cancel", default=None)


def bind(event: threading.Event) -> None:
    """Work started from this context from now on stops when `event` is set."""
    _event.set(event)


def current() -> threading.Event | None:
    return _event.get()
