"""Generations and compaction: fold the write-ahead log into a new base without stopping readers or writers.

A compaction takes the current snapshot (a moment under the write lock), builds and writes the new base from it with
no lock held, then, briefly under the write lock, copies the log records appended since into the new generation's
log, fsyncs, switches ``CURRENT`` (the commit point) and removes the old generation. A crash at any point leaves the
last acknowledged state: before the switch ``CURRENT`` still names the old generation with its whole log.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from index import wal
from index.errors import QAError
from index.generation import LOG_FILE, base_bytes, fsync_dir, write_atomic, write_base
from index.lock import before_release
from index.snapshot import IndexSnapshot
from index.wal import WriteAheadLog

if TYPE_CHECKING:
    from index.store import IndexStore

log = logging.getLogger(__name__)

COMPACT_RATIO = 0.25  # compact when the log reaches this share of the base's bytes ...
COMPACT_MIN_BYTES = 4 << 20  # ... and at least this many bytes (small indexes would otherwise compact constantly)
DEAD_ROWS_SHARE = 0.25  # or when this share of the in-memory sentence rows belongs to removed documents ...
DEAD_ROWS_MIN = 50_000  # ... and they are at least this many


class Compactor:
    """Decides when to compact one store and runs compactions, in a background thread or in the caller's."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        # Crash tests set QA_TEST_COMPACT_AT_BYTES to compact once the log holds that much, whatever the base's size.
        forced = os.environ.get("QA_TEST_COMPACT_AT_BYTES")
        self.at_bytes = int(forced) if forced else None
        self.tail: list[tuple[bytes, wal.Change]] | None = None  # records appended since a compaction's snapshot
        self.thread: threading.Thread | None = None
        self._retry_at = 0  # after a failed compaction, wait until the log has doubled
        self._one_at_a_time = threading.Lock()  # a direct compact() and a background one never interleave

    def after_write(self, frame: bytes, change: wal.Change) -> None:
        """Called under the write lock after each acknowledged write."""
        if self.tail is not None:
            self.tail.append((frame, change))
        if (self.thread is None or not self.thread.is_alive()) and self._due():
            before_release(self.store.index_dir, self.wait)  # the writer lock is released only after it ends
            self.thread = threading.Thread(target=self._background, name="index-compaction")
            self.thread.start()

    def _due(self) -> bool:
        store = self.store
        assert store.log is not None and store.generation is not None
        size, snap = store.log.size, store.snapshot
        due_at = self.at_bytes if self.at_bytes is not None else max(COMPACT_MIN_BYTES, COMPACT_RATIO *
                                                                    base_bytes(store.generation))
        if size >= max(due_at, self._retry_at):
            return True
        dead = snap.next_id - snap.n_sentences
        return dead >= DEAD_ROWS_MIN and dead >= DEAD_ROWS_SHARE * snap.next_id

    def _background(self) -> None:
        try:
            self.run()
        except Exception as exc:  # the log still holds every write; the next trigger tries again
            assert self.store.log is not None
            self._retry_at = 2 * self.store.log.size
            log.warning("compacting index %s failed (%s); writes go on to its log", self.store.index_dir, exc)

    def wait(self) -> None:
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def run(self) -> Path:
        """Compact now in this thread; returns the new generation."""
        with self._one_at_a_time:
            return self._run()

    def _run(self) -> Path:
        store = self.store
        with store._write_lock:
            snap = store.snapshot
            self.tail = []
        try:
            new = IndexSnapshot.build(snap.entries, store.embedder.dim)  # rows renumbered, removed ones dropped
            tmp, final = prepare(store, new)
            with store._write_lock:
                assert self.tail is not None
                for _, change in self.tail:
                    new = new.apply(change.added, change.removed)
                frames = b"".join(frame for frame, _ in self.tail)
                if frames:
                    _write_log(tmp / LOG_FILE, frames)
                publish(store, tmp, final)
                store.generation, store.log, store.snapshot = final, WriteAheadLog(final / LOG_FILE, len(frames)), new
                return final
        finally:
            self.tail = None


def prepare(store: IndexStore, snap: IndexSnapshot) -> tuple[Path, Path]:
    """Write ``snap`` as the base of the next generation into ``gen-N.tmp``, fsynced; returns it and its final
    name. On failure removes what was written and raises (``StorageFullError`` for a full disk)."""
    from index.store import _inject_fault, _pause_for_tests, _save_error, remove_leftovers

    index_dir = store.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(index_dir)
    gens = [p.name for p in index_dir.glob("gen-*")]
    number = max((int(g[4:10]) for g in gens if g[4:10].isdigit()), default=0) + 1
    tmp, final = index_dir / f"gen-{number:06d}.tmp", index_dir / f"gen-{number:06d}"
    try:
        tmp.mkdir()
        write_base(tmp, snap, store.manifest(snap))
        _inject_fault("write")
        fsync_dir(tmp)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, QAError):
            raise _save_error(exc, index_dir) from exc
        raise
    _pause_for_tests("save")
    return tmp, final


def publish(store: IndexStore, tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``, switch ``CURRENT`` to it (the commit point) and drop older generations."""
    from index.store import _pause_for_tests, _save_error

    index_dir = store.index_dir
    try:
        os.rename(tmp, final)
        _pause_for_tests("switch")
        write_atomic(index_dir / "CURRENT", final.name + "\n")
        fsync_dir(index_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if store._current_name() != final.name:  # renamed but never published
            shutil.rmtree(final, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, QAError):
            raise _save_error(exc, index_dir) from exc
        raise
    for old in index_dir.glob("gen-*"):
        if old.name != final.name:
            shutil.rmtree(old, ignore_errors=True)


def _write_log(path: Path, frames: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(frames)
        fh.flush()
        os.fsync(fh.fileno())
