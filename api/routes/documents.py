"""Document routes: list, fetch (text every citation offset refers to), add (JSON or file upload), delete."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import ReadAccess, ServiceDep, SettingsDep, WriteAccess
from api.responses import ADDED_LINKS, errors
from api.schemas import (
    NOT_BLANK,
    SOURCE_DOC,
    UPLOAD_DOC_ID,
    Deleted,
    DeletedMany,
    DocumentIn,
    DocumentInfo,
    DocumentsAdded,
    DocumentText,
    NotIndexedDuplicate,
)
from index.documents import Document
from index.errors import InvalidInputError, TooLargeError
from index.ingest import SUPPORTED_SUFFIXES, RecordError, document_from_record, make_doc_id, parse_records
from index.jobs import Job, RejectedRecord

router = APIRouter(prefix="/documents", tags=["documents"], dependencies=[ReadAccess])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": f"one article: {', '.join(SUPPORTED_SUFFIXES)}"},
                        "doc_id": {"type": "string", **UPLOAD_DOC_ID,
                                   "description": "optional id (default: from the content hash); other characters "
                                                  "than letters, digits and `_ . -` become `-`; not `CURRENT`"},
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
    return [DocumentInfo.of(e) for e in service.documents()]


@router.get("/{doc_id}", response_model=DocumentText, responses=errors(404))
def get_document(doc_id: str, service: ServiceDep) -> DocumentText:
    """Metadata and full text; citation offsets index into ``text`` (in Unicode code points)."""
    return DocumentText.of(service.document(doc_id))


# A write is on disk before it is answered; when saving fails nothing of it was applied, and the reason says why.
_WRITE_FAILURES: dict[int | str, dict[str, Any]] = {
    500: {"description": "Saving the index failed; the write was not applied (send it again)."},
    507: {"description": "The disk holding the index is full; the write was not applied."},
}


_JOB_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": Job, "description": "More than QA_JOB_THRESHOLD documents, or `background=true`: indexed by a "
          "background job in batches; follow it at the `Location` URL (GET /jobs/{id}).",
          "headers": {"Location": {"description": "/jobs/{id}", "schema": {"type": "string"}}}},
    429: {"description": "Too many indexing jobs are queued or running; nothing was accepted."},
}


@router.post("", status_code=201, response_model=DocumentsAdded, dependencies=[WriteAccess], openapi_extra=_UPLOAD_BODY,
             responses={**_WRITE_FAILURES, **_JOB_ACCEPTED, **errors(400, 413, 415, 422), **ADDED_LINKS},
             response_model_exclude_none=True)
async def add_document(
    request: Request, service: ServiceDep, settings: SettingsDep,
    background: bool = Query(False, description="index in a background job even when the upload is small"),
    allow_duplicate: bool = Query(False, description="index a document even when another has the same text (as a "
                                  "copy of it); without it such a document is listed in `duplicates`, not indexed"),
) -> DocumentsAdded | JSONResponse:
    """Index articles: JSON ``{title, text, url?, published?}`` or a multipart ``file`` upload (a .json or .jsonl
    file may hold many). Every document is checked before anything is written; a small upload is indexed now (201),
    one of more than QA_JOB_THRESHOLD documents by a background job (202)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    rejected: list[RejectedRecord] = []
    if content_type == "application/json":
        docs = [_from_json(await request.body(), settings.max_upload_bytes, settings.max_document_chars)]
    elif content_type == "multipart/form-data":
        docs, rejected = await _from_upload(request, settings.max_upload_bytes, settings.max_document_chars)
    else:
        raise UnsupportedMediaError(
            f"unsupported content type {content_type or '(none)'!r}; send application/json or multipart/form-data"
        )
    if background or len(docs) > settings.job_threshold:
        job = await run_in_threadpool(service.submit_documents, docs, rejected, allow_duplicate)
        return JSONResponse(job.model_dump(mode="json"), status_code=202, headers={"Location": f"/jobs/{job.id}"})
    report = await run_in_threadpool(service.add_documents, docs, allow_duplicate)
    duplicates = NotIndexedDuplicate.of(report)
    return DocumentsAdded(documents=[d.doc_id for d in docs], added=report.added, changed=report.changed,
                          unchanged=report.unchanged, encoding=next((d.encoding for d in docs if d.encoding), None),
                          undated=[d.doc_id for d in docs if d.published is None
                                   and d.doc_id in report.added + report.changed] or None,
                          rejected=rejected or None, duplicates=duplicates or None,
                          duplicates_unchecked=service.duplicates_unchecked)


