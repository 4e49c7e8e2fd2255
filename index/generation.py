"""Generations of an index on disk: each a compacted base (documents, vectors, FAISS, manifest) plus its log.

A generation is written whole into ``gen-N.tmp``, fsynced, renamed to ``gen-N`` and published by switching
``CURRENT``. Its manifest holds every base file's sha256, the number of the last write the base holds (``last_seq``)
and its ``lineage``: the generation that began its line of writes (a new index or a ``--rebuild``). Writes after that
go to the generation's log (index/wal.py). An older generation is deleted only when the published one provably holds
all its writes. See index/STORAGE.md.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import faiss
import numpy as np

from index import faults, wal
from index.durable import fsync_dir, fsync_file, sha256, write_atomic
from index.errors import QAError, StorageError, StorageFullError
from index.records import entry_of, stored_record
from index.snapshot import DocEntry, IndexSnapshot
from index.wal import LOG_FILE

log = logging.getLogger(__name__)

INDEX_FILES = ("documents.jsonl", "vectors.npy", "faiss.index")


def write_base(folder: Path, snap: IndexSnapshot, manifest: dict) -> None:
    """Write ``snap`` into ``folder`` (documents in snapshot order, FAISS as it is), all fsynced, manifest last."""
    with snap.faiss_lock:  # writes mutate the shared index under the store's write lock; searches take this one
        faiss.write_index(snap.faiss_index, str(folder / "faiss.index"))
    fsync_file(folder / "faiss.index")  # FAISS writes through its own FILE*
    lines = [json.dumps({**stored_record(e), "vector_id_base": e.first_sentence}, ensure_ascii=False)
             for e in snap.entries.values()]
    write_atomic(folder / "documents.jsonl", "\n".join(lines) + ("\n" if lines else ""))
    with open(folder / "vectors.npy", "wb") as fh:
        parts = [e.vectors for e in snap.entries.values()]
        np.save(fh, np.vstack(parts).astype(np.float32) if parts else np.zeros((0, snap.dim), np.float32))
        fh.flush()
        os.fsync(fh.fileno())
    manifest = {**manifest, "files": {name: sha256(folder / name) for name in INDEX_FILES}}
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_base(folder: Path, dim: int) -> tuple[dict[str, DocEntry], dict[str, int], faiss.Index]:
    """Documents with their vectors, each document's first FAISS id (sequential in indexes without it), FAISS."""
    vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"vectors.npy has shape {vectors.shape}, expected (*, {dim})")
    entries: dict[str, DocEntry] = {}
    id_base: dict[str, int] = {}
    pos = 0
    with open(folder / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            n = len(r["sentences"])
            if pos + n > len(vectors):
                raise ValueError("vectors.npy is shorter than the documents need")
            entry = entry_of(r, vectors[pos : pos + n])
            entries[entry.doc.doc_id] = entry
            id_base[entry.doc.doc_id] = int(r.get("vector_id_base", pos))
            pos += n
    if pos != len(vectors):
        raise ValueError("vectors.npy has more rows than the documents need")
    return entries, id_base, faiss.read_index(str(folder / "faiss.index"))


def base_bytes(folder: Path) -> int:
    return sum((folder / name).stat().st_size for name in INDEX_FILES if (folder / name).exists())


def generations(index_dir: Path) -> list[Path]:
    """Published generation folders, newest first (``gen-N.tmp`` leftovers were never published)."""
    if not index_dir.is_dir():
        return []
    gens: Iterable[Path] = (p for p in index_dir.glob("gen-*") if p.is_dir() and p.name[4:].isdigit())
    return sorted(gens, key=lambda p: int(p.name[4:]), reverse=True)


def base_seq(manifest: dict) -> int:
    """The number of the last write a base holds (0 for bases written before writes were numbered)."""
    seq = manifest.get("last_seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError(f"last_seq {seq!r} is not a write number")
    return seq


def lineage(manifest: dict) -> str:
    """The generation that began this generation's line of writes ("legacy" for bases from before lineages)."""
    value = manifest.get("lineage")
    return value if isinstance(value, str) else "legacy"


def last_write(folder: Path) -> int | None:
    """The number of the last write generation ``folder`` holds (base, acknowledged log records, and a record past
    them); None when that cannot be told (its manifest or side record is unreadable)."""
    try:
        seq = base_seq(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
        acked = wal.read_acked(folder)
        return max(seq, acked or 0, seq + wal.count_records(folder / LOG_FILE))
    except (OSError, ValueError, AttributeError):
        return None


def remove_leftovers(index_dir: Path) -> None:
    """Delete ``*.tmp`` files and folders a failed or killed save left behind (never published, never read)."""
    for leftover in index_dir.glob("*.tmp"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def storage_error(exc: Exception, index_dir: Path) -> QAError:
    """What a failed save tells the caller: a full disk is 507, anything else a storage error; both say that the
    write was not applied."""
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in str(exc):
        return StorageFullError(f"no space left on the disk holding {index_dir}; the write was not applied "
                                "(free some space and send it again)")
    return StorageError(f"saving the index in {index_dir} failed ({brief(exc)}); the write was not applied")


def brief(exc: Exception) -> str:
    """An exception's message on one line and short, for error messages (FAISS's are long C++ traces)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def prepare(index_dir: Path, snap: IndexSnapshot, manifest: dict) -> Path:
    """Write ``snap`` as the base of the next generation into ``gen-N.tmp``, fsynced, and return it (``seal`` then
    adds its log and side record). A manifest without a lineage starts one named after this generation. On failure
    removes what was written and raises (``StorageFullError`` for a full disk)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(index_dir)
    number = max((int(p.name[4:10]) for p in index_dir.glob("gen-*") if p.name[4:10].isdigit()), default=0) + 1
    tmp = index_dir / f"gen-{number:06d}.tmp"
    try:
        tmp.mkdir()
        write_base(tmp, snap, {"lineage": f"gen-{number:06d}", **manifest})
        faults.fail("write")
        fsync_dir(tmp)
    except BaseException as exc:
        discard(tmp, exc, index_dir)
    faults.pause("save")
    return tmp


def seal(tmp: Path, tail: bytes, acked: int) -> None:
    """Give the prepared generation ``tail`` (the log frames written since its snapshot) as its log and ``acked`` as
    its last acknowledged write, fsynced with the folder (so the new files survive a power loss)."""
    try:
        if tail:
            _write_log(tmp / LOG_FILE, tail)
        wal.write_acked(tmp, acked, both=True)
        fsync_dir(tmp)
    except BaseException as exc:
        discard(tmp, exc, tmp.parent)


def discard(tmp: Path, exc: BaseException, index_dir: Path) -> NoReturn:
    shutil.rmtree(tmp, ignore_errors=True)
    if isinstance(exc, Exception) and not isinstance(exc, QAError):
        raise storage_error(exc, index_dir) from exc
    raise exc


def publish(index_dir: Path, tmp: Path) -> Path:
    """Rename ``tmp`` to its final name, switch ``CURRENT`` to it (the commit point), then delete the generations
    it makes redundant (``drop_contained``). Returns the published generation."""
    final = tmp.with_name(tmp.name.removesuffix(".tmp"))
    try:
        os.rename(tmp, final)
        faults.pause("switch")
        write_atomic(index_dir / "CURRENT", final.name + "\n")
        fsync_dir(index_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if current_name(index_dir) != final.name:  # renamed but never published
            shutil.rmtree(final, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, QAError):
            raise storage_error(exc, index_dir) from exc
        raise
    drop_contained(index_dir, final)
    return final


def drop_contained(index_dir: Path, published: Path) -> None:
    """Delete every other generation whose writes the published one provably holds: one of the same lineage whose
    last write is at or below the published one's. A generation of another lineage was either replaced by a
    ``--rebuild`` or a rebuild that was never published; ``CURRENT`` names the lineage that is the index."""
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    mine, upto = lineage(manifest), max(base_seq(manifest), wal.read_acked(published) or 0)
    for old in generations(index_dir):
        if old == published:
            continue
        try:
            other = lineage(json.loads((old / "manifest.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            other = None
        last = last_write(old)
        if other is not None and (other != mine or (last is not None and last <= upto)):
            shutil.rmtree(old, ignore_errors=True)
        else:
            log.warning("kept generation %s: %s does not provably hold all its writes (it ends at write %s, %s at "
                        "write %d)", old, published.name, last, published.name, upto)


def current_name(index_dir: Path) -> str | None:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _write_log(path: Path, frames: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(frames)
        fh.flush()
        os.fsync(fh.fileno())
