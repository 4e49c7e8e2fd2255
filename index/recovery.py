"""Opening an index folder: the published generation's base with its log replayed and verified, or — when ``CURRENT``
is missing, unreadable, or names a generation that does not load — the state recovered from every generation.

Verification: each log record carries its write number; the generation's ``acked`` side record holds the last one
acknowledged. A log that ends before it (deleted, truncated at any byte, a damaged last record) is refused; a torn
record past it (a write killed before it was acknowledged) is left out. Recovery without a usable ``CURRENT`` loads
the newest base that loads and replays, from the logs of every generation of its lineage, each write the base lacks
up to the highest acknowledged one; if some write is found in no log it refuses, naming a safe recovery. Nothing
here writes: the store decides what to write, and only a writer holding the lock does (index/store.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np

from index import wal
from index.errors import IndexCorruptError
from index.generation import INDEX_FILES, base_seq, brief, generations, lineage, read_base, sha256
from index.snapshot import DocEntry, IndexSnapshot, reusable
from index.wal import LOG_FILE

log = logging.getLogger(__name__)

CheckManifest = Callable[[dict], None]  # raises IndexMismatchError when the model or chunking differ


@dataclass(frozen=True)
class Opened:
    """A loaded index: the generation whose base was read, the snapshot, and where writing may go on.

    ``own_log`` is True when that generation's own log held every write replayed (so appending to it continues the
    index); False after a recovery that needed other generations' logs (a new generation must be written first)."""

    generation: Path
    snapshot: IndexSnapshot
    manifest: dict
    seq: int  # the last write the snapshot holds
    log_end: int  # the byte length of the generation's intact log records
    own_log: bool
    recovered: str | None = None  # why CURRENT could not be used, when it could not


def damaged_hint(index_dir: Path) -> str:
    """What to do about an index whose acknowledged writes cannot all be read: nothing in the folder can restore
    them, so restore a backup; a rebuild from the article files keeps the damaged generation until it is published."""
    return (f"restore {index_dir} from a backup, or rebuild it from the article files with `qa index PATH --rebuild "
            f"--index-dir {index_dir}` (the damaged files are kept until the new index is published)")


def open_folder(index_dir: Path, dim: int, check: CheckManifest) -> Opened | None:
    """The index in ``index_dir``; None when the folder holds no index at all."""
    gens = generations(index_dir)
    name, problem = _pointer(index_dir)
    if name is None and problem is None and not gens:
        return None
    if name is not None and not (index_dir / name).is_dir():
        raise IndexCorruptError(
            f"index pointer {index_dir / 'CURRENT'} names a missing generation {name!r}, so the writes acknowledged "
            f"in it cannot be checked; restore {index_dir} from a backup, or, if you know it held nothing newer, "
            f"write the name of the newest generation left into CURRENT")
    if name is not None:
        try:
            return load(index_dir / name, dim, check)
        except IndexCorruptError as exc:
            if _pointer(index_dir)[0] not in (name, None):  # a writer published a newer one meanwhile: read that
                return open_folder(index_dir, dim, check)
            if len(gens) < 2:
                raise
            problem = f"{name} does not load: {str(exc).split('; ')[0]}"
    return recover(index_dir, gens, dim, check, problem or "CURRENT is missing", name)


