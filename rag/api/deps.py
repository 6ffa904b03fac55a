"""Dependencies: the components built in the lifespan, and API-key checks (Authorization: Bearer)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from rag.config import Settings
from rag.errors import Forbidden, Unauthorized
from rag.factory import Components

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def get_components(request: Request) -> Components:
    return request.app.state.components


Comp = Annotated[Components, Depends(get_components)]


def _keys(raw: str) -> list[bytes]:
    return [k.strip().encode() for k in raw.split(",") if k.strip()]


def _presented(request: Request) -> bytes:
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    return key.encode("latin-1", "replace")  # headers arrive latin-1 decoded: back to the bytes sent


def _matches(key: bytes, allowed: list[bytes]) -> bool:
    """Constant-time: every configured key is compared, whatever matched first."""
    found = False
    for k in allowed:
        found |= hmac.compare_digest(key, k)
    return found and bool(key)


def require_user(request: Request) -> None:
    """Reads (ask, search, documents): any read or admin key, when read keys are configured."""
    s: Settings = request.app.state.components.settings
    readers, admins = _keys(s.api_keys), _keys(s.admin_keys)
    if not readers:
        return
    if not _matches(_presented(request), readers + admins):
        raise Unauthorized("missing or wrong API key; send Authorization: Bearer <key>")


def require_admin(request: Request) -> None:
    """Document changes: an admin key when admin keys are configured (else the read rule applies)."""
    s: Settings = request.app.state.components.settings
    readers, admins = _keys(s.api_keys), _keys(s.admin_keys)
    if not admins:
        require_user(request)
        return
    key = _presented(request)
    if _matches(key, admins):
        return
    if _matches(key, readers):
        raise Forbidden("this action needs an admin key (RAG_ADMIN_KEYS); a read key is not enough")
    raise Unauthorized("missing or wrong API key; send Authorization: Bearer <admin key>")


def bind_host(settings: Settings, host: str) -> tuple[str, str]:
    """The address to serve on, and the start-up line that says why: without keys, loopback only."""
    if _keys(settings.api_keys) or _keys(settings.admin_keys):
        return host, f"API keys required (Authorization: Bearer); serving on {host}"
    if host in LOOPBACK or host.startswith("127."):
        return host, f"no API keys configured (RAG_API_KEYS, RAG_ADMIN_KEYS): serving on {host} only, for this machine"
    return "127.0.0.1", (f"no API keys configured (RAG_API_KEYS, RAG_ADMIN_KEYS): binding to 127.0.0.1 only, not {host}; "
                         "set keys to serve other hosts")


User = Depends(require_user)
Admin = Depends(require_admin)
