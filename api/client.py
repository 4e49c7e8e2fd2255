"""A small httpx client for a running server; `qa ask --url` uses it and prints the same output as a local ask."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from index.errors import (
    DocumentNotFoundError,
    IndexMissingError,
    InvalidInputError,
    QAError,
    TooLargeError,
)
from qa.models import Answer, Passage

if TYPE_CHECKING:
    from index.filters import Filters


class AuthError(QAError):
    status_code = 401


class JobError(QAError):
    """A background indexing job failed or was cancelled (its committed batches stay indexed)."""


def _job_end(job: dict[str, Any]) -> str:
    if job["state"] == "failed":
        return f"indexing job {job['id']} failed: {job['error']}"
    return (f"indexing job {job['id']} was cancelled after committing {job['done']} of {job['total']} documents "
            f"({len(job['skipped'])} not indexed)")


_ERRORS: dict[int, type[QAError]] = {
    401: AuthError, 404: DocumentNotFoundError, 413: TooLargeError, 415: InvalidInputError, 422: InvalidInputError,
    503: IndexMissingError,
}


class QAClient:
    """Calls the HTTP API and returns the same value objects as ``QAService``; errors raise ``QAError``s."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QAClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise QAError(f"cannot reach the server at {self.url} ({exc}); is `qa serve` running?") from None
        if response.is_success:
            return response
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text or response.reason_phrase
        error = _ERRORS.get(response.status_code, QAError)(f"server answered {response.status_code}: {detail}")
        error.status_code = response.status_code
        raise error

    def ask(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> Answer:
        body: dict[str, Any] = {"question": question, **(filters.params() if filters else {})}
        if top_k is not None:
            body["top_k"] = top_k
        return Answer.model_validate(self._request("POST", "/ask", json=body))

    def chat(self, messages: Sequence[tuple[str, str]], top_k: int | None = None,
             filters: Filters | None = None) -> Answer:
        body: dict[str, Any] = {"messages": [{"role": r, "content": c} for r, c in messages],
                                **(filters.params() if filters else {})}
        if top_k is not None:
            body["top_k"] = top_k
        return Answer.model_validate(self._request("POST", "/chat", json=body))

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        params: dict[str, Any] = {"q": query, **(filters.params() if filters else {})}
        if k is not None:
            params["k"] = k
        return [Passage.model_validate(p) for p in self._request("GET", "/search", params=params)]

    def upload(self, path: Path, doc_id: str | None = None,
               on_job: Callable[[dict[str, Any]], None] | None = None,
               allow_duplicate: bool = False) -> dict[str, Any]:
        """POST one article file as a multipart upload; returns the server's DocumentsAdded body. A file the server
        indexes in a background job (202) is followed to its end, ``on_job`` seeing each record, and its result is
        returned in the same shape plus ``job`` (the id)."""
        data = {"doc_id": doc_id} if doc_id else None
        with open(path, "rb") as fh:
            response = self._send("POST", "/documents", files={"file": (path.name, fh)}, data=data,
                                  params={"allow_duplicate": "true"} if allow_duplicate else None)
        if response.status_code != 202:
            result: dict[str, Any] = response.json()
            return result
        job = self.follow_job(response.headers["location"], on_job)
        return {"documents": job["added"] + job["changed"] + job["unchanged"], "added": job["added"],
                "changed": job["changed"], "unchanged": job["unchanged"], "rejected": job.get("rejected", []),
                "duplicates": job.get("duplicates", []), "job": job["id"]}

    def job(self, location: str) -> dict[str, Any]:
        """A job's record by its ``Location`` (``/jobs/{id}``)."""
        result: dict[str, Any] = self._request("GET", location)
        return result

    def follow_job(self, location: str, on_update: Callable[[dict[str, Any]], None] | None = None,
                   poll_seconds: float = 0.5) -> dict[str, Any]:
        """Poll a job until it is done; a failed or cancelled job raises ``JobError`` saying how far it got."""
        try:
            while True:
                job = self.job(location)
                if on_update is not None:
                    on_update(job)
                if job["state"] == "done":
                    return job
                if job["state"] in ("failed", "cancelled"):
                    raise JobError(_job_end(job))
                time.sleep(poll_seconds)  # the job runs on the server; this only paces the questions about it
        except KeyboardInterrupt:
            raise JobError(f"stopped following {location}; the job goes on on the server (GET {location} shows it, "
                           f"DELETE {location} cancels it)") from None

    def document(self, doc_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/documents/{quote(doc_id, safe='')}")
        return result

    def delete(self, doc_id: str) -> None:
        self._request("DELETE", f"/documents/{quote(doc_id, safe='')}")

    def delete_many(self, doc_ids: Sequence[str] = (), source: str | None = None,
                    dry_run: bool = False) -> list[str]:
        """DELETE /documents: the documents ``doc_ids`` names (all or none) and every one of ``source``; the ids
        removed (with ``dry_run``, that would be)."""
        params: dict[str, Any] = {"dry_run": str(dry_run).lower(), "doc_id": list(doc_ids)}
        if source is not None:
            params["source"] = source
        result: list[str] = self._request("DELETE", "/documents", params=params)["deleted"]
        return result

    def documents(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("GET", "/documents")
        return result

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/health")
        return result
