"""Background indexing jobs (large uploads to POST /documents): progress, the recent ones, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ReadAccess, ServiceDep, WriteAccess
from index.jobs import Job

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[ReadAccess])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": (
    "No job with that id (unknown, or forgotten: the server keeps the latest 100 finished jobs, and unfinished ones "
    "across restarts; on Milvus, every replica's jobs)")}}


@router.get("", response_model=list[Job])
def list_jobs(service: ServiceDep) -> list[Job]:
    """Queued, running and recently finished jobs, newest first."""
    return service.jobs.recent()


@router.get("/{job_id}", response_model=Job, responses=_NOT_FOUND)
def get_job(job_id: str, service: ServiceDep) -> Job:
    """A job's state and progress: ``done`` of ``total`` documents committed, with the ids added, changed and
    unchanged so far."""
    return service.jobs.get(job_id)


@router.delete("/{job_id}", status_code=202, response_model=Job, dependencies=[WriteAccess],
               responses={**_NOT_FOUND, 409: {"description": "The job has already finished; nothing to cancel."}})
def cancel_job(job_id: str, service: ServiceDep) -> Job:
    """Cancel a job: a queued one at once, a running one once the batch it is writing is committed (the batches
    committed before stay; the record says how many documents that was). On Milvus, another replica's job is
    cancelled by that replica before its next batch (the answer says ``cancel_requested``)."""
    return service.jobs.cancel(job_id)