@router.delete("/{doc_id}", response_model=Deleted, dependencies=[WriteAccess],
                responses={**_WRITE_FAILURES, **errors(404)})
def delete_document(doc_id: str, service: ServiceDep) -> Deleted:
    service.delete_document(doc_id)
    return Deleted(deleted=doc_id)


@router.delete("", response_model=DeletedMany, dependencies=[WriteAccess],
                responses={**_WRITE_FAILURES, **errors(404, 422)})
def delete_documents(
    service: ServiceDep,
    doc_id: Annotated[list[str] | None, Query(description="a document to remove (repeat for several); all or none: "
                                                          "an unknown id removes nothing (404)")] = None,
    source: Annotated[str | None, Query(max_length=500, description="remove every document this source filter "
                                        f"matches: {SOURCE_DOC}", json_schema_extra={"pattern": NOT_BLANK})] = None,
    dry_run: bool = Query(False, description="only say which documents would be removed"),
) -> DeletedMany:
    """Remove in one write the documents ``doc_id`` names and every document of ``source`` (neither: nothing)."""
    ids = service.delete_documents(doc_id or [], source, dry_run)
    return DeletedMany(deleted=ids, count=len(ids), dry_run=dry_run)


def _from_json(raw: bytes, max_bytes: int, max_chars: int) -> Document:
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
    if len(body.text) > max_chars:  # the schema's maxLength: 422 (a file's extracted text over it is 413)
        raise InvalidInputError(f"body.text: document text is {len(body.text):,} characters, over the {max_chars:,}-"
                                "character limit (QA_MAX_DOCUMENT_CHARS)")
    size = len(body.text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise TooLargeError(f"document text is {size:,} bytes, over the {max_bytes:,}-byte limit (QA_MAX_UPLOAD_BYTES)")
    if not body.text.strip():
        raise InvalidInputError("document text is blank")
    doc_id = body.doc_id or f"doc_{hashlib.sha256(body.text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"
    # the same record-to-Document path as a .json or .jsonl file's records
    return document_from_record(body.model_dump(exclude={"doc_id"}), doc_id, source="api")


async def _from_upload(request: Request, max_bytes: int,
                       max_chars: int) -> tuple[list[Document], list[RejectedRecord]]:
    """The documents of an uploaded file and its records that could not be read (a JSON / JSON Lines file's good
    records are indexed, as `qa index` does; a file with no good record is refused)."""
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("multipart body needs the article as a file field named 'file'")
        unknown = sorted(set(form.keys()) - {"file", "doc_id"})
        if unknown:  # like the JSON body's extra="forbid": a misspelt "docid" is not silently ignored
            raise InvalidInputError(f"unknown multipart field {unknown[0]!r}; send 'file' and optionally 'doc_id'")
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLargeError(f"upload is over the {max_bytes:,}-byte limit (QA_MAX_UPLOAD_BYTES)")
        requested = form.get("doc_id")
        # The client's file name only picks the parser by its suffix; it never becomes a path or an id.
        filename = upload.filename or ""
    doc_id = make_doc_id(requested) if isinstance(requested, str) and requested.strip() else \
        f"upload_{hashlib.sha256(data).hexdigest()[:16]}"
    parsed = await run_in_threadpool(parse_records, data, filename, doc_id, max_bytes, max_chars)
    docs = [p for p in parsed if isinstance(p, Document)]
    rejected = [RejectedRecord(where=p.where, reason=p.reason) for p in parsed if isinstance(p, RecordError)]
    if not docs:
        more = f" (and {len(rejected) - 1} more bad records)" if len(rejected) > 1 else ""
        raise InvalidInputError(f"{rejected[0].where}: {rejected[0].reason}{more}; nothing from this file was added")
    return docs, rejected
