"""Background job records in Milvus: two replicas (two connections to one milvus-lite engine, each with its own job
manager) read each other's jobs with their progress, cancel them, and finish a job whose replica is gone as failed
with the ids it did not index; a batch written again never duplicates rows. Tests act at exact points through the
``on_batch`` hook and a clock given to the reading replica, never by sleeping."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator

import pytest

from index.chunking import ChunkParams, chunk_document
from index.documents import Document
from index.embedder import Embedder
from index.errors import JobFinishedError, JobNotFoundError
from index.jobs import Job, JobManager
from index.milvus import MilvusStore, document_rows, start_lite
from index.milvus_jobs import LEASE_S, MilvusJobJournal, lost_upload_error

WAIT = 300  # seconds: a bound for a hung test, not a synchronisation
_prefixes = itertools.count()


def docs(n: int) -> list[Document]:
    return [Document(f"ferry_{i}", f"Ferry {i}", f"The ferry number {i} leaves the harbour at {i % 12 + 1} o'clock. "
                                                 f"It carries {i * 10 + 3} passengers.") for i in range(n)]


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    engine, uri = start_lite(tmp_path_factory.mktemp("milvus") / "jobs.db")
    yield uri
    engine.stop()


@pytest.fixture
def replicas(lite_uri: str, embedder: Embedder) -> Iterator[Callable[..., tuple[MilvusStore, JobManager]]]:
    """``replica(clock=...)``: a new connection to this test's collections and a job manager over it (batches of 2)."""
    prefix = f"jobs{os.getpid()}_{next(_prefixes)}"
    opened: list[tuple[MilvusStore, JobManager, MilvusJobJournal]] = []

    def replica(clock: Callable[[], float] = time.time) -> tuple[MilvusStore, JobManager]:
        store = MilvusStore.open(lite_uri, embedder, prefix=prefix, create=True)
        journal = MilvusJobJournal(store, clock=clock)
        manager = JobManager(lambda batch, progress, _: store.update(batch, on_progress=progress), batch_docs=2,
                             journal=journal)
        opened.append((store, manager, journal))
        return store, manager

    yield replica
    for _, manager, journal in opened:
        manager.close(WAIT)
        journal.close()  # its heartbeat
    opened[0][0].drop()
    for store, _, _ in opened:
        store.close()


def test_a_job_is_followed_and_cancelled_through_another_replica(replicas) -> None:  # type: ignore[no-untyped-def]
    store_a, a = replicas()
    store_b, b = replicas()
    upload = docs(6)
    seen: list[Job] = []
    answered: list[Job] = []

    def through_b(job: Job) -> None:
        if job.done == 2:
            seen.append(b.get(job.id))
            answered.append(b.cancel(job.id))  # A cancels it before its next batch

    a.on_batch = through_b
    job = a.wait(a.submit(upload).id, WAIT)
    assert (seen[0].state, seen[0].done, seen[0].total, seen[0].added, seen[0].cancel_requested) == \
        ("running", 2, 6, ["ferry_0", "ferry_1"], False)
    assert (answered[0].state, answered[0].cancel_requested) == ("running", True)
    assert (job.state, job.done, job.added, job.skipped, job.cancel_requested) == \
        ("cancelled", 2, ["ferry_0", "ferry_1"], [d.doc_id for d in upload[2:]], True)
    assert b.get(job.id) == job == a.get(job.id)
    assert b.recent() == [job]
    assert sorted(store_b.snapshot.entries) == ["ferry_0", "ferry_1"]
    with pytest.raises(JobFinishedError, match="already finished \\(cancelled\\); nothing to cancel"):
        b.cancel(job.id)


def test_a_finished_job_reads_the_same_through_every_replica(replicas) -> None:  # type: ignore[no-untyped-def]
    _, a = replicas()
    _, b = replicas()
    first = a.wait(a.submit(docs(5)).id, WAIT)
    second = b.wait(b.submit(docs(3)).id, WAIT)  # the same documents again: unchanged
    assert (first.state, first.done, first.added, first.error) == ("done", 5, [d.doc_id for d in docs(5)], None)
    assert (second.state, second.added, second.unchanged) == ("done", [], [d.doc_id for d in docs(3)])
    assert b.get(first.id) == first and a.get(second.id) == second
    assert a.recent() == b.recent() == [second, first]
    with pytest.raises(JobNotFoundError, match="no job with id 'job_nope'"):
        b.get("job_nope")
    with pytest.raises(JobNotFoundError):
        b.get("job_" + "x" * 100)


