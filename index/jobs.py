"""Background indexing jobs: a large upload is committed in batches by one worker thread, with progress and cancel.

Each batch is its own durable write (the store's write lock is taken and released per batch), and a write gate lets
the requests that were already waiting for that lock (a delete, a small upload) go before the job's next batch. With
a journal, the backend's (``Storage.job_journal``), the records outlive the process: the embedded backend's writer
journals each accepted upload and each batch's progress on disk (index/job_journal.py), so after a restart or a kill
every unfinished job resumes after its last journaled batch; the Milvus backend keeps the records in Milvus
(index/milvus_jobs.py), where every replica reads, and cancels, every replica's jobs.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from index import faults
from index.documents import Document
from index.errors import JobFinishedError, JobNotFoundError, JobQueueFullError, QAError
from index.store import UpdateReport

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})
KEEP_FINISHED = 100  # finished records kept for GET /jobs (and in the journal); older ones are forgotten
MAX_PENDING = 8  # queued + running jobs; each holds its parsed upload (at most QA_MAX_UPLOAD_BYTES) in memory
INTERNAL = "internal error; the server log has the details"


class RejectedRecord(BaseModel):
    """A record of an uploaded JSON / JSON Lines file that could not be read (the others were indexed)."""

    model_config = ConfigDict(frozen=True)

    where: str = Field(description="`line N` of a JSON Lines file, `record N` of a JSON array")
    reason: str


class NotIndexedDuplicate(BaseModel):
    """A document of an upload that was not indexed: ``duplicate_of`` has the same text."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    duplicate_of: str
    reason: str

    @classmethod
    def of(cls, report: UpdateReport) -> list[NotIndexedDuplicate]:
        """The documents a write did not index because another has the same text (its other skips are not these)."""
        return [cls(doc_id=s.doc_id, duplicate_of=s.duplicate_of, reason=s.reason)
                for s in report.skipped if s.doc_id is not None and s.duplicate_of is not None]


class Job(BaseModel):
    """A background indexing job as GET /jobs/{id} shows it; ``done`` counts documents already committed."""

    model_config = ConfigDict(frozen=True)

    id: str
    state: JobState
    total: int = Field(description="documents in the upload")
    done: int = Field(description="documents committed to the index so far (whole batches; they stay if cancelled)")
    added: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list,
                               description="ids not applied because the job was cancelled or failed first")
    rejected: list[RejectedRecord] = Field(default_factory=list,
                                           description="records of the uploaded file that could not be read")
    allow_duplicate: bool = Field(False, description="a document with the same text as another is indexed as a copy")
    duplicates: list[NotIndexedDuplicate] = Field(default_factory=list, description="documents not indexed because "
                                                  "another has the same text (allow_duplicate=true indexes them as "
                                                  "copies)")
    cancel_requested: bool = False
    error: str | None = Field(None, description="why the job failed; the batches before it stay committed")
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None


