"""Pure ASGI middleware: browser writes from other origins (JSON 403), requests in flight (JSON 503 over the limit),
request body deadlines (JSON 408), request body size limits (JSON 413) and security headers (CSP for the chat
page)."""

from __future__ import annotations

import asyncio
import json
import time
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


# the slowest body a client may send, once its first seconds are up: 16 KiB/s (128 kbit/s), so a 10 MB upload may take
# about ten minutes, and a client holding a request open must send real data to keep it
BODY_BYTES_PER_SECOND = 16 * 1024


class BodyDeadlineMiddleware:
    """Answer 408, and close the connection, when a request body stops coming: all of it must arrive within
    ``seconds`` of the headers plus one second per ``BODY_BYTES_PER_SECOND`` bytes received. The server bounds only
    the time to complete the headers, and a request counts among those in flight from then on, so without this a few
    clients that send headers announcing a body and then stall would shut everyone else out for as long as they
    kept their sockets open. The app sees such a client as gone (``http.disconnect``); what it answers is dropped."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        received, complete, timed_out, responded = 0, False, False, False

        async def receive_in_time() -> Message:
            nonlocal received, complete, timed_out
            if complete or timed_out:  # after the body: waits for a disconnect, which may take a whole response
                return await receive() if complete else {"type": "http.disconnect"}
            left = started + self.seconds + received / BODY_BYTES_PER_SECOND - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), max(left, 0.0))
            except TimeoutError:
                timed_out = True
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            return message

        async def send_unless_timed_out(message: Message) -> None:
            nonlocal responded
            if timed_out:
                return  # the client is answered 408 below
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, receive_in_time, send_unless_timed_out)
        if timed_out and not responded:
            await _send_json(send, 408, f"the request body did not arrive in time (within {self.seconds:g} s of the "
                                        f"headers, and at least {BODY_BYTES_PER_SECOND // 1024} KiB/s after that: "
                                        "QA_BODY_SECONDS); send it again", [(b"connection", b"close")])


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


class HeadMiddleware:
    """Answer ``HEAD`` as the ``GET`` of the same URL without its body (RFC 9110 wants HEAD wherever GET works, and
    uptime probes use it): FastAPI's routes are registered for GET only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


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
