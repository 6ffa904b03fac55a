"""The ASGI guard in front of every route: runs before a request body is read, so that no body costs anything before
the caller is known and within bounds.

In order: the Host header (DNS rebinding), the Origin of state-changing requests (cross-site requests from a page
the user visits), the API key for the route's role, the declared body size, then a byte counter and a read timeout
on the body as it streams in: a body that goes past the limit is refused at the limit, whatever Content-Length said
(or when it said nothing, as a chunked upload). Also adds the security headers and counts requests for /metrics.
Pure ASGI, so streamed answers pass straight through (and a client going away reaches them).
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api import errors
from rag.api.deps import LOOPBACK, Role, check_key, keys_configured
from rag.api.metrics import Metrics
from rag.config import Settings
from rag.errors import RagError

# The chat page loads only its own script and stylesheet: no inline script can run, whatever a document holds.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_OWN_CSP = ("/docs", "/redoc")  # FastAPI's API explorer pages load their own script from a CDN
MAX_FILES_PER_UPLOAD = 8  # a request body may hold this many files at the per-file limit
MULTIPART_OVERHEAD = 65536  # part headers and boundaries of those files
# Open whatever keys are set: the liveness probe, the chat page (it asks for a key) and the API description.
OPEN_PATHS = {"/healthz", "/", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
UPLOAD_ROUTES = {("POST", "/documents")}  # multipart bodies of files (RAG_MAX_UPLOAD_BYTES); every other body: JSON


class _Refused(Exception):
    """Raised into the app from `receive` when the body breaks a limit; the guard answers instead of the app."""


def allowed_hosts(s: Settings) -> list[str]:
    """RAG_ALLOWED_HOSTS, or: the loopback names when bound to loopback; any host when bound elsewhere (keys are
    required there, and a page cannot send them)."""
    hosts = [h.strip().lower() for h in s.allowed_hosts.split(",") if h.strip()]
    if hosts:
        return hosts
    host = s.host.strip("[]").lower()
    if host in LOOPBACK or not keys_configured(s):
        return sorted({host, *LOOPBACK})
    return ["*"]


def _host_ok(host_header: str, hosts: list[str]) -> bool:
    if "*" in hosts:
        return True
    host = urlsplit("//" + host_header).hostname if host_header else None
    if not host:
        return False
    return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in hosts)


def route_role(method: str, path: str) -> tuple[Role, bool]:
    """(who may call it, whether its body is a file upload), from the method and path alone, before routing.

    Open: OPEN_PATHS and the page's /static files. Ops: /metrics, /readyz. Admin: anything but a read of /documents.
    Every other path, including routes added later and unknown ones, needs a read key when keys are set (the routes'
    own dependencies then apply the exact rule). Uploads: UPLOAD_ROUTES."""
    if path in OPEN_PATHS or path.startswith("/static/"):
        return "open", False
    if path in ("/metrics", "/readyz"):
        return "ops", False
    if (path == "/documents" or path.startswith("/documents/")) and method not in SAFE_METHODS:
        return "admin", (method, path) in UPLOAD_ROUTES
    return "user", (method, path) in UPLOAD_ROUTES


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings, metrics: Metrics):
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.hosts = allowed_hosts(settings)
        self.keyed = keys_configured(settings)
        self.origins = {o.strip().rstrip("/").lower() for o in settings.allowed_origins.split(",") if o.strip()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t = time.perf_counter()
        status = [500]
        started = [False]
        refusal: list[JSONResponse] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                started[0] = True
                if not scope["path"].startswith(_OWN_CSP):
                    MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        async def app_send(message: Message) -> None:
            if not refusal:  # once the body is refused, whatever the app answers is dropped for the refusal
                await send_with_headers(message)

        try:
            checked = self._check(scope)
            if isinstance(checked, JSONResponse):
                if scope["method"] not in SAFE_METHODS:
                    checked.headers["Connection"] = "close"  # a body sent anyway is not read, nor the connection kept
                await checked(scope, receive, send_with_headers)
                return
            limit, what = checked
            try:
                await self.app(scope, self._counted(receive, limit, what, refusal), app_send)
            except Exception:
                if not refusal:
                    raise
            if refusal and not started[0]:
                await refusal[0](scope, receive, send_with_headers)
        finally:
            path = getattr(scope.get("route"), "path", "other")
            self.metrics.observe(scope["method"], path, status[0], time.perf_counter() - t)

    def _check(self, scope: Scope) -> JSONResponse | tuple[int, str]:
        """A refusal from the headers alone, or the body limit that applies (bytes, how to name it)."""
        headers = Headers(scope=scope)
        if not _host_ok(headers.get("host", ""), self.hosts):
            return errors.error_json(400, "bad_host", "this server does not serve that Host name (RAG_ALLOWED_HOSTS)")
        if scope["method"] not in SAFE_METHODS and "origin" in headers:
            origin = headers["origin"].rstrip("/").lower()
            own = {f"http://{headers.get('host', '').lower()}", f"https://{headers.get('host', '').lower()}"}
            if origin not in own and origin not in self.origins:
                return errors.error_json(
                    403,
                    "cross_origin",
                    "requests from another web origin may not change or query this server (RAG_ALLOWED_ORIGINS)",
                )
        role, upload = route_role(scope["method"], scope["path"])
        if self.keyed:
            try:
                check_key(self.settings, headers, role)
            except RagError as e:
                return errors.error_json(e.status, e.code, e.message)
        limit, what = self._body_limit(upload, scope["path"])
        try:
            size = int(headers.get("content-length", "0"))
        except ValueError:
            return errors.error_json(400, "bad_input", "invalid Content-Length header")
        if size > limit:
            return self._too_large(f"a request body of {size} bytes", what)
        return limit, what

    def _body_limit(self, upload: bool, path: str) -> tuple[int, str]:
        if upload:
            per_file = self.settings.max_upload_bytes
            return (
                per_file * MAX_FILES_PER_UPLOAD + MULTIPART_OVERHEAD,
                f"{MAX_FILES_PER_UPLOAD} files of {per_file} bytes (RAG_MAX_UPLOAD_BYTES)",
            )
        if path == "/conversations" or path.startswith("/conversations/"):  # a whole saved conversation, JSON-escaped
            cap = 2 * self.settings.max_conversation_bytes + 65536
            return cap, f"{cap} bytes (twice RAG_MAX_CONVERSATION_BYTES)"
        return self.settings.max_body_bytes, f"{self.settings.max_body_bytes} bytes (RAG_MAX_BODY_BYTES)"

    @staticmethod
    def _too_large(what_sent: str, what: str) -> JSONResponse:
        r = errors.error_json(413, "too_large", f"{what_sent} is over the limit of {what}")
        r.headers["Connection"] = "close"  # the rest of the body is not read
        return r

    def _counted(self, receive: Receive, limit: int, what: str, refusal: list[JSONResponse]) -> Receive:
        """`receive`, counting body bytes and waiting at most RAG_TIMEOUT_BODY_S for each piece of the body."""
        seen = [0]
        done = [False]
        timeout = self.settings.timeout_body_s

        async def wrapped() -> Message:
            if refusal:
                raise _Refused()
            if done[0]:
                return await receive()  # after the body: waiting for a disconnect, as long as a stream lasts
            try:
                async with asyncio.timeout(timeout):  # no extra task per read, unlike wait_for
                    message = await receive()
            except TimeoutError:
                r = errors.error_json(
                    408, "timeout", f"the request body did not arrive within {timeout:g} s (RAG_TIMEOUT_BODY_S)"
                )
                r.headers["Connection"] = "close"
                refusal.append(r)
                raise _Refused() from None
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    refusal.append(self._too_large(f"a request body of more than {limit} bytes", what))
                    raise _Refused()
                done[0] = not message.get("more_body", False)
            else:
                done[0] = True
            return message

        return wrapped
