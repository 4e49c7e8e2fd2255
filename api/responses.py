"""Responses: pre-validated qa/ value objects serialized once, and the error responses each route documents.

FastAPI would validate a returned ``Answer`` against ``response_model`` again before dumping it; the routes keep
``response_model`` for the OpenAPI schema and hand back the JSON directly (0.2 ms of the ~1 ms FastAPI adds per
/ask, measured server-side on the SQuAD collection).
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from api.schemas import ErrorBody


class ModelResponse(Response):
    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = 200) -> None:
        super().__init__(model.model_dump_json(), status_code=status_code)


# What each error status means on this API; every error has the body ``{"detail": "..."}`` (ErrorBody). api.openapi
# adds the ones every operation shares: 500, 503, 403 and 408 on writes, 401 where QA_API_KEY is checked.
ERRORS: dict[int, str] = {
    400: "the body cannot be parsed: JSON nested too deeply, or multipart malformed (no boundary, cut short) or over "
         "4 fields or 1 file",
    401: "QA_API_KEY is set and the Authorization header is missing, malformed or holds the wrong key",
    403: "a browser sent this write from another origin (not this server's page, not one of QA_CORS_ORIGINS)",
    404: "no document with that id",
    408: "the request body stopped coming (QA_BODY_SECONDS); the connection is closed",
    413: "the request body is over its limit (1 MiB; uploads QA_MAX_UPLOAD_BYTES), or an uploaded file's text is "
         "over QA_MAX_DOCUMENT_CHARS",
    415: "the body is not sent as a content type this operation reads",
    422: "the request is invalid (a question or text over its QA_MAX_* limit too: the schema's maxLength); the "
         "detail names the field and the problem, e.g. 'body.question: Field required'",
    500: "an unexpected failure; nothing internal is shown, the server log has the details",
    503: "the service is still starting (loading the index), or is handling QA_MAX_CONCURRENT_REQUESTS requests; "
         "retry in a moment",
}


def describe(code: int) -> str:
    return ERRORS[code][0].upper() + ERRORS[code][1:] + "."


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of a route that may answer these error ``codes``."""
    return {code: {"model": ErrorBody, "description": describe(code)} for code in codes}


# The ids a POST /documents answered lead to the document: the links schemathesis' stateful phase follows too.
_FIRST_ID = {"doc_id": "$response.body#/documents/0"}
ADDED_LINKS: dict[int | str, dict[str, Any]] = {201: {"links": {
    "GetDocument": {"operationRef": "#/paths/~1documents~1{doc_id}/get", "parameters": _FIRST_ID,
                    "description": "the first document added: its text and metadata"},
    "DeleteDocument": {"operationRef": "#/paths/~1documents~1{doc_id}/delete", "parameters": _FIRST_ID,
                       "description": "remove the first document added"},
}}}
