"""Compaction: fold the write-ahead log into a new base without stopping readers or writers.

A compaction takes the current snapshot and its write number (a moment under the write lock), builds and writes the
new base from it with no lock held, then, briefly under the write lock, copies the log records appended since into
the new generation's log, fsyncs it with its folder, switches ``CURRENT`` (the commit point) and deletes the
generations it provably holds. A crash at any point leaves the last acknowledged state: before the switch
``CURRENT`` still names the old generation with its whole log.

The compactor sees its store through a narrow interface: the store's write lock, ``head()`` (what is published now)
and ``swap(head)`` (publish a new one), plus the manifest to write; it knows nothing else of the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index import faults, wal
from index.generation import base_bytes, prepare, publish, seal
from index.snapshot import IndexSnapshot
from index.wal import WriteAheadLog

log = logging.getLogger(__name__)

COMPACT_RATIO = 0.25  # compact when the log reaches this share of the base's bytes ...
COMPACT_MIN_BYTES = 4 << 20  # ... and at least this many bytes (small indexes would otherwise compact constantly)
DEAD_ROWS_SHARE = 0.25  # or when this share of the in-memory sentence rows belongs to removed documents ...
DEAD_ROWS_MIN = 50_000  # ... and they are at least this many


@dataclass(frozen=True)
class Head:
    """What readers see and the next write starts from: the snapshot, the number of the last write it holds, and
    the published generation with its log (None until the first write of a new or rebuilt index)."""

    snapshot: IndexSnapshot
    seq: int = 0
    generation: Path | None = None
    log: WriteAheadLog | None = None


Manifest = Callable[[IndexSnapshot, int], dict]  # the manifest of a base holding ``snapshot`` up to write ``seq``


def write_generation(index_dir: Path, snap: IndexSnapshot, seq: int, manifest: Manifest) -> Head:
    """Write and publish ``snap`` (holding writes up to ``seq``) as a new generation with an empty log."""
    tmp = prepare(index_dir, snap, manifest(snap, seq))
    seal(tmp, b"", seq)
    final = publish(index_dir, tmp)
    return Head(snap, seq, final, WriteAheadLog(final, 0, seq))


class Compactor:
    """Decides when to compact one store and runs compactions, in a background thread or in the caller's."""

    def __init__(self, index_dir: Path, lock: threading.RLock, head: Callable[[], Head],
                 swap: Callable[[Head], None], manifest: Manifest) -> None:
        self.index_dir = index_dir
        self._lock, self._head, self._swap, self._manifest = lock, head, swap, manifest
        self.tail: list[tuple[bytes, wal.Change]] | None = None  # records appended since a compaction's snapshot
        self.thread: threading.Thread | None = None
        self._retry_at = 0  # after a failed compaction, wait until the log has doubled
        self._one_at_a_time = threading.Lock()  # a direct compact() and a background one never interleave

    def after_write(self, frame: bytes, change: wal.Change) -> None:
        """Called under the write lock after each acknowledged write."""
        if self.tail is not None:
            self.tail.append((frame, change))
        if (self.thread is None or not self.thread.is_alive()) and self._due():
            self.thread = threading.Thread(target=self._background, name="index-compaction")
            self.thread.start()

    def _due(self) -> bool:
        head = self._head()
        assert head.log is not None and head.generation is not None
        size, snap = head.log.size, head.snapshot
        forced = faults.compact_at_bytes()
        due_at = forced if forced is not None else max(COMPACT_MIN_BYTES, COMPACT_RATIO * base_bytes(head.generation))
        if size >= max(due_at, self._retry_at):
            return True
        dead = snap.next_id - snap.n_sentences
        return dead >= DEAD_ROWS_MIN and dead >= DEAD_ROWS_SHARE * snap.next_id

    def _background(self) -> None:
        try:
            self.run()
        except Exception as exc:  # the log still holds every write; the next trigger tries again
            head = self._head()
            self._retry_at = 2 * (head.log.size if head.log else 0)
            log.warning("compacting index %s failed (%s); writes go on to its log", self.index_dir, exc)

    def wait(self) -> None:
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def run(self) -> Path:
        """Compact now in this thread; returns the new generation."""
        with self._one_at_a_time:
            return self._run()

    def _run(self) -> Path:
        with self._lock:
            head = self._head()
            self.tail = []
        try:
            new = IndexSnapshot.build(head.snapshot.entries, head.snapshot.dim)  # rows renumbered, removed dropped
            tmp = prepare(self.index_dir, new, self._manifest(new, head.seq))
            with self._lock:
                assert self.tail is not None
                for _, change in self.tail:
                    new = new.apply(change.added, change.removed)
                frames = b"".join(frame for frame, _ in self.tail)
                seq = self._head().seq
                seal(tmp, frames, seq)
                final = publish(self.index_dir, tmp)
                self._swap(Head(new, seq, final, WriteAheadLog(final, len(frames), seq)))
                return final
        finally:
            self.tail = None
