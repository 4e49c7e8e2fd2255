"""Background job records in Milvus (the ``{prefix}_jobs`` collection), so every API replica reads every job.

The same journal ``index.jobs.JobManager`` keeps on disk for the embedded backend (``index.job_journal``), with what
replicas sharing it need besides: reads of any replica's jobs, a cancel request another replica can make, and a
liveness lease. Rows of one collection, told apart by ``kind``:

- ``record``: a job's record as GET /jobs/{id} shows it, as JSON in parts of ``PART_CHARS`` characters under a
  revision number; the newest revision with all its parts is the record (so a reader never sees a half-written one),
  and older revisions are deleted after each write.
- ``docs``: the upload (one stored document a line, as the embedded journal keeps it), until the job finishes.
- ``cancel``: a cancel request made through another replica; the replica running the job reads it before each batch.
- ``beat``: every serving replica upserts its heartbeat every ``HEARTBEAT_S`` seconds (the ``beat`` field; on
  record rows it is when the job finished, 0 while it runs, so finding unfinished jobs reads no record text).

An unfinished job whose replica has not beaten for ``LEASE_S`` seconds (killed, stopped, or cut off from Milvus) is
taken over by one live replica, the one with the smallest id (so two do not both take it): it rewrites the record
as its own and resumes the job after its last recorded batch, from the stored upload (the batch the lost replica was
writing is written again: the same rows, its documents reported unchanged). A job whose cancel had been requested is
finished as ``cancelled`` instead, and one whose upload cannot be read back as ``failed``. A replica that was only
cut off and comes back finds its job taken and stops before its next batch.
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


def lost_upload_error(done: int, total: int) -> str:
    return (f"the replica running this job stopped (killed, or cut off from Milvus for over {LEASE_S:.0f} s) after "
            f"{done} of {total} documents, and its upload could not be read back to resume it: those {done} are "
            "indexed; send the upload again (the documents already indexed are reported unchanged)")


class MilvusJobJournal:
    """Job records every replica sharing the collections reads; each write is acknowledged by Milvus on return."""

    shared = True  # records of other replicas' jobs are read from here
    resumable = True  # uploads are kept: a stopped or killed replica's jobs are resumed by another (above)

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.owner = f"replica_{uuid.uuid4().hex[:16]}"
        self.clock = clock
        self._revs: dict[str, int] = {}
        self._beating = threading.Event()
        self._stop = threading.Event()
        self._adopt: Callable[[dict, list[Document]], None] | None = None

    # ---- the journal JobManager writes through ------------------------------------------------------------
    def accept(self, record: dict, docs: Sequence[Document]) -> None:
        """The upload, then the record (so a record never lacks it); the heartbeat starts with the first job."""
        self._start_heartbeat()
        lines = [json.dumps({**d.metadata(), "text": d.text}, ensure_ascii=False) for d in docs]
        self._write(record["id"], "docs", 0, "\n".join(lines), record)
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
        """Start beating, and take over the jobs of replicas that are gone (``sweep``), to resume them here."""
        self._start_heartbeat()
        return list(self.sweep())

    def watch(self, adopt: Callable[[dict, list[Document]], None]) -> None:
        """From now on, every heartbeat also takes over the jobs of replicas that are gone and hands each to
        ``adopt`` (record, upload)."""
        self._adopt = adopt

    def sweep(self) -> list[tuple[dict, list[Document] | None]]:
        """Take over the unfinished jobs of replicas without a recent heartbeat, when this replica is the live one
        with the smallest id: their records rewritten as this replica's, with their uploads (a job whose cancel was
        requested, or whose upload cannot be read, is finished instead, and not returned)."""
        # a light query first (no text): the rows of unfinished records, and who wrote them
        open_rows = self._query('kind == "record" and beat == 0', ["job_id", "owner"])
        if not open_rows:
            return []
        now = self.clock()
        live = {b["owner"] for b in self._query('kind == "beat"', ["owner", "beat"]) if now - b["beat"] <= LEASE_S}
        if min(live | {self.owner}) != self.owner:
            return []  # another live replica takes them
        lost = sorted({r["job_id"] for r in open_rows if r["owner"] not in live and r["owner"] != self.owner})
        if not lost:
            return []
        rows = self._query(f'job_id in [{", ".join(quote(j) for j in lost)}] and kind in ["record", "cancel"]')
        orphans = sorted((r for r in self._records(rows).values() if r["state"] not in FINISHED),
                         key=lambda r: str(r["created"]))
        cancels = {r["job_id"] for r in rows if r["kind"] == "cancel"}
        taken: list[tuple[dict, list[Document] | None]] = []
        for record in orphans:
            owner, rev = record.pop("_owner"), record.pop("_rev")
            if owner in live or owner == self.owner:
                continue
            record["cancel_requested"] = record["cancel_requested"] or record["id"] in cancels
            docs = None if record["cancel_requested"] else self._upload(record["id"], record["total"])
            if docs is None:
                self._end_lost(record, rev)
                continue
            self._revs[record["id"]] = rev
            self.save(record)  # now this replica's
            log.warning("job %s: its replica %s is gone; resuming it here after document %d of %d", record["id"],
                        owner, record["done"], record["total"])
            taken.append((record, docs))
        return taken

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
        replica), "taken" (another replica took it over, or finished it, taking this one for gone), or None."""
        rows = self._query(f'job_id == {quote(job_id)} and kind in ["record", "cancel"]')
        record = self._records(rows).get(job_id)
        if record is not None and (record["_owner"] != self.owner or record["state"] in FINISHED):
            return "taken"
        return "cancel" if any(r["kind"] == "cancel" for r in rows) else None

    def close(self) -> None:
        self._stop.set()

    # ---- rows ---------------------------------------------------------------------------------------------
    def _settle(self, records: list[dict], rows: list[dict]) -> list[dict]:
        """Records as GET /jobs shows them: with the cancel requests made through any replica."""
        cancels = {r["job_id"] for r in rows if r["kind"] == "cancel"}
        out = []
        for record in records:
            record.pop("_owner"), record.pop("_rev")
            if record["id"] in cancels and record["state"] not in FINISHED:
                record["cancel_requested"] = True
            out.append(record)
        return out

    def _upload(self, job_id: str, total: int) -> list[Document] | None:
        """The job's stored upload, or None when it cannot be read back whole."""
        parts = self._query(f'job_id == {quote(job_id)} and kind == "docs"', ["part", "parts", "text"])
        if not parts or len(parts) != parts[0]["parts"]:
            return None
        text = "".join(p["text"] for p in sorted(parts, key=lambda p: p["part"]))
        try:
            docs = [Document.from_stored(json.loads(line)) for line in text.split("\n") if line]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("job %s: its stored upload is unreadable (%s)", job_id, exc)
            return None
        return docs if len(docs) == total else None

    def _end_lost(self, record: dict, rev: int) -> dict:
        """Finish the record of a job whose replica is gone and that is not resumed: cancelled when that was
        requested (the documents after ``done`` skipped), else failed (its upload could not be read back)."""
        cancelled = record["cancel_requested"]
        docs = self._upload(record["id"], record["total"]) if cancelled else None
        ended = {**record, "state": "cancelled" if cancelled else "failed", "finished": datetime.now(UTC).isoformat(),
                 "skipped": [d.doc_id for d in (docs or [])[record["done"]:]],
                 "error": None if cancelled else lost_upload_error(record["done"], record["total"])}
        # the same revision number whichever replica gets here first: a second one rewrites the same rows
        self._write(record["id"], "record", rev + 1, json.dumps(ended, ensure_ascii=False), ended)
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
        """The parts of ``text`` under ``rev``, then the deletion of the job's other revisions of ``kind``. The
        ``beat`` of a finished job's record rows is when it finished (0 while unfinished: what ``sweep`` looks for)."""
        chunks = [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        ended = self.clock() if kind == "record" and record["state"] in FINISHED else 0.0
        self._upsert([{"pk": f"{job_id}:{kind}:{rev}:{n}", "job_id": job_id, "kind": kind, "rev": rev, "part": n,
                       "parts": len(chunks), "owner": self.owner, "beat": ended, "created": str(record["created"]),
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
                adopt = self._adopt
                if adopt is not None:
                    for record, docs in self.sweep():
                        adopt(record, docs)  # type: ignore[arg-type]
            except Exception as exc:  # the engine is unreachable: other replicas will take this one's jobs over
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
