"""Dependencies: the components built in the lifespan, and API-key checks."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from rag.errors import Forbidden, Unauthorized
from rag.factory import Components


def get_components(request: Request) -> Components:
    return request.app.state.components


Comp = Annotated[Components, Depends(get_components)]


def _keys(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


def _presented(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key", "")


def require_user(request: Request) -> None:
    s = request.app.state.components.settings
    allowed = _keys(s.api_keys) + _keys(s.admin_keys)
    if not _keys(s.api_keys):
        return
    key = _presented(request)
    if not any(secrets.compare_digest(key, k) for k in allowed):
        raise Unauthorized("missing or wrong API key (Authorization: Bearer <key>)")


def require_admin(request: Request) -> None:
    s = request.app.state.components.settings
    admins = _keys(s.admin_keys)
    if not admins:
        require_user(request)
        return
    key = _presented(request)
    if not key:
        raise Unauthorized("missing API key (Authorization: Bearer <key>)")
    if not any(secrets.compare_digest(key, k) for k in admins):
        raise Forbidden("this action needs an admin key")


User = Depends(require_user)
Admin = Depends(require_admin)
