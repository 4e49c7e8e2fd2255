"""Document routes: list, fetch (text every citation offset refers to), add (JSON or file upload), delete."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import ServiceDep, SettingsDep, WriteAccess
from api.schemas import Deleted, DocumentIn, DocumentsAdded
from index.dates import normalise_date
from index.documents import Document
from index.errors import InvalidInputError, TooLargeError
from index.ingest import SUPPORTED_SUFFIXES, make_doc_id, parse_bytes
from qa.service import DocumentInfo, DocumentText

router = APIRouter(prefix="/documents", tags=["documents"])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": f"one article: {', '.join(SUPPORTED_SUFFIXES)}"},
                        "doc_id": {"type": "string", "description": "optional id (default: from the content hash)"},
                    },
                }
            },
        },
    }
}


class UnsupportedMediaError(InvalidInputError):
    status_code = 415


@router.get("", response_model=list[DocumentInfo])
def list_documents(service: ServiceDep) -> list[DocumentInfo]:
    """Ids, titles, urls, dates and passage counts of every indexed document."""
    return service.documents()


@router.get("/{doc_id}", response_model=DocumentText)
def get_document(doc_id: str, service: ServiceDep) -> DocumentText:
    """Metadata and full text; citation offsets index into ``text`` (in Unicode code points)."""
    return service.document(doc_id)


# A write is on disk before it is answered; when saving fails nothing of it was applied, and the reason says why.
_WRITE_FAILURES: dict[int | str, dict[str, Any]] = {
    500: {"description": "Saving the index failed; the write was not applied (send it again)."},
    507: {"description": "The disk holding the index is full; the write was not applied."},
}


@router.post("", status_code=201, response_model=DocumentsAdded, dependencies=[WriteAccess], openapi_extra=_UPLOAD_BODY,
             responses=_WRITE_FAILURES)
async def add_document(request: Request, service: ServiceDep, settings: SettingsDep) -> DocumentsAdded:
    """Index an article now: JSON ``{title, text, url?, published?}`` or a multipart ``file`` upload."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        docs = [_from_json(await request.body(), settings.max_upload_bytes)]
    elif content_type == "multipart/form-data":
        docs = await _from_upload(request, settings.max_upload_bytes)
    else:
        raise UnsupportedMediaError(
            f"unsupported content type {content_type or '(none)'!r}; send application/json or multipart/form-data"
        )
    report = await run_in_threadpool(service.add_documents, docs)
    return DocumentsAdded(documents=[d.doc_id for d in docs], added=report.added, changed=report.changed,
                          unchanged=report.unchanged)


@router.delete("/{doc_id}", response_model=Deleted, dependencies=[WriteAccess], responses=_WRITE_FAILURES)
def delete_document(doc_id: str, service: ServiceDep) -> Deleted:
    service.delete_document(doc_id)
    return Deleted(deleted=doc_id)


def _from_json(raw: bytes, max_bytes: int) -> Document:
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, or an integer over Python's digit limit
        raise InvalidInputError(f"request body is not valid JSON ({exc})") from None
    except RecursionError:
        raise InvalidInputError("request body is nested too deeply") from None
    try:
        body = DocumentIn.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    size = len(body.text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise TooLargeError(f"document text is {size:,} bytes, over the {max_bytes:,}-byte limit (QA_MAX_UPLOAD_BYTES)")
    if not body.text.strip():
        raise InvalidInputError("document text is blank")
    doc_id = body.doc_id or f"doc_{hashlib.sha256(body.text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"
    return Document(doc_id, body.title.strip() or doc_id, body.text, body.url, normalise_date(body.published),
                    source="api", published_raw=body.published, author=body.author, site_name=body.site_name)


async def _from_upload(request: Request, max_bytes: int) -> list[Document]:
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("multipart body needs the article as a file field named 'file'")
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLargeError(f"upload is over the {max_bytes:,}-byte limit (QA_MAX_UPLOAD_BYTES)")
        requested = form.get("doc_id")
        # The client's file name only picks the parser by its suffix; it never becomes a path or an id.
        filename = upload.filename or ""
    doc_id = make_doc_id(requested) if isinstance(requested, str) and requested.strip() else \
        f"upload_{hashlib.sha256(data).hexdigest()[:16]}"
    return await run_in_threadpool(parse_bytes, data, filename, doc_id, max_bytes)
