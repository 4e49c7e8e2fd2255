"""The index on disk: a compacted base generation plus a write-ahead log; incremental, crash-safe updates."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from index import wal
from index.chunking import ChunkParams, chunk_document
from index.compaction import Compactor, prepare, publish
from index.documents import Document, content_hash
from index.embedder import Embedder
from index.errors import (
    DocumentNotFoundError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    InvalidInputError,
    QAError,
    StorageError,
    StorageFullError,
)
from index.generation import INDEX_FILES, LOG_FILE, fsync_dir, generations, read_base, sha256, write_atomic
from index.ingest import DetectedEncoding, Skipped
from index.snapshot import DocEntry, IndexSnapshot, reusable, spec_of
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
    """Documents with their sentences, passages and vectors; readers use ``snapshot``, writers hold a lock.

    On disk: the current generation (a compacted base) plus its write-ahead log; each write appends one record and
    fsyncs it before readers see the change. ``index.compaction`` folds the log into a new base in the background.
    """

    def __init__(self, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.params = params or ChunkParams()
        # What else answers from this index (e.g. {"reader": version}); recorded in the manifest, not checked at load.
        self.stamps: dict[str, str] = {}
        # True when the folder held no index at all when opened (never used): only then may seeds be indexed into it.
        self.fresh = False
        self._write_lock = threading.RLock()
        self.snapshot = IndexSnapshot.build({}, embedder.dim)
        self.generation: Path | None = None  # the published generation this store reads and appends to
        self.log: WriteAheadLog | None = None
        self.compactor = Compactor(self)

    # ---- loading -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None,
             create: bool = False) -> IndexStore:
        """Load the index at ``index_dir``; with ``create`` a missing index starts empty."""
        store = cls(index_dir, embedder, params)
        current = store._current_dir()
        if current is None and generations(store.index_dir):
            store._repair_current()
            return store
        if current is None:
            if not create:
                raise IndexMissingError(f"no index in {index_dir}; run `qa index PATH --index-dir {index_dir}` first")
            store.fresh = True
            return store
        store._load(current)
        return store

    def _repair_current(self) -> None:
        """``CURRENT`` is gone but generations exist: load the newest one that loads and point ``CURRENT`` at it.

        Never rebuilds over them: if none loads, the folder is refused as damaged and left as it is."""
        problems = []
        for gen in generations(self.index_dir):
            try:
                self._load(gen)
            except (IndexCorruptError, IndexMismatchError) as exc:
                problems.append(f"{gen.name}: {str(exc).split(';')[0]}")
                continue
            write_atomic(self.index_dir / "CURRENT", gen.name + "\n")
            fsync_dir(self.index_dir)
            log.warning("index %s had no CURRENT; restored it to %s, the newest generation that loads",
                        self.index_dir, gen.name)
            return
        raise IndexCorruptError(f"index {self.index_dir} has generations but no CURRENT, and none of them loads "
                                f"({'; '.join(problems)[:200]}); {self.rebuild_hint()}")

    def _current_dir(self) -> Path | None:
        pointer = self.index_dir / "CURRENT"
        if not pointer.exists():
            return None
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexCorruptError(
                f"index pointer {pointer} is unreadable ({_brief(exc)}); {self.rebuild_hint()}"
            ) from None
        path = self.index_dir / name
        if not (name[:4] == "gen-" and name[4:].isdigit()) or not path.is_dir():
            raise IndexCorruptError(f"index pointer {pointer} names a missing folder {name!r}; {self.rebuild_hint()}")
        return path

    def _current_name(self) -> str | None:
        try:
            return (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None

    def rebuild_hint(self) -> str:
        return f"rebuild it with `qa index PATH --rebuild --index-dir {self.index_dir}`"

    def manifest(self, snap: IndexSnapshot | None = None) -> dict:
        return {**_manifest(self.embedder, self.params, snap or self.snapshot), **self.stamps}

    def _load(self, path: Path) -> None:
        """The base of generation ``path`` with its log replayed: documents and rows as the writes left them, then
        one build (so opening costs one build, however many records the log holds)."""
        manifest = self._read_manifest(path)
        self._check_manifest(manifest)
        self._check_files(path, manifest)
        self.stamps = {k: v for k, v in manifest.items() if k not in _MANIFEST_KEYS and isinstance(v, str)}
        dim = self.embedder.dim
        try:
            entries, id_base, index = read_base(path, dim)
            if index.d != dim or index.ntotal != sum(len(e.sentences) for e in entries.values()):
                raise IndexCorruptError(f"FAISS index in {path} does not match its documents; {self.rebuild_hint()}")
            records, size = wal.read(path / LOG_FILE, dim)
            next_row = max((id_base[d] + len(e.sentences) for d, e in entries.items()), default=0)
            gone: list[np.ndarray] = []  # base vectors to remove from FAISS
            new: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # vectors the log adds, unless it removes them again
            for _, change in records:
                for doc_id in change.removed:
                    e, first = entries.pop(doc_id), id_base.pop(doc_id)
                    if new.pop(doc_id, None) is None:
                        gone.append(np.arange(first, first + len(e.sentences)))
                for e in change.added:
                    entries[e.doc.doc_id], id_base[e.doc.doc_id] = e, next_row
                    new[e.doc.doc_id] = (e.vectors, np.arange(next_row, next_row + len(e.sentences)))
                    next_row += len(e.sentences)
        except wal.LogCorruptError as exc:
            raise IndexCorruptError(f"{exc}; {self.rebuild_hint()}") from None
        except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError) as exc:
            raise IndexCorruptError(
                f"index files in {path} are damaged ({_brief(exc)}); {self.rebuild_hint()}"
            ) from None
        _replay_faiss(index, gone, list(new.values()))
        n_live = sum(len(e.sentences) for e in entries.values())
        self.snapshot = IndexSnapshot.build(entries, dim, index if reusable(index, n_live) else None, id_base)
        self.generation, self.log = path, WriteAheadLog(path / LOG_FILE, size)

    def _read_manifest(self, path: Path) -> dict:
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"index manifest in {path} is unreadable ({_brief(exc)}); {self.rebuild_hint()}"
            ) from None
        if not isinstance(manifest, dict):
            raise IndexCorruptError(f"index manifest in {path} is not a JSON object; {self.rebuild_hint()}")
        return manifest

    def _check_files(self, path: Path, manifest: dict) -> None:
        """Every base file has the sha256 the manifest recorded when it was written (indexes from before the
        checksums were recorded have none to check; the log's records carry their own crc32)."""
        recorded = manifest.get("files")
        if recorded is None:
            return
        if not isinstance(recorded, dict):
            raise IndexCorruptError(f"index manifest in {path} has no valid file checksums; {self.rebuild_hint()}")
        for name in INDEX_FILES:
            try:
                actual = sha256(path / name)
            except OSError as exc:
                raise IndexCorruptError(f"index file {path / name} is unreadable ({_brief(exc)}); "
                                        f"{self.rebuild_hint()}") from None
            if recorded.get(name) != actual:
                raise IndexCorruptError(f"index file {path / name} does not match its checksum in the manifest "
                                        f"(damaged or edited); {self.rebuild_hint()}")

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

        The change is written to disk (one fsynced log record) before readers see it; if writing fails, memory
        and disk stay exactly as they were and the error says why."""
        report = UpdateReport()
        with self._write_lock:
            entries = self.snapshot.entries
            seen: set[str] = set()
            pending: list[Document] = []
            added: dict[str, DocEntry] = {}
            for item in items:
                if isinstance(item, Skipped):
                    report.skipped.append(item)
                    continue
                check_storable(item)
                if item.encoding is not None:
                    report.encodings.append(DetectedEncoding(item.doc_id, item.source or item.doc_id, item.encoding))
                seen.add(item.doc_id)
                old = added.get(item.doc_id) or entries.get(item.doc_id)
                if old is not None and old.sha256 == content_hash(item):
                    report.unchanged.append(item.doc_id)
                    if on_progress:
                        on_progress(1)
                    continue
                if item.doc_id not in added:
                    (report.changed if old is not None else report.added).append(item.doc_id)
                pending.append(item)
                if len(pending) >= EMBED_BATCH_DOCS:
                    added.update(self._embed(pending, on_progress))
                    pending = []
            added.update(self._embed(pending, on_progress))
            roots = [str(Path(p).resolve()) for p in remove_missing_under]
            for doc_id, entry in entries.items() if roots else ():  # a folder run checks every document; an add not
                source = entry.doc.source or ""
                if doc_id not in seen and any(_is_under(source, r) for r in roots):
                    report.removed.append(doc_id)
            if report.modified:
                replaced = [d for d in added if d in entries]
                self._commit(wal.Change(tuple(report.removed + replaced), tuple(added.values())))
        return report

    def add(self, docs: list[Document]) -> UpdateReport:
        return self.update(docs)

    def remove(self, doc_id: str) -> None:
        with self._write_lock:
            if doc_id not in self.snapshot.entries:
                raise DocumentNotFoundError(f"no document with id {doc_id!r}; GET /documents lists the ids")
            self._commit(wal.Change((doc_id,), ()))

    def _commit(self, change: wal.Change) -> None:
        """Write-ahead, then publish: the change is on disk before ``snapshot`` shows it to readers. A failed
        append is cut off the log before the error is raised, so memory and disk are as before the call."""
        if self.log is None:  # never written: the first write writes a whole generation
            entries = {d: e for d, e in self.snapshot.entries.items() if d not in change.removed}
            entries.update((e.doc.doc_id, e) for e in change.added)
            snap = IndexSnapshot.build(entries, self.embedder.dim)
            tmp, final = prepare(self, snap)
            publish(self, tmp, final)
            self.generation, self.log, self.snapshot = final, WriteAheadLog(final / LOG_FILE, 0), snap
            return
        frame = wal.encode(change)
        try:
            self.log.append(frame, fault=lambda: _inject_fault("write"))
        except Exception as exc:
            raise (exc if isinstance(exc, QAError) else _save_error(exc, self.index_dir)) from exc
        _pause_for_tests("append")
        before = self.log.size - len(frame)
        try:
            snap = self.snapshot.apply(change.added, change.removed)
        except BaseException:
            self.log.cut(before)  # never acknowledged: off the disk too
            raise
        self.snapshot = snap
        self.compactor.after_write(frame, change)

    def _embed(self, docs: list[Document], on_progress: Callable[[int], None] | None) -> dict[str, DocEntry]:
        """Chunk and embed a batch of documents with one encoder call over all their sentences."""
        if not docs:
            return {}
        pieces = [chunk_document(d.doc_id, d.text, self.params) for d in docs]
        vectors = self.embedder.encode([s.text for sentences, _ in pieces for s in sentences])
        out, pos = {}, 0
        for doc, (sentences, chunks) in zip(docs, pieces, strict=True):
            vecs = vectors[pos : pos + len(sentences)]
            pos += len(sentences)
            out[doc.doc_id] = DocEntry(doc, content_hash(doc), tuple(sentences), tuple(chunks), vecs)
        if on_progress:
            on_progress(len(docs))
        _pause_for_tests("embed")
        return out

    # ---- saving --------------------------------------------------------------------------------------------
    def save(self) -> Path:
        """Write the index as it is now as a new compacted generation (its log folded in) and return it."""
        return self.compact()

    def compact(self) -> Path:
        """Fold the log into a new base generation now (waiting for a background compaction first)."""
        self.compactor.wait()
        return self.compactor.run()

    def wait_for_compaction(self) -> None:
        self.compactor.wait()


def check_storable(doc: Document) -> None:
    """Refuse a document the index could not write: text fields must be valid Unicode (no lone surrogates, which
    JSON allows as escapes but UTF-8 cannot encode)."""
    for name, value in {**doc.metadata(), "text": doc.text}.items():
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInputError(f"document {doc.doc_id!r}: {name} holds an invalid character "
                                    f"({value[exc.start]!r} at position {exc.start}, a lone surrogate); "
                                    "send valid Unicode text") from None


def remove_leftovers(index_dir: Path) -> None:
    """Delete ``*.tmp`` files and folders a failed or killed save left behind (never published, never read)."""
    for leftover in index_dir.glob("*.tmp"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _save_error(exc: Exception, index_dir: Path) -> QAError:
    """What a failed save tells the caller: a full disk is 507, anything else a storage error; both say that the
    write was not applied."""
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in str(exc):
        return StorageFullError(f"no space left on the disk holding {index_dir}; the write was not applied "
                                "(free some space and send it again)")
    return StorageError(f"saving the index in {index_dir} failed ({_brief(exc)}); the write was not applied")


def _inject_fault(point: str) -> None:
    """Fault tests set QA_TEST_FAIL_AT="write" to make a write fail with ENOSPC, as a full disk would: a log append
    after its bytes are written (before the fsync), a generation after its files are. Does nothing otherwise."""
    if os.environ.get("QA_TEST_FAIL_AT") == point:
        raise OSError(errno.ENOSPC, "No space left on device (injected by QA_TEST_FAIL_AT)")


def _pause_for_tests(point: str) -> None:
    """Crash-safety tests set QA_TEST_PAUSE_AT to "embed", "append", "save" or "switch" to hold `qa index` at that
    point (after a batch is embedded / a log record is fsynced but not yet applied / a new generation is written /
    it is renamed but CURRENT not yet switched) and SIGKILL it there; see tests/reliability/test_crash_safety.py.
    Does nothing otherwise."""
    if os.environ.get("QA_TEST_PAUSE_AT") == point:
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(600)


def _brief(exc: Exception) -> str:
    """An exception's message on one line and short, for error messages (FAISS's are long C++ traces)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


_MANIFEST_KEYS = frozenset(["format_version", "model", "chunking", "faiss", "bm25", "counts", "documents", "files"])


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


def _replay_faiss(index: faiss.Index, gone: list[np.ndarray], new: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Apply the log's removals and additions to the base's FAISS index, by id."""
    if gone:
        index.remove_ids(np.concatenate(gone).astype(np.int64))  # type: ignore[arg-type]  # the wrapper takes ids
    new = [(v, i) for v, i in new if len(v)]
    if new:
        index.add_with_ids(np.ascontiguousarray(np.vstack([v for v, _ in new]), dtype=np.float32),
                           np.concatenate([i for _, i in new]).astype(np.int64))
