"""The index on disk: a compacted base generation plus a write-ahead log; incremental, crash-safe updates."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index import faults, wal
from index.chunking import ChunkParams, layout_digest, split_today
from index.compaction import Compactor, Head, write_generation
from index.documents import Document, check_storable, content_hash
from index.durable import fsync_dir, write_atomic
from index.embedder import Embedder
from index.errors import (
    DocumentNotFoundError,
    IndexMismatchError,
    IndexMissingError,
    QAError,
    StorageError,
)
from index.generation import lineage, remove_leftovers, storage_error
from index.ingest import DetectedEncoding, Skipped
from index.job_journal import JobJournal
from index.lock import WriterLock
from index.recovery import Opened, open_folder
from index.snapshot import DocEntry, IndexSnapshot, spec_of
from index.wal import WriteAheadLog

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # a log beside the base is read by this version; older code would ignore it (STORAGE.md)
EMBED_BATCH_DOCS = 64


@dataclass
class UpdateReport:
    """What an indexing run did, document by document."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    encodings: list[DetectedEncoding] = field(default_factory=list)  # documents whose file was not UTF-8

    @property
    def modified(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class IndexStore:
    """Documents with their sentences, passages and vectors; readers use ``snapshot``, writers ``update``/``remove``.

    On disk: the current generation (a compacted base) plus its write-ahead log; each write appends one record and
    fsyncs it before readers see the change. ``index.compaction`` folds the log into a new base in the background.
    Opened with ``writer=True`` the store holds the folder's writer lock (index/lock.py) until ``close()``, and only
    then does it change anything on disk besides the writes themselves (leftovers, a repaired ``CURRENT``).
    """

    def __init__(self, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.params = params or ChunkParams()
        # What else answers from this index (e.g. {"reader": version}); recorded in the manifest, not checked at load.
        self.stamps: dict[str, str] = {}
        # True when the folder held no index at all when opened (never used): only then may seeds be indexed into it.
        self.fresh = False
        self.finds_duplicates = True  # writes look for copies of indexed articles (qa.service, index/duplicates.py)
        self.lineage: str | None = None  # the generation this index's line of writes began with (index/generation.py)
        self.read_only: str | None = None  # why writes are refused (recovered in memory by a store without the lock)
        self._writer_lock: WriterLock | None = None
        self._write_lock = threading.RLock()
        # Writers embed one at a time, outside the write lock: concurrent encoder calls would share the cores and
        # all finish late, where one at a time each finishes in turn. Deletes never wait for it.
        self._embed_lock = threading.Lock()
        self._head = Head(IndexSnapshot.build({}, embedder.dim))
        self.compactor = Compactor(self.index_dir, self._write_lock, lambda: self._head, self._swap, self._manifest_at)

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._head.snapshot

    @property
    def generation(self) -> Path | None:
        """The published generation this store reads and appends to (None before a new index's first write)."""
        return self._head.generation

    @property
    def log(self) -> WriteAheadLog | None:
        return self._head.log

    @property
    def is_writer(self) -> bool:
        """True while this store holds the folder's writer lock."""
        return self._writer_lock is not None

    def job_journal(self) -> JobJournal | None:
        """The writer journals background jobs beside the index, so they survive a restart or a kill."""
        return JobJournal(self.index_dir / "jobs") if self.is_writer else None

    # ---- opening and closing ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None,
             create: bool = False, writer: bool = False) -> IndexStore:
        """Load the index at ``index_dir``; with ``create`` a missing index starts empty. With ``writer`` take the
        folder's writer lock first (``IndexLockedError`` when another process holds it), remove what a killed
        writer left behind, and repair what recovery found; ``close()`` releases it."""
        store = cls(index_dir, embedder, params)
        if writer:
            store._take_lock()
        try:
            store._open(create)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def rebuild(cls, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None) -> IndexStore:
        """An empty writer store over ``index_dir`` whose first write (or ``save()``) publishes a new index; the
        generations there stay, as a backup and for readers, until that publish deletes them."""
        store = cls(index_dir, embedder, params)
        store._take_lock()
        return store

    def close(self) -> None:
        """Wait for a running compaction (it switches ``CURRENT`` and deletes old generations), then release the
        writer lock if this store holds it. Another process may write only after that."""
        self.compactor.wait()
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._writer_lock = None

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take_lock(self) -> None:
        self._writer_lock = WriterLock(self.index_dir)
        remove_leftovers(self.index_dir)  # a killed or failed writer's unpublished files: only a writer may delete

    def _open(self, create: bool) -> None:
        opened = open_folder(self.index_dir, self.embedder.dim, self._check_manifest)
        if opened is None:
            if not create:
                raise IndexMissingError(f"no index in {self.index_dir}; run `qa index PATH --index-dir "
                                        f"{self.index_dir}` first")
            self.fresh = True
            return
        self.stamps = {k: v for k, v in opened.manifest.items() if k not in _MANIFEST_KEYS and isinstance(v, str)}
        self.lineage = lineage(opened.manifest)
        if opened.recovered is None:
            self._head = Head(opened.snapshot, opened.seq, opened.generation,
                              WriteAheadLog(opened.generation, opened.log_end, opened.seq))
        elif self._writer_lock is None:
            self._head = Head(opened.snapshot, opened.seq)
            self.read_only = (f"index {self.index_dir} was recovered in memory ({opened.recovered}); open it as the "
                              "writer (`qa serve`, `qa index`) to repair it before writing")
            log.warning("%s", self.read_only)
        else:
            self._repair(opened)

    def _repair(self, opened: Opened) -> None:
        """Make the recovered state the published one: point ``CURRENT`` at the generation when its own log held
        every write, else write a new generation holding them all (older ones are deleted once it is published)."""
        if opened.own_log:
            write_atomic(self.index_dir / "CURRENT", opened.generation.name + "\n")
            fsync_dir(self.index_dir)
            self._head = Head(opened.snapshot, opened.seq, opened.generation,
                              WriteAheadLog(opened.generation, opened.log_end, opened.seq))
        else:
            self._head = write_generation(self.index_dir, opened.snapshot, opened.seq, self._manifest_at)
        log.warning("index %s: %s; recovered every acknowledged write (up to write %d) and published %s",
                    self.index_dir, opened.recovered, opened.seq, self._head.generation.name)  # type: ignore[union-attr]

    def manifest(self, snap: IndexSnapshot | None = None) -> dict:
        return {**_manifest(self.embedder, self.params, snap or self.snapshot), **self.stamps}

    def _manifest_at(self, snap: IndexSnapshot, seq: int) -> dict:
        """The manifest of a base holding ``snap``, the writes up to ``seq``."""
        return {**self.manifest(snap), "last_seq": seq, **({"lineage": self.lineage} if self.lineage else {})}

    def _swap(self, head: Head) -> None:
        """Publish ``head`` (callers hold the write lock); a new index's first generation begins its lineage."""
        self._head = head
        if self.lineage is None and head.generation is not None:
            self.lineage = head.generation.name

    def _check_manifest(self, manifest: dict) -> None:
        expected = _manifest(self.embedder, self.params, None)
        for key in ("format_version", "model", "chunking"):
            if manifest.get(key) != expected[key]:
                raise IndexMismatchError(
                    f"the index in {self.index_dir} was built with {key} {manifest.get(key)!r} but this run uses "
                    f"{expected[key]!r}; re-index with `qa index PATH --rebuild --index-dir {self.index_dir}`"
                )

    # ---- updating ------------------------------------------------------------------------------------------
    def update(self, items: Iterable[Document | Skipped], remove_missing_under: Iterable[Path] = (),
               on_progress: Callable[[int], None] | None = None) -> UpdateReport:
        """Add new documents, replace changed ones, drop vanished ones under the given folders; no duplicates.

        Documents are embedded with no lock held; the write lock covers only deciding the change against the
        current snapshot, appending its log record and publishing it. The change is on disk (one fsynced log
        record) before readers see it; if writing fails, memory and disk stay exactly as they were."""
        report = UpdateReport()
        looked = self.snapshot.entries  # what to embed is decided against this; the commit checks again
        latest: dict[str, Document] = {}  # the last document given for each id, in first-seen order
        embedded: dict[str, DocEntry] = {}
        splits: dict[str, str] = {}  # layout digests of the documents given, by content hash: each is split once
        pending: list[Document] = []
        for item in items:
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            check_storable(item)
            if item.encoding is not None:
                report.encodings.append(DetectedEncoding(item.doc_id, item.source or item.doc_id, item.encoding))
            latest[item.doc_id] = item
            if self._kept(looked.get(item.doc_id), item, splits):
                embedded.pop(item.doc_id, None)
                if on_progress:
                    on_progress(1)
                continue
            pending.append(item)
            if len(pending) >= EMBED_BATCH_DOCS:
                embedded.update(self._embed(pending, on_progress))
                pending = []
        embedded.update(self._embed(pending, on_progress))
        roots = [str(Path(p).resolve()) for p in remove_missing_under]
        with self._write_lock:
            current = self.snapshot.entries
            stale = []  # unchanged when looked at, changed by another write since: embedded now (rare)
            for doc_id, doc in latest.items():
                old, entry = current.get(doc_id), embedded.get(doc_id)
                if entry is not None and entry.doc != doc:
                    entry = None  # a later duplicate in the stream replaced the one embedded
                if self._kept(old, doc, splits):
                    report.unchanged.append(doc_id)
                    embedded.pop(doc_id, None)
                    continue
                if entry is None:
                    stale.append(doc)
                (report.changed if old is not None else report.added).append(doc_id)
            embedded.update(self._embed(stale, None))
            kept = {s.path for s in report.skipped if s.path}  # a skipped file's documents stay as they were
            for doc_id, entry in current.items() if roots else ():  # a folder sync checks every document; an add not
                source = entry.doc.source or ""
                if doc_id not in latest and source not in kept and any(_is_under(source, r) for r in roots):
                    report.removed.append(doc_id)
            if report.modified:
                replaced = [d for d in embedded if d in current]
                self._commit(wal.Change(tuple(report.removed + replaced), tuple(embedded.values())))
        return report

    def _kept(self, old: DocEntry | None, doc: Document, splits: dict[str, str]) -> bool:
        """Whether ``old`` stays as it is for ``doc``: the same text, split as today's rules split it (a document
        indexed under earlier rules is embedded again, its text unchanged). ``splits`` keeps the digests computed."""
        if old is None or old.sha256 != (sha := content_hash(doc)):
            return False
        if sha not in splits:  # the title and text decide the split, and the content hash covers both
            splits[sha] = split_today(doc, self.params)[2]
        return layout_digest(old.sentences, old.chunks) == splits[sha]

    def add(self, docs: list[Document]) -> UpdateReport:
        return self.update(docs)

    def stored_documents(self) -> Iterator[Document]:
        """Every document as stored (``qa index --resplit`` gives them back to ``update``)."""
        yield from [e.doc for e in self.snapshot.entries.values()]

    def remove(self, doc_id: str) -> None:
        with self._write_lock:
            if doc_id not in self.snapshot.entries:
                raise DocumentNotFoundError(f"no document with id {doc_id!r}; GET /documents lists the ids")
            self._commit(wal.Change((doc_id,), ()))

    def remove_selected(self, select: Callable[[IndexSnapshot], list[str]], dry_run: bool = False) -> list[str]:
        """Remove the documents ``select`` picks from the current snapshot, in one write with no other write in
        between (so the ids returned are exactly the ids removed); with ``dry_run`` only return them."""
        with self._write_lock:
            ids = list(dict.fromkeys(select(self.snapshot)))
            if ids and not dry_run:
                self._commit(wal.Change(tuple(ids), ()))
        return ids

    def _commit(self, change: wal.Change) -> None:
        """Write-ahead, then publish: the change is on disk before ``snapshot`` shows it to readers. A failed
        append is cut off the log before the error is raised, so memory and disk are as before the call."""
        if self.read_only:
            raise StorageError(self.read_only)
        head = self._head
        if head.log is None:  # never written (a new or rebuilt index): the first write writes a whole generation
            entries = {d: e for d, e in head.snapshot.entries.items() if d not in change.removed}
            entries.update((e.doc.doc_id, e) for e in change.added)
            snap = IndexSnapshot.build(entries, self.embedder.dim)
            self._swap(write_generation(self.index_dir, snap, head.seq + 1, self._manifest_at))
            return
        try:
            frame = head.log.append(change)
        except Exception as exc:
            raise (exc if isinstance(exc, QAError) else storage_error(exc, self.index_dir)) from exc
        faults.pause("append")
        try:
            snap = head.snapshot.apply(change.added, change.removed)
        except BaseException:
            head.log.undo(frame)  # never acknowledged: off the disk too
            raise
        self._head = Head(snap, head.log.seq, head.generation, head.log)
        self.compactor.after_write(frame, change)

    def _embed(self, docs: list[Document], on_progress: Callable[[int], None] | None) -> dict[str, DocEntry]:
        """Chunk and embed a batch of documents with one encoder call over all their sentences."""
        if not docs:
            return {}
        pieces = [split_today(d, self.params) for d in docs]
        with self._embed_lock:
            vectors = self.embedder.encode([s.text for sentences, _, _ in pieces for s in sentences])
        out, pos = {}, 0
        for doc, (sentences, chunks, _) in zip(docs, pieces, strict=True):
            vecs = vectors[pos : pos + len(sentences)]
            pos += len(sentences)
            out[doc.doc_id] = DocEntry(doc, content_hash(doc), tuple(sentences), tuple(chunks), vecs)
        if on_progress:
            on_progress(len(docs))
        faults.pause("embed")
        return out

    # ---- saving --------------------------------------------------------------------------------------------
    def save(self) -> Path:
        """Write the index as it is now as a new compacted generation (its log folded in) and return it."""
        return self.compact()

    def compact(self) -> Path:
        """Fold the log into a new base generation now (waiting for a background compaction first)."""
        if self.read_only:
            raise StorageError(self.read_only)
        self.compactor.wait()
        return self.compactor.run()

    def wait_for_compaction(self) -> None:
        self.compactor.wait()


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_MANIFEST_KEYS = frozenset(["format_version", "model", "chunking", "faiss", "bm25", "counts", "documents", "files",
                            "last_seq", "lineage"])


def _manifest(embedder: Embedder, params: ChunkParams, snap: IndexSnapshot | None) -> dict:
    manifest: dict = {
        "format_version": FORMAT_VERSION,
        "model": {"name": embedder.name, "dim": embedder.dim},
        "chunking": params.as_dict(),
    }
    if snap is not None:
        manifest["faiss"] = {"spec": spec_of(snap.faiss_index), "metric": "inner_product", "unit": "sentence"}
        manifest["bm25"] = {"unit": "passage", "method": "lucene", "k1": 1.5, "b": 0.75}
        manifest["counts"] = {"documents": len(snap.entries), "sentences": len(snap.sentences),
                              "passages": len(snap.passages)}
        manifest["documents"] = {doc_id: e.sha256 for doc_id, e in snap.entries.items()}
    return manifest