def load(path: Path, dim: int, check: CheckManifest) -> Opened:
    """Generation ``path``: its base, checked against the manifest's checksums, with its verified log replayed."""
    index_dir = path.parent
    manifest = read_manifest(path)
    check(manifest)
    _check_files(path, manifest)
    try:
        seq0 = base_seq(manifest)
        entries, id_base, index = read_base(path, dim)
        # the side record before the log: a writer appends the record before acknowledging it, so a log read after
        # the side record holds at least the writes it names, even while that writer goes on appending
        acked = wal.read_acked(path)
        contents = wal.read(path / LOG_FILE, dim, seq0)
        if acked is None and "last_seq" in manifest:
            raise wal.LogCorruptError(f"index side record {path / wal.ACKED_FILE} is missing")
        wal.verify(path / LOG_FILE, contents, seq0, acked)
        if contents.torn:
            log.warning("index log %s ends in an incomplete record, a write cut off before it was acknowledged; "
                        "ignoring its last %d bytes (the next write cuts them off)", path / LOG_FILE, contents.torn)
        snapshot = replay(path, entries, id_base, index, [r.change for r in contents.records], dim)
    except wal.LogCorruptError as exc:
        raise IndexCorruptError(f"{exc}; {damaged_hint(index_dir)}") from None
    except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(
            f"index files in {path} are damaged ({brief(exc)}); {damaged_hint(index_dir)}") from None
    return Opened(path, snapshot, manifest, contents.last_seq(seq0), contents.end, True)


def recover(index_dir: Path, gens: list[Path], dim: int, check: CheckManifest, why: str,
            named: str | None = None) -> Opened:
    """The index from its generations when ``CURRENT`` cannot say which one to load (``why``): the newest base
    that loads, with every write it lacks replayed from any generation's log, up to the highest write any of them
    acknowledged. ``named``: the generation ``CURRENT`` names, whose log must then be readable."""
    manifests, problems = {}, []
    for gen in gens:
        try:
            manifests[gen] = read_manifest(gen)
        except IndexCorruptError as exc:
            problems.append(f"{gen.name}: {str(exc).split('; ')[0]}")
    lines = sorted({lineage(m) for m in manifests.values()})
    if len(lines) > 1:
        raise IndexCorruptError(
            f"index {index_dir} has no usable CURRENT ({why}) and holds generations of {len(lines)} separate builds "
            f"(a --rebuild); write the name of the generation to use (the newest is {gens[0].name}) into "
            f"{index_dir / 'CURRENT'}")
    records: dict[int, wal.Record] = {}
    ends: dict[Path, tuple[int, int]] = {}  # generation -> (last write of its own log, its byte length)
    target = 0  # the highest write any generation holds or acknowledged
    for gen in gens:
        manifest = manifests.get(gen)
        try:
            seq0 = None if manifest is None else base_seq(manifest)
            acked = wal.read_acked(gen)
            contents = wal.read(gen / LOG_FILE, dim, seq0)
        except (wal.LogCorruptError, ValueError, OSError) as exc:
            if gen.name == named:
                raise IndexCorruptError(f"{brief(exc)}; {damaged_hint(index_dir)}") from None
            problems.append(f"{gen.name}: {brief(exc)}")
            continue
        for r in contents.records:
            if r.seq in records and records[r.seq].frame != r.frame:
                raise IndexCorruptError(f"index {index_dir} holds two different writes numbered {r.seq} (in "
                                        f"{gen.name} and another generation); {damaged_hint(index_dir)}")
            records[r.seq] = r
        last = contents.last_seq(seq0 or 0)
        ends[gen] = (last, contents.end)
        target = max(target, seq0 or 0, acked or 0, last)
    for gen, manifest in manifests.items():  # newest first
        seq0 = base_seq(manifest)
        lacking = [s for s in range(seq0 + 1, target + 1) if s not in records]
        if lacking:
            problems.append(f"{gen.name}: writes {lacking[0]}-{lacking[-1]} are in no log")
            continue
        try:
            snapshot = _recovered(gen, manifest, [records[s] for s in range(seq0 + 1, target + 1)], dim, check)
        except IndexCorruptError as exc:
            problems.append(f"{gen.name}: {str(exc).split('; ')[0]}")
            continue
        own = ends.get(gen, (-1, 0))
        return Opened(gen, snapshot, manifest, target, own[1], own[0] == target, why)
    raise IndexCorruptError(f"index {index_dir} has no usable CURRENT ({why}), and no generation can be completed "
                            f"with every acknowledged write ({'; '.join(problems)[:300]}); {damaged_hint(index_dir)}")


