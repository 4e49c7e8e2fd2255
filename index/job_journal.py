"""The durable journal of background indexing jobs: each accepted upload and its progress, in the index folder.

``INDEX_DIR/jobs/{id}.docs.jsonl`` holds the upload (one stored document a line) and ``{id}.json`` the job's
record as GET /jobs/{id} shows it. Both are fsynced, with the folder, before POST /documents answers 202; the
record is replaced atomically after each committed batch and when the job finishes (the upload is then deleted).
A server that restarts, or was killed, loads the records and resumes every unfinished job after its last journaled
batch. Only the writer of the index (the process holding its lock) keeps a journal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from index.documents import Document
from index.durable import fsync_dir, write_atomic
from index.generation import storage_error

log = logging.getLogger(__name__)


class JobJournal:
    """Job records and uploads in one folder; every change is on disk before the call returns."""

    shared = False  # one process (the index's writer) reads and writes it
    resumable = True  # the uploads are kept: unfinished jobs resume at the next start

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def accept(self, record: dict, docs: Sequence[Document]) -> None:
        """Journal a new job: its upload, then its record (so a record never lacks its upload). A failure (a full
        disk: ``StorageFullError``) leaves nothing behind, and the job is not accepted."""
        lines = [json.dumps({**d.metadata(), "text": d.text}, ensure_ascii=False) for d in docs]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self._docs(record["id"]), "\n".join(lines) + "\n")
            self.save(record)
        except OSError as exc:
            self.forget(record["id"])
            raise storage_error(exc, self.folder) from exc

    def save(self, record: dict) -> None:
        """Replace the job's record (atomically, fsynced with its folder)."""
        write_atomic(self.folder / f"{record['id']}.json", json.dumps(record, ensure_ascii=False))
        fsync_dir(self.folder)

    def finish(self, record: dict) -> None:
        """Journal the finished record and drop the upload it no longer needs."""
        self.save(record)
        self._docs(record["id"]).unlink(missing_ok=True)

    def forget(self, job_id: str) -> None:
        (self.folder / f"{job_id}.json").unlink(missing_ok=True)
        self._docs(job_id).unlink(missing_ok=True)

    def load(self) -> list[tuple[dict, list[Document] | None]]:
        """Every journaled record, oldest first, with the upload of each unfinished one (None once finished). A
        record that cannot be read is logged and skipped, never fatal: the index itself is not affected."""
        out: list[tuple[dict, list[Document] | None]] = []
        if not self.folder.is_dir():
            return out
        for path in self.folder.glob("*.json"):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                docs_path = self._docs(record["id"])
                docs = None
                if docs_path.exists():
                    docs = [Document.from_stored(json.loads(line))
                            for line in docs_path.read_text(encoding="utf-8").splitlines() if line]
                out.append((record, docs))
            except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
                log.warning("job journal %s is unreadable (%s); that job is not resumed", path, exc)
        return sorted(out, key=lambda item: str(item[0].get("created", "")))

    def _docs(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.docs.jsonl"
