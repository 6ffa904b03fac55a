"""uvicorn as `rag serve` runs it: connections that send their headers too slowly, or sit idle, are closed.

uvicorn closes an idle keep-alive connection (timeout_keep_alive) but waits forever for the headers of a request
(a "slowloris" holds a connection with one byte every few seconds); the protocol below gives them RAG_TIMEOUT_HEADERS_S
from the connection or the request's first byte. The body has its own per-read timeout in rag.api.guard.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rag.config import Settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: uvicorn's h11 protocol, without the header timeout
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def protocol(timeout_headers_s: float) -> Any:  # a protocol class, or uvicorn's "auto"
    if HttpToolsProtocol is None:
        return "auto"

    class HeaderTimeout(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(timeout_headers_s, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeout


def uvicorn_options(s: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run/Config: the timeouts of docs/security.md."""
    return {"timeout_keep_alive": s.timeout_keep_alive_s, "http": protocol(s.timeout_headers_s)}