def _recovered(gen: Path, manifest: dict, records: list[wal.Record], dim: int, check: CheckManifest) -> IndexSnapshot:
    check(manifest)
    _check_files(gen, manifest)
    try:
        entries, id_base, index = read_base(gen, dim)
        return replay(gen, entries, id_base, index, [r.change for r in records], dim)
    except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"index files in {gen} are damaged ({brief(exc)})") from None


def replay(path: Path, entries: dict[str, DocEntry], id_base: dict[str, int], index: faiss.Index,
           changes: list[wal.Change], dim: int) -> IndexSnapshot:
    """The base's documents with ``changes`` applied, then one build (so opening costs one build, however many
    records are replayed). Sentence rows are numbered the way the live process numbered them."""
    if index.d != dim or index.ntotal != sum(len(e.sentences) for e in entries.values()):
        raise ValueError(f"FAISS index in {path} does not match its documents")
    next_row = max((id_base[d] + len(e.sentences) for d, e in entries.items()), default=0)
    gone: list[np.ndarray] = []  # base vectors to remove from FAISS
    new: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # vectors the log adds, unless it removes them again
    for change in changes:
        for doc_id in change.removed:
            e, first = entries.pop(doc_id), id_base.pop(doc_id)
            if new.pop(doc_id, None) is None:
                gone.append(np.arange(first, first + len(e.sentences)))
        for e in change.added:
            entries[e.doc.doc_id], id_base[e.doc.doc_id] = e, next_row
            new[e.doc.doc_id] = (e.vectors, np.arange(next_row, next_row + len(e.sentences)))
            next_row += len(e.sentences)
    _replay_faiss(index, gone, list(new.values()))
    n_live = sum(len(e.sentences) for e in entries.values())
    return IndexSnapshot.build(entries, dim, index if reusable(index, n_live) else None, id_base)


def read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest in {path} is unreadable ({brief(exc)}); "
                                f"{damaged_hint(path.parent)}") from None
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"index manifest in {path} is not a JSON object; {damaged_hint(path.parent)}")
    return manifest


def _check_files(path: Path, manifest: dict) -> None:
    """Every base file has the sha256 the manifest recorded when it was written (indexes from before the
    checksums were recorded have none to check; the log's records carry their own crc32)."""
    recorded = manifest.get("files")
    if recorded is None:
        return
    hint = damaged_hint(path.parent)
    if not isinstance(recorded, dict):
        raise IndexCorruptError(f"index manifest in {path} has no valid file checksums; {hint}")
    for name in INDEX_FILES:
        try:
            actual = sha256(path / name)
        except OSError as exc:
            raise IndexCorruptError(f"index file {path / name} is unreadable ({brief(exc)}); {hint}") from None
        if recorded.get(name) != actual:
            raise IndexCorruptError(f"index file {path / name} does not match its checksum in the manifest "
                                    f"(damaged or edited); {hint}")


def _pointer(index_dir: Path) -> tuple[str | None, str | None]:
    """The generation ``CURRENT`` names (it may be missing), or why it names none (None, None: no ``CURRENT``)."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"CURRENT is unreadable: {brief(exc)}"
    if not (name[:4] == "gen-" and name[4:].isdigit()):
        return None, f"CURRENT holds {name[:40]!r}, not a generation name"
    return name, None


def _replay_faiss(index: faiss.Index, gone: list[np.ndarray], new: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Apply the log's removals and additions to the base's FAISS index, by id."""
    if gone:
        cast(Any, index).remove_ids(np.concatenate(gone).astype(np.int64))  # the SWIG wrapper takes the ids as an array
    new = [(v, i) for v, i in new if len(v)]
    if new:
        index.add_with_ids(np.ascontiguousarray(np.vstack([v for v, _ in new]), dtype=np.float32),
                           np.concatenate([i for _, i in new]).astype(np.int64))

