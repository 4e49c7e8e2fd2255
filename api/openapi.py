"""The OpenAPI document states exactly what this server accepts and answers, so a client (or schemathesis) can tell a
valid request from an invalid one: its configured limits, its one-line error body, its event stream and its key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import require_api_key, require_read_key
from api.middleware import SAFE_METHODS
from api.responses import describe
from api.schemas import ChatCompletionChunk, ErrorBody
from qa.config import Settings

# The keyword each `x-limit` setting fills in (see api.schemas).
LIMIT_KEYWORDS = {"max_question_chars": "maxLength", "max_document_chars": "maxLength", "max_top_k": "maximum"}
# Models only the event stream refers to, so FastAPI does not put them in the components itself.
STREAM_MODELS = (ChatCompletionChunk,)
COMPONENTS = "#/components/schemas/{model}"
KEY_SCHEME = "apiKey"

# One event of text/event-stream (OpenAPI 3.1: the media type's `schema` describes each event): `data` is a
# ChatCompletionChunk as JSON, or `[DONE]` at the end.
EVENT_STREAM: dict[str, Any] = {
    "schema": {
        "type": "object", "required": ["data"], "properties": {"data": {"type": "string"}},
        "if": {"properties": {"data": {"const": "[DONE]"}}},
        "else": {"properties": {"data": {"contentMediaType": "application/json",
                                         "contentSchema": {"$ref": COMPONENTS.format(model="ChatCompletionChunk")}}}},
    },
    "example": 'data: {"id": "chatcmpl-…", "object": "chat.completion.chunk", "choices": [...]}\n\ndata: [DONE]\n\n',
}


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` describe this server as configured by ``settings``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _fill_limits(schema, settings)
            _add_stream_models(schema)
            _shared_errors(schema, app, settings)
            _one_error_body(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def _fill_limits(node: Any, settings: Settings) -> None:
    """Replace each ``"x-limit": "max_question_chars"`` with the configured bound (``"maxLength": 2000``)."""
    if isinstance(node, dict):
        name = node.pop("x-limit", None)
        if name is not None:
            node[LIMIT_KEYWORDS[name]] = getattr(settings, name)
        for value in node.values():
            _fill_limits(value, settings)
    elif isinstance(node, list):
        for value in node:
            _fill_limits(value, settings)


def _shared_errors(schema: dict[str, Any], app: FastAPI, settings: Settings) -> None:
    """What every operation may answer: 500; 503 while the service starts or is busy; 403 for a write (a browser's
    from another origin) and 408 (its body stopped coming); and 401 where QA_API_KEY is checked, with the security
    requirement (only when a key is set: without one they are open)."""
    if settings.api_key is not None:
        schema["components"]["securitySchemes"] = {
            KEY_SCHEME: {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer $QA_API_KEY`"},
        }
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        shared = [500, 503]  # 503: every request counts against QA_MAX_CONCURRENT_REQUESTS
        keyed = settings.api_key is not None and (
            _depends_on(route.dependant, require_api_key)
            or (settings.protect_reads and _depends_on(route.dependant, require_read_key)))
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            codes = [*shared, *([403, 408] if method not in SAFE_METHODS else []), *([401] if keyed else [])]
            for code in codes:
                responses.setdefault(str(code), {"description": describe(code)})
            if keyed:
                responses["401"]["headers"] = {"WWW-Authenticate": {
                    "description": "`Bearer`: send the key as `Authorization: Bearer $QA_API_KEY`",
                    "required": True, "schema": {"type": "string", "const": "Bearer"}}}
                operation["security"] = [{KEY_SCHEME: []}]
            operation["responses"] = dict(sorted(responses.items()))


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _one_error_body(schema: dict[str, Any]) -> None:
    """Every error answers ``{"detail": "one readable line"}`` (FastAPI documents a 422 as its list of errors)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    error_body = {"application/json": {"schema": {"$ref": COMPONENTS.format(model="ErrorBody")}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                if code[0] in "45":
                    response["content"] = dict(error_body)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


def _add_stream_models(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in STREAM_MODELS:
        definition = model.model_json_schema(ref_template=COMPONENTS)
        for name, nested in definition.pop("$defs", {}).items():
            components.setdefault(name, nested)
        components.setdefault(model.__name__, definition)
