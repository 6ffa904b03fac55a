"""Dependencies: the components built in the lifespan, and API-key checks (Authorization: Bearer, or X-API-Key).

The rule (docs/security.md): with no key configured every route is open and the server binds loopback only; once any
key is configured (RAG_API_KEYS, RAG_ADMIN_KEYS or RAG_METRICS_KEYS), every route but /healthz, the chat page and the
API docs needs one. Read keys read, admin keys read and change documents, metrics keys read /metrics and /readyz.
The same check runs twice: in rag.api.guard before the body is read, and here as the routes' declared dependencies.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import Depends, Request

from rag.config import Settings
from rag.errors import Forbidden, Unauthorized
from rag.factory import Components

LOOPBACK = ("127.0.0.1", "localhost", "::1")
Role = Literal["open", "ops", "user", "admin"]


def get_components(request: Request) -> Components:
    return request.app.state.components


Comp = Annotated[Components, Depends(get_components)]


def _keys(raw: str) -> list[bytes]:
    return [k.strip().encode() for k in raw.split(",") if k.strip()]


def keys_configured(s: Settings) -> bool:
    return bool(_keys(s.api_keys) or _keys(s.admin_keys) or _keys(s.metrics_keys))


def presented(headers: Mapping[str, str]) -> bytes:
    """The key a request sends: `Authorization: Bearer <key>`, or else `X-API-Key: <key>`."""
    auth = headers.get("authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else headers.get("x-api-key", "")
    return key.encode("latin-1", "replace")  # headers arrive latin-1 decoded: back to the bytes sent


def _matches(key: bytes, allowed: list[bytes]) -> bool:
    """Constant-time: every configured key is compared, whatever matched first."""
    found = False
    for k in allowed:
        found |= hmac.compare_digest(key, k)
    return found and bool(key)


def check_key(s: Settings, headers: Mapping[str, str], role: Role) -> None:
    """Raise Unauthorized (no or unknown key) or Forbidden (a known key without the right) for a route of `role`."""
    if role == "open" or not keys_configured(s):
        return
    readers, admins, ops = _keys(s.api_keys), _keys(s.admin_keys), _keys(s.metrics_keys)
    key = presented(headers)
    allowed = {"ops": readers + admins + ops, "user": readers + admins, "admin": admins}[role]
    if _matches(key, allowed):
        return
    if role == "admin" and not admins and _matches(key, readers):
        return  # read keys only: they may also change documents (no admin key exists to ask for)
    if _matches(key, readers + admins + ops):
        need = (
            "an admin key (RAG_ADMIN_KEYS)" if role == "admin" else "a read or admin key (RAG_API_KEYS, RAG_ADMIN_KEYS)"
        )
        raise Forbidden(f"this action needs {need}; the key sent is not enough")
    raise Unauthorized("missing or wrong API key; send Authorization: Bearer <key> (or X-API-Key: <key>)")


def require_user(request: Request) -> None:
    """Reads (ask, search, documents): a read or admin key, whenever any key is configured."""
    check_key(request.app.state.components.settings, request.headers, "user")


def require_admin(request: Request) -> None:
    """Document changes: an admin key when admin keys are configured (else a read key)."""
    check_key(request.app.state.components.settings, request.headers, "admin")


def require_ops(request: Request) -> None:
    """/metrics and /readyz: a metrics, read or admin key, whenever any key is configured."""
    check_key(request.app.state.components.settings, request.headers, "ops")


def bind_host(settings: Settings, host: str) -> tuple[str, str]:
    """The address to serve on, and the start-up line that says why: without keys, loopback only.

    Only the loopback address itself counts: 127.0.0.2 and friends are refused like any other address without keys.
    """
    if keys_configured(settings):
        return host, f"API keys required (Authorization: Bearer); serving on {host}"
    if host in LOOPBACK:
        return host, f"no API keys configured (RAG_API_KEYS, RAG_ADMIN_KEYS): serving on {host} only, for this machine"
    return "127.0.0.1", (
        f"no API keys configured (RAG_API_KEYS, RAG_ADMIN_KEYS): binding to 127.0.0.1 only, not {host}; "
        "set keys to serve other hosts"
    )


User = Depends(require_user)
Admin = Depends(require_admin)
Ops = Depends(require_ops)