class WriteGate:
    """Gives requests that write one thing (a delete, a small upload) a turn before a background job's next batch.

    Releasing the store's lock between batches is not enough on its own: Python promises nothing about which
    waiting thread gets a released lock, so the job thread, waiting for it beside them, may take it first (CPython on
    Linux happens to hand it over in arrival order; the gate makes that a promise). Only the writers in flight when a
    batch ends go first; later ones queue on the store's lock as usual, so a stream of writes cannot starve the job."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._tickets = itertools.count(1)
        self._in_flight: set[int] = set()

    @contextmanager
    def interactive(self) -> Iterator[None]:
        """Hold for the duration of one request's write."""
        with self._cond:
            ticket = next(self._tickets)
            self._in_flight.add(ticket)
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._in_flight.discard(ticket)
                self._cond.notify_all()

    def yield_to_waiting(self) -> None:
        """Block until every write that was in flight on entry has finished."""
        with self._cond:
            before = set(self._in_flight)
            self._cond.wait_for(lambda: not (before & self._in_flight))

    def wait_for_writers(self, count: int = 1, timeout: float | None = None) -> bool:
        """Block until at least ``count`` writes are in flight (for tests and monitoring); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._in_flight) >= count, timeout)


class Journal(Protocol):
    """Where job records outlive the process: ``index.job_journal.JobJournal`` (disk) or
    ``index.milvus_jobs.MilvusJobJournal`` (shared by replicas)."""

    shared: bool  # other processes' jobs are read (``read``, ``records``) and cancelled (``request_cancel``) here
    resumable: bool  # uploads are kept: unfinished jobs go on at the next start (``load``)

    def accept(self, record: dict, docs: Sequence[Document]) -> None: ...

    def save(self, record: dict) -> None: ...

    def finish(self, record: dict) -> None: ...

    def forget(self, job_id: str) -> None: ...

    def load(self) -> list[tuple[dict, list[Document] | None]]: ...


class SharedJournal(Journal, Protocol):
    """A journal several processes read and write (Milvus): any replica's jobs are read and cancelled through it."""

    def read(self, job_id: str) -> dict | None: ...

    def records(self) -> list[dict]: ...

    def request_cancel(self, job_id: str) -> None: ...

    def interrupted(self, job_id: str) -> str | None: ...

    def watch(self, adopt: Callable[[dict, list[Document]], None]) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class JobManager:
    """Runs indexing jobs one at a time, in submission order, on a worker thread started on demand (and ended when
    the queue is empty). ``write_batch(docs, on_progress, allow_duplicate)`` commits one batch of documents and says
    what it did."""

    def __init__(self, write_batch: Callable[[list[Document], Callable[[int], None], bool], UpdateReport],
                 batch_docs: int = 64, keep_finished: int = KEEP_FINISHED, max_pending: int = MAX_PENDING,
                 journal: Journal | None = None) -> None:
        self._write_batch = write_batch
        self._journal = journal
        shared = journal is not None and journal.shared
        self._shared: SharedJournal | None = journal if shared else None  # type: ignore[assignment]
        self._stopping = False  # close() with a journal: stop after the current batch, resume at the next start
        self.batch_docs = batch_docs
        self._keep_finished = keep_finished
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}  # insertion order = creation order
        self._docs: dict[str, list[Document]] = {}  # the uploads of queued and running jobs
        self._queue: deque[str] = deque()
        self._worker: threading.Thread | None = None
        # Hooks called on the worker thread with the job's record, so tests act at an exact point instead of
        # sleeping: ``on_write`` once per batch while it is being written (the index locked, the batch not yet
        # committed), ``on_batch`` after each committed batch. An exception in a hook is logged and ignored.
        self.on_write: Callable[[Job], None] | None = None
        self.on_batch: Callable[[Job], None] | None = None

    # ---- the API the routes call -----------------------------------------------------------------------------
    def submit(self, docs: Sequence[Document], rejected: Sequence[RejectedRecord] = (),
               allow_duplicate: bool = False) -> Job:
        """Queue a job over documents that are already validated (``rejected``: the upload's records that were not,
        to report); returns its first record (``queued``)."""
        with self._cond:
            pending = len(self._docs)
            if pending >= self._max_pending:
                raise JobQueueFullError(f"{pending} indexing jobs are queued or running, the most the server keeps; "
                                        "send the upload again when one has finished (GET /jobs)")
            job = Job(id=f"job_{secrets.token_hex(8)}", state="queued", total=len(docs), done=0, created=_now(),
                      rejected=list(rejected), allow_duplicate=allow_duplicate)
            if self._journal is not None:  # on disk before the caller answers 202
                self._journal.accept(job.model_dump(mode="json"), docs)
            self._jobs[job.id] = job
            self._docs[job.id] = list(docs)
            self._queue.append(job.id)
            self._start_worker()
            return job

    def resume(self) -> list[Job]:
        """Load the journal: finished jobs are listed again, unfinished ones queued to go on after their last
        journaled batch (in their order of creation). With a shared journal (Milvus) these are the jobs of replicas
        that are gone, and from now on such jobs are taken over as they are found. Returns the resumed jobs."""
        if self._journal is None:
            return []
        with self._cond:
            resumed = [job for record, docs in self._journal.load() if (job := self._take(record, docs))]
            self._forget_old()
        for job in resumed:
            log.warning("resuming indexing job %s after document %d of %d", job.id, job.done, job.total)
        if self._shared is not None:
            self._shared.watch(self._adopt)
        return resumed

    def _adopt(self, record: dict, docs: list[Document]) -> None:
        """A job of a replica that is gone, taken over through the shared journal: it goes on here."""
        with self._cond:
            job = self._take(record, docs)
        if job is not None:
            log.warning("resuming indexing job %s after document %d of %d", job.id, job.done, job.total)

    def _take(self, record: dict, docs: list[Document] | None) -> Job | None:
        """List a journaled job; queue it when unfinished and its upload is whole (callers hold ``_cond``)."""
        job = Job.model_validate(record)
        if job.state in FINISHED or docs is None or len(docs) != job.total:
            if job.state not in FINISHED:
                log.warning("job %s cannot be resumed: its journaled upload is missing or incomplete", job.id)
                job = job.model_copy(update={"state": "failed", "finished": _now(), "error": (
                    f"the server restarted and the upload was lost from its journal; the first {job.done} "
                    "documents are indexed")})
                self._journal.finish(job.model_dump(mode="json"))  # type: ignore[union-attr]
            self._jobs[job.id] = job
            return None
        job = job.model_copy(update={"state": "queued"})
        self._jobs[job.id], self._docs[job.id] = job, docs
        self._queue.append(job.id)
        self._start_worker()
        return job

    def _start_worker(self) -> None:
        if self._worker is None and not self._stopping:
            self._worker = threading.Thread(target=self._run, name="qa-jobs", daemon=True)
            self._worker.start()

    def get(self, job_id: str) -> Job:
        """The job's record; with a shared journal, as any replica's job is recorded there."""
        if self._shared is not None:
            record = self._shared.read(job_id)
            job = None if record is None else Job.model_validate(record)
        else:
            job = self._local(job_id)
        if job is None:
            raise JobNotFoundError(f"no job with id {job_id!r}; GET /jobs lists the recent ones (the latest "
                                   f"{self._keep_finished} finished jobs are kept)")
        return job

    def _local(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        """Recent jobs, newest first (with a shared journal, every replica's)."""
        if self._shared is not None:
            return [Job.model_validate(r) for r in self._shared.records()]
        with self._cond:
            return list(reversed(self._jobs.values()))

    def cancel(self, job_id: str) -> Job:
        """A queued job is cancelled at once; a running one after the batch it is writing (that batch stays). A job
        of another replica (shared journal) is cancelled by that replica before its next batch."""
        if self._shared is not None and self._local(job_id) is None:
            job = self.get(job_id)
            if job.state in FINISHED:
                raise JobFinishedError(f"job {job_id!r} has already finished ({job.state}); nothing to cancel")
            self._shared.request_cancel(job_id)
            return job.model_copy(update={"cancel_requested": True})
        with self._cond:
            job = self._local(job_id) or self.get(job_id)
            if job.state in FINISHED:
                raise JobFinishedError(f"job {job_id!r} has already finished ({job.state}); nothing to cancel")
            if job.state == "queued":
                self._queue.remove(job_id)
                skipped = [d.doc_id for d in self._docs[job_id]]
                return self._finish(job, "cancelled", skipped=skipped, cancel_requested=True)
            return self._update(job, cancel_requested=True)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """The job's record once it has finished, or as it is when ``timeout`` runs out."""
        with self._cond:
            if job_id not in self._jobs:
                return self.get(job_id)  # not this process's job: as it is recorded
            self._cond.wait_for(lambda: job_id not in self._jobs or self._jobs[job_id].state in FINISHED, timeout)
            return self._jobs.get(job_id) or self.get(job_id)

    def close(self, timeout: float | None = None) -> None:
        """``stop()``, then wait for the worker to end."""
        self.stop()
        with self._cond:
            worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def stop(self) -> None:
        """Have the worker stop after the batch it is writing (no new job starts). With a journal that keeps uploads
        the unfinished jobs stay queued there and resume at the next start (on Milvus: on another replica once this
        one's heartbeat stops); otherwise they are cancelled (committed batches stay)."""
        with self._cond:
            if self._journal is None or not self._journal.resumable:
                for job_id in list(self._docs):
                    self.cancel(job_id)
            self._stopping = True

    # ---- the worker ------------------------------------------------------------------------------------------
    def _update(self, job: Job, **changes: object) -> Job:
        """Publish a new record (callers hold ``_cond``)."""
        new = job.model_copy(update=changes)
        self._jobs[job.id] = new
        if self._journal is not None and new.state not in FINISHED:
            self._journal.save(new.model_dump(mode="json"))
        self._cond.notify_all()
        return new

    def _finish(self, job: Job, state: JobState, **changes: object) -> Job:
        self._docs.pop(job.id, None)  # a finished job holds no documents, and no longer counts as pending
        new = self._update(job, state=state, finished=_now(), **changes)
        if self._journal is not None:
            self._journal.finish(new.model_dump(mode="json"))
        self._forget_old()
        return new

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs if self._jobs[j].state in FINISHED]
        for old in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._jobs[old]
            if self._journal is not None:
                self._journal.forget(old)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue or self._stopping:
                    self._worker = None
                    return
                job_id = self._queue.popleft()
                docs = self._docs[job_id]
                job = self._update(self._jobs[job_id], state="running", started=_now())
            try:
                self._run_job(job, docs)
            except Exception:  # a bug here must not leave the job "running" and the worker dead with it
                log.exception("indexing job %s stopped", job_id)
                with self._cond:
                    if self._jobs[job_id].state not in FINISHED:
                        self._finish(self._jobs[job_id], "failed", error=INTERNAL)

    def _run_job(self, job: Job, docs: list[Document]) -> None:
        for start in range(job.done, len(docs), self.batch_docs):  # a resumed job goes on after its last batch
            batch = docs[start : start + self.batch_docs]
            rest = [d.doc_id for d in docs[start:]]
            faults.pause("job-batch")
            remote = self._shared.interrupted(job.id) if self._shared is not None else None
            with self._cond:
                job = self._jobs[job.id]
                if remote == "taken":  # another replica took this one for gone, and the job over: no longer ours
                    self._docs.pop(job.id, None)
                    self._jobs.pop(job.id, None)
                    self._cond.notify_all()
                    return
                if job.cancel_requested or remote == "cancel":
                    self._finish(job, "cancelled", skipped=rest, cancel_requested=True)
                    return
                if self._stopping:
                    return  # journaled as it is: the next start resumes it here
            try:
                report = self._write_batch(batch, self._once(self.on_write, job), job.allow_duplicate)
            except Exception as exc:  # a job has no caller to raise to: its record carries the reason
                if not isinstance(exc, QAError):
                    log.exception("indexing job %s failed", job.id)
                kept = f"the {start} before them are" if start else "nothing was indexed"
                with self._cond:
                    self._finish(self._jobs[job.id], "failed", skipped=rest, error=(
                        f"documents {start + 1}-{start + len(batch)} of {job.total} were not indexed: "
                        f"{exc if isinstance(exc, QAError) else INTERNAL}; {kept}"))
                return
            with self._cond:
                job = self._jobs[job.id]
                job = self._update(job, done=job.done + len(batch), added=job.added + report.added,
                                   changed=job.changed + report.changed, unchanged=job.unchanged + report.unchanged,
                                   duplicates=job.duplicates + NotIndexedDuplicate.of(report))
            _call(self.on_batch, job)
        with self._cond:
            self._finish(self._jobs[job.id], "done")

    @staticmethod
    def _once(hook: Callable[[Job], None] | None, job: Job) -> Callable[[int], None]:
        """A progress callback for the store that calls ``hook`` on its first call only."""
        called = False

        def on_progress(_: int) -> None:
            nonlocal called
            if not called:
                called = True
                _call(hook, job)

        return on_progress


def _call(hook: Callable[[Job], None] | None, job: Job) -> None:
    if hook is None:
        return
    try:
        hook(job)
    except Exception:
        log.exception("job hook %s failed for job %s", getattr(hook, "__name__", hook), job.id)
