"""HTTP translation of domain errors: every failure becomes JSON ``{"detail": "..."}``, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from index.errors import QAError

log = logging.getLogger("api")


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """One readable line per problem, e.g. ``body.question: Field required``."""
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "invalid value")
        if err.get("type") == "json_invalid":
            position = err.get("loc", ("body", "?"))[-1]
            loc, msg = "body", f"invalid JSON at character {position} ({err.get('ctx', {}).get('error', '')})"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


async def _qa_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QAError)
    if exc.status_code >= 500:
        log.error("service error: %s", exc)
    return error_response(exc.status_code, str(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body_errors = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors())
    # FastAPI reads a JSON body only when the content type says JSON; anything else fails as "not an object".
    if body_errors and content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        return error_response(415, f"unsupported content type {content_type!r}; send application/json")
    return error_response(422, describe_validation_errors(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    # FastAPI answers a bare 400 when a JSON body is not UTF-8 or holds an integer over Python's digit limit: invalid
    # JSON like any other, so a 422 that says what is wrong; one nested past the parser's limit stays a 400.
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        return error_response(422, f"body: invalid JSON ({exc.__cause__})")
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        return error_response(400, f"{exc.detail}: JSON nested too deeply")
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return error_response(exc.status_code, str(exc.detail), headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette's 405 names only the first route that matched the path
    (``GET`` for ``/documents/{doc_id}``, which also takes ``DELETE``)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


async def _client_gone(request: Request, _: Exception) -> JSONResponse:
    """The client went away (or stopped sending, api.middleware.BodyDeadlineMiddleware) before its body was read:
    nothing failed here, and the answer reaches nobody (the middleware answers a stalled client 408 itself)."""
    log.info("client went away during the body of %s %s", request.method, request.url.path)
    return error_response(400, "the request body was cut off")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(QAError, _qa_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
