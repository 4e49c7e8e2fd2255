"""The index on disk: incremental updates, a self-describing manifest and atomic saves."""

from __future__ import annotations

import errno
import hashlib
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

from index.chunking import ChunkParams, chunk_document
from index.documents import Chunk, Document, Span, content_hash
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
from index.ingest import Skipped
from index.snapshot import DocEntry, IndexSnapshot, spec_of

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
EMBED_BATCH_DOCS = 64


@dataclass
class UpdateReport:
    """What an indexing run did, document by document."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def modified(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class IndexStore:
    """Documents with their sentences, passages and vectors; readers use ``snapshot``, writers hold a lock."""

    def __init__(self, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.params = params or ChunkParams()
        self._entries: dict[str, DocEntry] = {}
        # What else answers from this index (e.g. {"reader": version}); recorded in the manifest, not checked at load.
        self.stamps: dict[str, str] = {}
        # True when the folder held no index at all when opened (never used): only then may seeds be indexed into it.
        self.fresh = False
        self._write_lock = threading.RLock()
        self.snapshot = IndexSnapshot.build({}, embedder.dim)
        # Each published change bumps ``_version``; ``_saved`` is the version the newest generation on disk holds.
        self._version = 0
        self._saved: tuple[int, Path] | None = None

    # ---- loading -------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, params: ChunkParams | None = None,
             create: bool = False) -> IndexStore:
        """Load the index at ``index_dir``; with ``create`` a missing index starts empty."""
        store = cls(index_dir, embedder, params)
        current = store._current_dir()
        if current is None and store._generations():
            store._repair_current()
            return store
        if current is None:
            if not create:
                raise IndexMissingError(f"no index in {index_dir}; run `qa index PATH --index-dir {index_dir}` first")
            store.fresh = True
            return store
        store._load(current)
        return store

    def _generations(self) -> list[Path]:
        """Published generation folders, newest first (``gen-N.tmp`` leftovers were never published)."""
        if not self.index_dir.is_dir():
            return []
        gens = [p for p in self.index_dir.glob("gen-*") if p.is_dir() and p.name[4:].isdigit()]
        return sorted(gens, key=lambda p: int(p.name[4:]), reverse=True)

    def _repair_current(self) -> None:
        """``CURRENT`` is gone but generations exist: load the newest one that loads and point ``CURRENT`` at it.

        Never rebuilds over them: if none loads, the folder is refused as damaged and left as it is."""
        problems = []
        for gen in self._generations():
            try:
                self._load(gen)
            except (IndexCorruptError, IndexMismatchError) as exc:
                problems.append(f"{gen.name}: {str(exc).split(';')[0]}")
                continue
            _write_atomic(self.index_dir / "CURRENT", gen.name + "\n")
            _fsync_dir(self.index_dir)
            log.warning("index %s had no CURRENT; restored it to %s, the newest generation that loads",
                        self.index_dir, gen.name)
            return
        raise IndexCorruptError(f"index {self.index_dir} has generations but no CURRENT, and none of them loads "
                                f"({'; '.join(problems)[:200]}); {self._rebuild_hint()}")

    def _current_dir(self) -> Path | None:
        pointer = self.index_dir / "CURRENT"
        if not pointer.exists():
            return None
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexCorruptError(
                f"index pointer {pointer} is unreadable ({_brief(exc)}); {self._rebuild_hint()}"
            ) from None
        path = self.index_dir / name
        if not (name[:4] == "gen-" and name[4:].isdigit()) or not path.is_dir():
            raise IndexCorruptError(f"index pointer {pointer} names a missing folder {name!r}; {self._rebuild_hint()}")
        return path

    def _rebuild_hint(self) -> str:
        return f"rebuild it with `qa index PATH --rebuild --index-dir {self.index_dir}`"

    def manifest(self) -> dict:
        return {**_manifest(self.embedder, self.params, self.snapshot), **self.stamps}

    def _load(self, path: Path) -> None:
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"index manifest in {path} is unreadable ({_brief(exc)}); {self._rebuild_hint()}"
            ) from None
        if not isinstance(manifest, dict):
            raise IndexCorruptError(f"index manifest in {path} is not a JSON object; {self._rebuild_hint()}")
        self._check_manifest(manifest)
        self._check_files(path, manifest)
        self.stamps = {k: v for k, v in manifest.items() if k not in _MANIFEST_KEYS and isinstance(v, str)}
        try:
            entries, id_base = _read_entries(path, self.embedder.dim)
            index = faiss.read_index(str(path / "faiss.index"))
        except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError) as exc:
            raise IndexCorruptError(
                f"index files in {path} are damaged ({_brief(exc)}); {self._rebuild_hint()}"
            ) from None
        if index.d != self.embedder.dim or index.ntotal != sum(len(e.sentences) for e in entries.values()):
            raise IndexCorruptError(f"FAISS index in {path} does not match its documents; {self._rebuild_hint()}")
        self._entries = entries
        self.snapshot = IndexSnapshot.build(entries, self.embedder.dim, index, id_base)

    def _check_files(self, path: Path, manifest: dict) -> None:
        """Every index file has the sha256 the manifest recorded when it was written (indexes from before the
        checksums were recorded have none to check)."""
        recorded = manifest.get("files")
        if recorded is None:
            return
        if not isinstance(recorded, dict):
            raise IndexCorruptError(f"index manifest in {path} has no valid file checksums; {self._rebuild_hint()}")
        for name in INDEX_FILES:
            try:
                actual = _sha256(path / name)
            except OSError as exc:
                raise IndexCorruptError(f"index file {path / name} is unreadable ({_brief(exc)}); "
                                        f"{self._rebuild_hint()}") from None
            if recorded.get(name) != actual:
                raise IndexCorruptError(f"index file {path / name} does not match its checksum in the manifest "
                                        f"(damaged or edited); {self._rebuild_hint()}")

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

        The change is written to disk (fsynced, ``CURRENT`` switched) before readers see it; if
        writing fails, memory and disk stay exactly as they were and the error says why."""
        report = UpdateReport()
        with self._write_lock:
            entries = dict(self._entries)
            seen: set[str] = set()
            pending: list[Document] = []
            for item in items:
                if isinstance(item, Skipped):
                    report.skipped.append(item)
                    continue
                check_storable(item)
                seen.add(item.doc_id)
                old = entries.get(item.doc_id)
                if old is not None and old.sha256 == content_hash(item):
                    report.unchanged.append(item.doc_id)
                    if on_progress:
                        on_progress(1)
                    continue
                (report.changed if old is not None else report.added).append(item.doc_id)
                pending.append(item)
                if len(pending) >= EMBED_BATCH_DOCS:
                    entries.update(self._embed(pending, on_progress))
                    pending = []
            entries.update(self._embed(pending, on_progress))
            roots = [str(Path(p).resolve()) for p in remove_missing_under]
            for doc_id, entry in list(entries.items()):
                source = entry.doc.source or ""
                if doc_id not in seen and roots and any(_is_under(source, r) for r in roots):
                    del entries[doc_id]
                    report.removed.append(doc_id)
            if report.modified:
                self._commit(entries)
        return report

    def add(self, docs: list[Document]) -> UpdateReport:
        return self.update(docs)

    def remove(self, doc_id: str) -> None:
        with self._write_lock:
            if doc_id not in self._entries:
                raise DocumentNotFoundError(f"no document with id {doc_id!r}; GET /documents lists the ids")
            entries = dict(self._entries)
            del entries[doc_id]
            self._commit(entries)

    def _commit(self, entries: dict[str, DocEntry]) -> None:
        """Write-ahead, then publish: the new state is on disk before ``snapshot`` shows it to readers. A failed
        write undoes the in-place FAISS update, so memory is as before the call (and disk never changed)."""
        previous = self.snapshot
        snap = IndexSnapshot.build(entries, self.embedder.dim, previous=previous)
        try:
            saved = self._write_generation(snap)
        except BaseException:
            snap.undo_update(previous)
            raise
        self.snapshot = snap
        self._entries = entries
        self._version += 1
        self._saved = (self._version, saved)

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
        """The generation on disk that holds the index as it is now; every write saves itself, so this writes only
        for an index never written (a fresh, empty one)."""
        with self._write_lock:
            if self._saved is not None and self._saved[0] == self._version:
                return self._saved[1]
            path = self._write_generation(self.snapshot)
            self._saved = (self._version, path)
            return path

    def _write_generation(self, snap: IndexSnapshot) -> Path:
        """Write ``snap`` as a new generation and switch ``CURRENT`` to it; on failure remove what was written and
        raise (``StorageFullError`` for a full disk), leaving ``CURRENT`` and the published generation untouched."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.index_dir)
        gens = sorted(p.name for p in self.index_dir.glob("gen-*"))
        number = max((int(g[4:10]) for g in gens if g[4:10].isdigit()), default=0) + 1
        final = self.index_dir / f"gen-{number:06d}"
        tmp = self.index_dir / f"gen-{number:06d}.tmp"
        try:
            tmp.mkdir()
            assert snap.faiss_index is not None  # every snapshot builds one
            with snap.faiss_lock:  # updates mutate the shared index under the write lock, which this caller holds
                faiss.write_index(snap.faiss_index, str(tmp / "faiss.index"))
            self._finish_generation(snap, tmp, final)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if self._pointer_name() != final.name:  # renamed but never published
                shutil.rmtree(final, ignore_errors=True)
            if isinstance(exc, Exception) and not isinstance(exc, QAError):
                raise _save_error(exc, self.index_dir) from exc
            raise
        return final

    def _pointer_name(self) -> str | None:
        try:
            return (self.index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None

    def _finish_generation(self, snap: IndexSnapshot, tmp: Path, final: Path) -> None:
        """Write the rest of ``tmp`` with everything fsynced, publish it as ``final`` and drop older generations."""
        _fsync_file(tmp / "faiss.index")  # FAISS writes through its own FILE*
        _inject_fault("write")
        _write_entries(tmp, snap)
        manifest = {**_manifest(self.embedder, self.params, snap), **self.stamps,
                    "files": {name: _sha256(tmp / name) for name in INDEX_FILES}}
        _write_atomic(tmp / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _fsync_dir(tmp)
        _pause_for_tests("save")
        os.rename(tmp, final)
        _pause_for_tests("switch")
        _write_atomic(self.index_dir / "CURRENT", final.name + "\n")
        _fsync_dir(self.index_dir)
        for old in self.index_dir.glob("gen-*"):
            if old.name != final.name:
                shutil.rmtree(old, ignore_errors=True)


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
    """Fault tests set QA_TEST_FAIL_AT="write" to make a save fail with ENOSPC after FAISS is written, as a full disk
    would. Does nothing otherwise."""
    if os.environ.get("QA_TEST_FAIL_AT") == point:
        raise OSError(errno.ENOSPC, "No space left on device (injected by QA_TEST_FAIL_AT)")


def _pause_for_tests(point: str) -> None:
    """Crash-safety tests set QA_TEST_PAUSE_AT to "embed", "save" or "switch" to hold `qa index` at that point
    (after a batch is embedded / the new generation is written / it is renamed but CURRENT not yet switched)
    and SIGKILL it there; see tests/reliability/test_crash_safety.py. Does nothing otherwise."""
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
INDEX_FILES = ("documents.jsonl", "vectors.npy", "faiss.index")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _manifest(embedder: Embedder, params: ChunkParams, snap: IndexSnapshot | None) -> dict:
    manifest: dict = {
        "format_version": FORMAT_VERSION,
        "model": {"name": embedder.name, "dim": embedder.dim},
        "chunking": params.as_dict(),
    }
    if snap is not None:
        manifest["faiss"] = {"spec": _spec_of(snap), "metric": "inner_product", "unit": "sentence"}
        manifest["bm25"] = {"unit": "passage", "method": "lucene", "k1": 1.5, "b": 0.75}
        manifest["counts"] = {"documents": len(snap.entries), "sentences": len(snap.sentences),
                              "passages": len(snap.passages)}
        manifest["documents"] = {doc_id: e.sha256 for doc_id, e in snap.entries.items()}
    return manifest


def _spec_of(snap: IndexSnapshot) -> str:
    return spec_of(snap.faiss_index)


def _write_entries(folder: Path, snap: IndexSnapshot) -> None:
    lines = []
    for entry in snap.entries.values():
        d = entry.doc
        lines.append(json.dumps({
            **d.metadata(), "sha256": entry.sha256, "text": d.text,
            "sentences": [[s.start, s.end] for s in entry.sentences],
            "chunks": [[c.first_sentence, c.last_sentence] for c in entry.chunks],
            "vector_id_base": snap.id_base[d.doc_id],
        }, ensure_ascii=False))
    _write_atomic(folder / "documents.jsonl", "\n".join(lines) + ("\n" if lines else ""))
    with open(folder / "vectors.npy", "wb") as fh:
        np.save(fh, snap.sentence_vectors)
        fh.flush()
        os.fsync(fh.fileno())


def _read_entries(folder: Path, dim: int) -> tuple[dict[str, DocEntry], dict[str, int]]:
    """Documents with their vectors, and each document's first FAISS id (sequential in indexes without it)."""
    vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"vectors.npy has shape {vectors.shape}, expected (*, {dim})")
    entries: dict[str, DocEntry] = {}
    id_base: dict[str, int] = {}
    pos = 0
    with open(folder / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            doc = Document.from_stored(r)
            text = doc.text
            sents = tuple(Span(doc.doc_id, s, e, text[s:e]) for s, e in r["sentences"])
            chunks = tuple(
                Chunk(doc.doc_id, sents[a].start, sents[b].end, text[sents[a].start : sents[b].end], a, b)
                for a, b in r["chunks"]
            )
            if pos + len(sents) > len(vectors):
                raise ValueError("vectors.npy is shorter than the documents need")
            entries[doc.doc_id] = DocEntry(doc, r["sha256"], sents, chunks, vectors[pos : pos + len(sents)])
            id_base[doc.doc_id] = int(r.get("vector_id_base", pos))
            pos += len(sents)
    if pos != len(vectors):
        raise ValueError("vectors.npy has more rows than the documents need")
    return entries, id_base


def _write_atomic(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