def test_the_job_of_a_replica_that_is_gone_is_taken_over_and_finished(replicas) -> None:  # type: ignore[no-untyped-def]
    store_a, a = replicas()
    _, later = replicas(clock=lambda: time.time() + LEASE_S + 5)  # A's heartbeat looks older than the lease to it
    upload = docs(6)
    taken: list[list[Job]] = []
    a.on_batch = lambda job: taken.append(later.resume()) if job.done == 2 else None
    job = a.submit(upload)
    a.wait(job.id, WAIT)  # A, taken for gone, stops before its next batch: the job is no longer its own
    [resumed] = taken[0]
    assert (resumed.id, resumed.state, resumed.done, resumed.added) == (job.id, "queued", 2, ["ferry_0", "ferry_1"])
    finished = later.wait(job.id, WAIT)
    assert (finished.state, finished.done, finished.added, finished.unchanged, finished.skipped, finished.error) == \
        ("done", 6, [d.doc_id for d in upload], [], [], None)
    assert a.get(job.id) == finished
    # per document: a head, a text part and a layout part, two sentences, a passage
    assert [store_a.count(c) for c in ("heads", "documents", "sentences", "passages")] == [6, 12, 12, 6]


def test_a_batch_written_again_never_duplicates_rows(replicas, embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
    store, a = replicas()
    upload = docs(4)
    # a batch cut off after its sentence rows were written, before its heads (the commit point): then sent again
    pieces = [chunk_document(d.doc_id, d.text, ChunkParams(), d.title) for d in upload[:2]]
    for doc, (sentences, chunks) in zip(upload[:2], pieces, strict=True):
        rows = document_rows(doc, sentences, chunks, embedder.encode([s.text for s in sentences]))
        store._upsert("sentences", rows["sentences"])
    assert store.snapshot.entries.keys() == set()
    first = a.wait(a.submit(upload).id, WAIT)
    again = a.wait(a.submit(upload).id, WAIT)  # the whole upload once more
    assert (first.added, again.unchanged) == ([d.doc_id for d in upload], [d.doc_id for d in upload])
    assert [store.count(c) for c in ("heads", "documents", "sentences", "passages")] == [4, 8, 8, 4]


def test_a_job_cancelled_then_lost_with_its_replica_reads_as_cancelled(replicas) -> None:  # type: ignore[no-untyped-def]
    _, a = replicas()
    _, b = replicas()
    _, later = replicas(clock=lambda: time.time() + LEASE_S + 5)
    upload = docs(6)
    resumed: list[list[Job]] = []

    def cancel_then_lose(job: Job) -> None:
        if job.done == 2:
            b.cancel(job.id)
            resumed.append(later.resume())

    a.on_batch = cancel_then_lose
    ended = a.wait(a.submit(upload).id, WAIT)
    assert resumed == [[]]
    assert (ended.state, ended.done, ended.skipped, ended.error, ended.cancel_requested) == \
        ("cancelled", 2, [d.doc_id for d in upload[2:]], None, True)
    assert ended == b.get(ended.id) == later.get(ended.id)


def test_a_lost_job_whose_upload_cannot_be_read_back_fails(replicas) -> None:  # type: ignore[no-untyped-def]
    store_a, a = replicas()
    _, later = replicas(clock=lambda: time.time() + LEASE_S + 5)
    resumed: list[list[Job]] = []

    def lose_upload(job: Job) -> None:
        if job.done == 2:
            store_a.client.delete(store_a.name("jobs"), filter='kind == "docs"')
            resumed.append(later.resume())

    a.on_batch = lose_upload
    ended = a.wait(a.submit(docs(6)).id, WAIT)
    assert resumed == [[]]
    assert (ended.state, ended.done, ended.skipped, ended.error) == ("failed", 2, [], lost_upload_error(2, 6))
    assert ended.error == ("the replica running this job stopped (killed, or cut off from Milvus for over 15 s) "
                           "after 2 of 6 documents, and its upload could not be read back to resume it: those 2 are "
                           "indexed; send the upload again (the documents already indexed are reported unchanged)")
