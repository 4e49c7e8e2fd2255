"""Background indexing jobs on a real service (real model, FAISS on disk): batches, progress, cancel, failure, and
writes that go before a job's next batch. Tests act at exact points through the ``on_batch`` hook, never by sleeping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.documents import Document
from index.embedder import Embedder
from index.errors import InvalidInputError, JobFinishedError, JobNotFoundError, JobQueueFullError, TooLargeError
from index.jobs import Job
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_IDS = {"000_674862a2fea0ee51", "003_15bbf54440315bf5"}
PATROL_DOC = "003_15bbf54440315bf5"
WAIT = 300  # seconds: a bound for a hung test, not a synchronisation


def _word(i: int) -> str:
    """A made-up word unique to document ``i`` (qxaa, qxab, ...), so each one is found by BM25 alone."""
    return "qx" + chr(97 + i // 26) + chr(97 + i % 26)


def bulk_docs(n: int) -> list[Document]:
    return [Document(f"bulk_{i:03d}", f"Festival {i}",
                     f"The {_word(i)} festival was held in the harbour town on a Sunday. Fishermen sold smoked eel.")
            for i in range(n)]


@pytest.fixture
def service(index_copy: Path, embedder: Embedder) -> Iterator[QAService]:
    settings = Settings(index_dir=index_copy, seeds_dir=SEEDS)
    service = QAService(IndexStore.open(index_copy, embedder), settings)
    yield service
    service.jobs.close(WAIT)


def _on_disk(index_dir: Path, embedder: Embedder) -> set[str]:
    """Document ids of the index as a new process would load it."""
    return set(IndexStore.open(index_dir, embedder).snapshot.entries)


def test_a_job_commits_every_batch_and_the_documents_are_searchable(service: QAService, index_copy: Path,
                                                                     embedder: Embedder) -> None:
    docs = bulk_docs(150)
    seen: list[tuple[int, int, int]] = []  # (done, added so far, documents in the index) after each batch
    service.jobs.on_batch = lambda job: seen.append((job.done, len(job.added), len(service.store.snapshot.entries)))
    first = service.submit_documents(docs)
    assert (first.state, first.total, first.done, first.added, first.finished) == ("queued", 150, 0, [], None)
    job = service.jobs.wait(first.id, WAIT)
    ids = [d.doc_id for d in docs]
    assert (job.state, job.done, job.added, job.changed, job.unchanged, job.skipped, job.error) == (
        "done", 150, ids, [], [], [], None)
    assert job.created <= job.started <= job.finished  # type: ignore[operator]
    assert seen == [(64, 64, 66), (128, 128, 130), (150, 150, 152)]  # three commits, each visible when it is made
    assert _on_disk(index_copy, embedder) == SEED_IDS | set(ids)
    for i in (0, 77, 149):
        assert [p.doc_id for p in service.search(f"{_word(i)} festival", k=1)] == [f"bulk_{i:03d}"]
    assert service.jobs.recent() == [job]

    again = service.jobs.wait(service.submit_documents(docs).id, WAIT)  # the same upload again changes nothing
    assert (again.state, again.done, again.added, again.unchanged) == ("done", 150, [], ids)
    assert [j.id for j in service.jobs.recent()] == [again.id, job.id]


def test_cancel_after_the_first_batch_keeps_exactly_that_batch(service: QAService, index_copy: Path,
                                                               embedder: Embedder) -> None:
    docs = bulk_docs(150)
    answered: list[Job] = []
    service.jobs.on_batch = lambda job: answered.append(service.jobs.cancel(job.id)) if job.done == 64 else None
    job = service.jobs.wait(service.submit_documents(docs).id, WAIT)
    [while_running] = answered
    assert (while_running.state, while_running.cancel_requested, while_running.done) == ("running", True, 64)
    ids = [d.doc_id for d in docs]
    assert (job.state, job.done, job.added, job.skipped, job.error) == ("cancelled", 64, ids[:64], ids[64:], None)
    assert set(service.store.snapshot.entries) == _on_disk(index_copy, embedder) == SEED_IDS | set(ids[:64])
    with pytest.raises(JobFinishedError) as exc:
        service.jobs.cancel(job.id)
    assert str(exc.value) == f"job {job.id!r} has already finished (cancelled); nothing to cancel"


def test_deletes_sent_while_a_batch_is_embedded_do_not_wait_for_it(service: QAService, index_copy: Path,
                                                                    embedder: Embedder) -> None:
    """Embedding happens with no lock held: deletes sent while the job's second batch is being embedded complete
    before that batch commits (on the main of issue #24 they waited for the whole batch)."""
    gone = [*sorted(SEED_IDS), "bulk_000", "bulk_001"]  # two seed documents and two of the job's first batch
    deleters = [threading.Thread(target=service.delete_document, args=(doc_id,)) for doc_id in gone]
    index_after_batch: list[set[str]] = []

    def on_write(job: Job) -> None:  # the second batch is embedded, not yet committed
        if job.done == 64:
            for deleter in deleters:
                deleter.start()
            for deleter in deleters:
                deleter.join(WAIT)

    service.jobs.on_write = on_write
    service.jobs.on_batch = lambda job: index_after_batch.append(set(service.store.snapshot.entries))
    job = service.jobs.wait(service.submit_documents(bulk_docs(150)).id, WAIT)
    assert job.state == "done" and not any(d.is_alive() for d in deleters)
    # all there when batch 1 committed, all gone when batch 2 committed: the deletes went in during its embedding
    assert [set(gone) & ids for ids in index_after_batch] == [set(gone), set(), set()]
    assert _on_disk(index_copy, embedder) == {d.doc_id for d in bulk_docs(150)} - set(gone)


def test_a_failed_batch_keeps_the_batches_before_it(service: QAService, index_copy: Path, embedder: Embedder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    docs = bulk_docs(150)
    # after the first batch the disk "fills up": the next save fails with ENOSPC
    service.jobs.on_batch = lambda job: monkeypatch.setenv("QA_TEST_FAULTS", "fail=write")
    job = service.jobs.wait(service.submit_documents(docs).id, WAIT)
    ids = [d.doc_id for d in docs]
    assert (job.state, job.done, job.added, job.skipped) == ("failed", 64, ids[:64], ids[64:])
    assert job.error == (f"documents 65-128 of 150 were not indexed: no space left on the disk holding {index_copy}; "
                         "the write was not applied (free some space and send it again); the 64 before them are")
    monkeypatch.delenv("QA_TEST_FAULTS")
    assert set(service.store.snapshot.entries) == _on_disk(index_copy, embedder) == SEED_IDS | set(ids[:64])


def test_queued_jobs_cancel_at_once_and_the_queue_is_bounded(service: QAService) -> None:
    release = threading.Event()
    service.jobs.on_batch = lambda job: release.wait(WAIT)  # holds the worker after the running job's batch
    running = service.submit_documents(bulk_docs(1))
    queued = [service.submit_documents([Document(f"q{i}", "Q", f"Queued article number {i}.")]) for i in range(7)]
    with pytest.raises(JobQueueFullError) as exc:
        service.submit_documents(bulk_docs(1))
    assert str(exc.value) == ("8 indexing jobs are queued or running, the most the server keeps; send the upload "
                              "again when one has finished (GET /jobs)")
    cancelled = service.jobs.cancel(queued[0].id)
    assert (cancelled.state, cancelled.done, cancelled.skipped, cancelled.cancel_requested) == (
        "cancelled", 0, ["q0"], True)
    assert cancelled.finished is not None
    release.set()
    assert [service.jobs.wait(j.id, WAIT).state for j in [running, *queued]] == ["done"] + ["cancelled"] + ["done"] * 6
    assert "q0" not in service.store.snapshot.entries and "q1" in service.store.snapshot.entries
    assert [j.id for j in service.jobs.recent()] == [j.id for j in reversed([running, *queued])]


def test_unknown_jobs_and_bad_uploads_are_refused_before_any_job(service: QAService) -> None:
    with pytest.raises(JobNotFoundError) as exc:
        service.jobs.get("job_nope")
    assert str(exc.value) == ("no job with id 'job_nope'; GET /jobs lists the recent ones (the latest 100 finished "
                              "jobs are kept)")
    docs = bulk_docs(100)
    cases: list[tuple[list[Document], type[Exception], str]] = [
        ([*docs, Document("huge", "Huge", "x" * 200_001)], TooLargeError,
         "document 'huge' is 200,001 characters, over the 200,000-character limit (QA_MAX_DOCUMENT_CHARS)"),
        ([*docs, Document("bad", "Bad \udfff", "The ferry leaves at noon.")], InvalidInputError,
         "document 'bad': title holds an invalid character ('\\udfff' at position 4, a lone surrogate); send valid "
         "Unicode text"),
        ([*docs, docs[3]], InvalidInputError,
         "document id 'bulk_003' occurs twice in the upload; give each record its own id"),
    ]
    for upload, error, message in cases:
        with pytest.raises(error) as refused:
            service.submit_documents(upload)
        assert str(refused.value) == message
    assert service.jobs.recent() == []
    assert set(service.store.snapshot.entries) == SEED_IDS


def test_a_stopped_job_resumes_from_the_journal_after_its_last_batch(index_copy: Path, embedder: Embedder) -> None:
    """The writer journals jobs in INDEX_DIR/jobs: a server stopped after the first batch of three leaves the job
    queued there, and the next writer resumes it at document 65 (kills: tests/reliability/test_job_durability.py)."""
    settings = Settings(index_dir=index_copy, seeds_dir=SEEDS)
    service = QAService(IndexStore.open(index_copy, embedder, writer=True), settings)
    stopped_after_first = threading.Event()

    def stop(job: Job) -> None:  # as a shutdown would, right after the first batch
        service.jobs.stop()
        stopped_after_first.set()

    service.jobs.on_batch = stop
    docs = bulk_docs(150)
    job_id = service.submit_documents(docs).id
    assert stopped_after_first.wait(WAIT)
    service.jobs.close(WAIT)
    stopped = service.jobs.get(job_id)
    assert (stopped.state, stopped.done, stopped.added) == ("running", 64, [d.doc_id for d in docs[:64]])
    service.store.close()
    assert sorted(p.name for p in (index_copy / "jobs").iterdir()) == [f"{job_id}.docs.jsonl", f"{job_id}.json"]

    service = QAService(IndexStore.open(index_copy, embedder, writer=True), settings)
    batches: list[int] = []
    service.jobs.on_batch = lambda job: batches.append(job.done)
    assert [j.id for j in service.jobs.resume()] == [job_id]
    job = service.jobs.wait(job_id, WAIT)
    service.jobs.close(WAIT)
    service.store.close()
    assert batches == [128, 150]  # the two batches left, nothing written twice
    assert (job.state, job.done, job.added, job.unchanged) == ("done", 150, [d.doc_id for d in docs], [])
    assert _on_disk(index_copy, embedder) == SEED_IDS | {d.doc_id for d in docs}
    assert sorted(p.name for p in (index_copy / "jobs").iterdir()) == [f"{job_id}.json"]  # the upload is dropped
    again = QAService(IndexStore.open(index_copy, embedder), settings)  # a reader keeps no journal ...
    assert again.jobs.resume() == []
    reopened = QAService(IndexStore.open(index_copy, embedder, writer=True), settings)
    reopened.jobs.resume()  # ... the writer lists the finished job again
    assert reopened.jobs.get(job_id) == job
    reopened.store.close()
