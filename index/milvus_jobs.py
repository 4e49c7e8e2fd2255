"""Background job records in Milvus (the ``{prefix}_jobs`` collection), so every API replica reads every job.

The same journal ``index.jobs.JobManager`` keeps on disk for the embedded backend (``index.job_journal``), with what
replicas sharing it need besides: reads of any replica's jobs, a cancel request another replica can make, and a
liveness lease. Rows of one collection, told apart by ``kind``:

- ``record``: a job's record as GET /jobs/{id} shows it, as JSON in parts of ``PART_CHARS`` characters under a
  revision number; the newest revision with all its parts is the record (so a reader never sees a half-written one),
  and older revisions are deleted after each write.
- ``docs``: the ids of the upload, in order (what a job that cannot finish names as ``skipped``).
- ``cancel``: a cancel request made through another replica; the replica running the job reads it before each batch.
- ``beat``: each replica running jobs upserts its heartbeat every ``HEARTBEAT_S`` seconds. An unfinished job whose
  replica has not beaten for ``LEASE_S`` seconds (killed, or cut off from Milvus) is finished as ``failed`` by the
  first replica that reads it: its committed batches stay, the rest are named as skipped, to be sent again (or as
  ``cancelled``, when a cancel had been requested).

Uploads are not stored here, so a job is not resumed by another replica (see docs/scale-out.md). A replica stopped
normally cancels its jobs after the batch they are writing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from index.documents import Document
from index.errors import StorageError
from index.milvus_schema import dummy_vector, quote

log = logging.getLogger(__name__)

PART_CHARS = 16_000  # at most 4 UTF-8 bytes each: under a VARCHAR's 65,535 bytes
HEARTBEAT_S = 2.0
LEASE_S = 15.0  # replicas' clocks must agree to well within this (NTP)
MAX_JOB_ID = 64
KEEP_FINISHED = 100
FINISHED = ("done", "failed", "cancelled")


def lost_replica_error(done: int, total: int) -> str:
    return (f"the replica running this job stopped before finishing it (killed, or cut off from Milvus for over "
            f"{LEASE_S:.0f} s) after {done} of {total} documents: those are indexed, the skipped ones are not "
            "(except perhaps the batch it was writing); send the skipped ones again (any already indexed are "
            "reported unchanged)")


class MilvusJobJournal:
    """Job records every replica sharing the collections reads; each write is acknowledged by Milvus on return."""

    shared = True  # records of other replicas' jobs are read from here
    resumable = False  # uploads are not kept: a stopped replica cancels its jobs, a killed one's fail (above)

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.owner = f"replica_{uuid.uuid4().hex[:16]}"
        self.clock = clock
        self._revs: dict[str, int] = {}
        self._beating = threading.Event()
        self._stop = threading.Event()

    # ---- the journal JobManager writes through ------------------------------------------------------------
    def accept(self, record: dict, docs: Sequence[Document]) -> None:
        """The upload's ids, then the record (so a record never lacks them); the heartbeat starts with the first job."""
        self._start_heartbeat()
        self._write(record["id"], "docs", 0, json.dumps([d.doc_id for d in docs], ensure_ascii=False), record)
        self.save(record)

    def save(self, record: dict) -> None:
        rev = self._revs.get(record["id"], 0) + 1
        self._revs[record["id"]] = rev
        self._write(record["id"], "record", rev, json.dumps(record, ensure_ascii=False), record)

    def finish(self, record: dict) -> None:
        self.save(record)
        self._delete(f'job_id == {quote(record["id"])} and kind in ["docs", "cancel"]')
        self._revs.pop(record["id"], None)

    def forget(self, job_id: str) -> None:
        self._delete(f"job_id == {quote(job_id)}")

    def load(self) -> list[tuple[dict, list[Document] | None]]:
        return []  # nothing to resume: this replica's jobs were in its memory, and the uploads are not stored

    # ---- what replicas sharing it need --------------------------------------------------------------------
    def read(self, job_id: str) -> dict | None:
        """The job's record (with a cancel request made through any replica), or None; a record whose replica is
        gone is finished as failed first."""
        if len(job_id) > MAX_JOB_ID:
            return None
        rows = self._query(f'job_id == {quote(job_id)} and kind in ["record", "cancel"]')
        records = self._records(rows)
        if job_id not in records:
            return None
        return self._settle([records[job_id]], rows)[0]

    def records(self) -> list[dict]:
        """Every job's record, newest first (finished ones beyond the latest ``KEEP_FINISHED`` are deleted)."""
        rows = self._query('kind in ["record", "cancel"]')
        records = sorted(self._records(rows).values(), key=lambda r: str(r["created"]), reverse=True)
        finished = [r for r in records if r["state"] in FINISHED]
        for old in finished[KEEP_FINISHED:]:
            self.forget(old["id"])
        gone = {r["id"] for r in finished[KEEP_FINISHED:]}
        return self._settle([r for r in records if r["id"] not in gone], rows)

    def request_cancel(self, job_id: str) -> None:
        self._upsert([{"pk": f"{job_id}:cancel", "job_id": job_id, "kind": "cancel", "rev": 0, "part": 0,
                       "parts": 1, "owner": self.owner, "beat": self.clock(), "created": "", "text": "",
                       "v": dummy_vector()}])

    def interrupted(self, job_id: str) -> str | None:
        """What the replica running ``job_id`` must act on before its next batch: "cancel" (requested through any
        replica), "finished" (another replica finished its record: this one was taken for gone), or None."""
        rows = self._query(f'job_id == {quote(job_id)} and kind in ["record", "cancel"]')
        if any(r["kind"] == "cancel" for r in rows):
            return "cancel"
        record = self._records(rows).get(job_id)
        return "finished" if record is not None and record["state"] in FINISHED else None

    def close(self) -> None:
        self._stop.set()

    # ---- rows ---------------------------------------------------------------------------------------------
    def _settle(self, records: list[dict], rows: list[dict]) -> list[dict]:
        """Records with their cancel requests; unfinished ones of replicas without a recent heartbeat, failed."""
        cancels = {r["job_id"] for r in rows if r["kind"] == "cancel"}
        open_ = [r for r in records if r["state"] not in FINISHED]
        beats: dict[str, float] = {}
        if open_:
            owners = sorted({r["_owner"] for r in open_})
            expr = f'kind == "beat" and owner in [{", ".join(quote(o) for o in owners)}]'
            beats = {b["owner"]: b["beat"] for b in self._query(expr, ["owner", "beat"])}
        now = self.clock()
        out = []
        for record in records:
            owner, rev = record.pop("_owner"), record.pop("_rev")
            if record["id"] in cancels:
                record["cancel_requested"] = True
            if record["state"] not in FINISHED and now - beats.get(owner, 0.0) > LEASE_S:
                record = self._end_lost(record, rev)
            out.append(record)
        return out

    def _end_lost(self, record: dict, rev: int) -> dict:
        """Finish the record of a job whose replica is gone: failed, or cancelled when that was requested."""
        ids = self._query(f'job_id == {quote(record["id"])} and kind == "docs"', ["part", "parts", "text"])
        upload = json.loads("".join(r["text"] for r in sorted(ids, key=lambda r: r["part"]))) if ids else []
        cancelled = record["cancel_requested"]
        ended = {**record, "state": "cancelled" if cancelled else "failed", "finished": datetime.now(UTC).isoformat(),
                 "skipped": upload[record["done"]:],
                 "error": None if cancelled else lost_replica_error(record["done"], record["total"])}
        # the same revision number whichever replica gets here first: a second one rewrites the same rows
        self._write(record["id"], "record", rev + 1, json.dumps(ended, ensure_ascii=False), record)
        self._delete(f'job_id == {quote(record["id"])} and kind in ["docs", "cancel"]')
        log.warning("job %s: its replica stopped; %s after %d of %d documents", record["id"], ended["state"],
                    record["done"], record["total"])
        return ended

    def _records(self, rows: list[dict]) -> dict[str, dict]:
        """Per job, its newest revision that has all its parts, parsed (with ``_owner`` and ``_rev``)."""
        revs: dict[tuple[str, int], list[dict]] = {}
        for row in rows:
            if row["kind"] == "record":
                revs.setdefault((row["job_id"], row["rev"]), []).append(row)
        out: dict[str, dict] = {}
        for (job_id, rev), parts in sorted(revs.items(), key=lambda item: item[0][1]):
            if len(parts) == parts[0]["parts"]:
                record = json.loads("".join(p["text"] for p in sorted(parts, key=lambda p: p["part"])))
                out[job_id] = {**record, "_owner": parts[0]["owner"], "_rev": rev}
        return out

    def _write(self, job_id: str, kind: str, rev: int, text: str, record: dict) -> None:
        """The parts of ``text`` under ``rev``, then the deletion of the job's other revisions of ``kind``."""
        chunks = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        self._upsert([{"pk": f"{job_id}:{kind}:{rev}:{n}", "job_id": job_id, "kind": kind, "rev": rev, "part": n,
                       "parts": len(chunks), "owner": self.owner, "beat": 0.0, "created": str(record["created"]),
                       "text": chunk, "v": dummy_vector()} for n, chunk in enumerate(chunks)])
        self._delete(f"job_id == {quote(job_id)} and kind == {quote(kind)} and rev != {rev}")

    def _start_heartbeat(self) -> None:
        if self._beating.is_set():
            return
        self._beating.set()
        self._beat()  # before the first job is accepted, so no reader takes it for lost
        threading.Thread(target=self._heartbeat, name="qa-jobs-heartbeat", daemon=True).start()

    def _beat(self) -> None:
        self._upsert([{"pk": f"beat:{self.owner}", "job_id": "", "kind": "beat", "rev": 0, "part": 0, "parts": 1,
                       "owner": self.owner, "beat": self.clock(), "created": "", "text": "", "v": dummy_vector()}])

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._beat()
            except Exception as exc:  # the engine is unreachable: readers will take this replica's jobs for lost
                if self._stop.is_set():
                    return
                log.warning("job heartbeat to Milvus failed (%s)", exc)

    def _query(self, expr: str, fields: Sequence[str] = ("job_id", "kind", "rev", "part", "parts", "owner", "text")
               ) -> list[dict]:
        return self.store.query("jobs", expr, list(fields))

    def _upsert(self, rows: list[dict]) -> None:
        try:
            self.store.client.upsert(self.store.name("jobs"), rows)
        except Exception as exc:
            raise StorageError(f"writing a job record to Milvus at {self.store.uri} failed ({exc})") from None

    def _delete(self, expr: str) -> None:
        try:
            self.store.client.delete(self.store.name("jobs"), filter=expr)
        except Exception as exc:
            raise StorageError(f"deleting job records from Milvus at {self.store.uri} failed ({exc})") from None
