"""HTTP translation of domain errors: every failure becomes JSON ``{"detail": "..."}``, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error; the server log has the details")


def _document_error_body(app: FastAPI) -> None:
    """The OpenAPI 422 body is FastAPI's list of errors by default; ours is ``{"detail": "one readable line"}``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {
                    "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                    "properties": {"detail": {"type": "string", "title": "Detail",
                                              "description": "what was wrong, e.g. 'body.question: Field required'"}},
                }
                schemas.pop("ValidationError", None)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    _document_error_body(app)
    app.add_exception_handler(QAError, _qa_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
