"""Pure ASGI middleware: browser writes from other origins (JSON 403), requests in flight (JSON 503 over the limit),
request body size limits (JSON 413) and security headers (CSP for the chat page)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


async def _send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CrossOriginWriteMiddleware:
    """Refuse (403) a browser's write sent from another origin: any web page can make a visitor's browser POST an HTML
    form (multipart, urlencoded or text/plain) here with no CORS preflight, and without QA_API_KEY nothing else would
    stop it adding documents. Browsers say where a request comes from: ``Sec-Fetch-Site`` (all current browsers), else
    ``Origin``. A write passes when it comes from this server's own origin (the chat page) or from one of
    QA_CORS_ORIGINS, or carries neither header (curl, the CLI, SDKs: no browser, so no visitor's standing to abuse).
    The same rule as Go's ``http.CrossOriginProtection``; reads are never refused, as they change nothing."""

    def __init__(self, app: ASGIApp, trusted_origins: Iterable[str]) -> None:
        self.app = app
        self.trusted = frozenset(origin.rstrip("/") for origin in trusted_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin not in self.trusted and not _same_origin(headers, origin):
                await _send_json(send, 403, f"cross-origin write refused: a browser sent it from "
                                            f"{origin or 'another site'}; write from this server's own page, or add "
                                            "that origin to QA_CORS_ORIGINS")
                return
        await self.app(scope, receive, send)


def _same_origin(headers: Headers, origin: str | None) -> bool:
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")  # "none": typed in the address bar or a bookmark, not another page
    if origin is None:
        return True  # not sent by a browser (or by one too old to say; those send no Sec-Fetch-Site either)
    return urlsplit(origin).netloc == headers.get("host")


class ConcurrencyLimitMiddleware:
    """Answer 503 at once, with ``Retry-After``, while ``limit`` requests are already being handled: a burst queues
    no work it cannot do soon. Only requests count, so idle connections never shut real requests out."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await _send_json(send, 503, f"the server is handling {self.limit} requests (QA_MAX_CONCURRENT_REQUESTS); "
                                        "retry in a moment", [(b"retry-after", b"1")])
            return
        self.in_flight += 1  # one event loop: no lock needed between the check and the count
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimitMiddleware:
    """Refuse bodies over the path's limit with 413: by Content-Length up front, by counting when chunked.

    Chunked bodies (no Content-Length) are buffered up to the limit and replayed, so the app never sees
    more than ``limit_for(path)`` bytes; with a Content-Length the server already enforces the declared size.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _send_json(send, 400, f"invalid Content-Length header {declared!r}")
                return
            if int(declared) > limit:
                await _send_json(send, 413, f"request body is {int(declared):,} bytes; the limit for "
                                            f"{scope['path']} is {limit:,} bytes")
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                await _send_json(send, 413, f"request body is over the {limit:,}-byte limit for {scope['path']}")
                return
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class SecurityHeadersMiddleware:
    """No sniffing, no referrer, no framing; a script-src 'self' CSP on everything (the API docs are served from
    local files; Swagger UI sets inline styles, so /docs alone allows them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"].startswith("/docs") else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
