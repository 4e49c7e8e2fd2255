"""The compacted base of an index on disk: one generation folder of documents, vectors, FAISS and a manifest.

Written whole into ``gen-N.tmp``, fsynced, renamed to ``gen-N`` and published by switching ``CURRENT``; every file's
sha256 is in the manifest. Writes after that go to the generation's log (index/wal.py). See index/STORAGE.md.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

from index.documents import Chunk, Document, Span
from index.snapshot import DocEntry, IndexSnapshot

INDEX_FILES = ("documents.jsonl", "vectors.npy", "faiss.index")
LOG_FILE = "log"


def stored_record(entry: DocEntry) -> dict:
    """A document as stored in ``documents.jsonl`` and in log records (without its FAISS ids)."""
    d = entry.doc
    return {**d.metadata(), "sha256": entry.sha256, "text": d.text,
            "sentences": [[s.start, s.end] for s in entry.sentences],
            "chunks": [[c.first_sentence, c.last_sentence] for c in entry.chunks]}


def entry_of(record: dict, vectors: np.ndarray) -> DocEntry:
    """The DocEntry of a stored record with its sentence vectors (raises ValueError/KeyError/TypeError if bad)."""
    doc = Document.from_stored(record)
    text = doc.text
    sents = tuple(Span(doc.doc_id, s, e, text[s:e]) for s, e in record["sentences"])
    chunks = tuple(Chunk(doc.doc_id, sents[a].start, sents[b].end, text[sents[a].start : sents[b].end], a, b)
                   for a, b in record["chunks"])
    if len(vectors) != len(sents):
        raise ValueError(f"document {doc.doc_id!r} has {len(sents)} sentences but {len(vectors)} vectors")
    return DocEntry(doc, record["sha256"], sents, chunks, vectors)


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


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atomic(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def generations(index_dir: Path) -> list[Path]:
    """Published generation folders, newest first (``gen-N.tmp`` leftovers were never published)."""
    if not index_dir.is_dir():
        return []
    gens: Iterable[Path] = (p for p in index_dir.glob("gen-*") if p.is_dir() and p.name[4:].isdigit())
    return sorted(gens, key=lambda p: int(p.name[4:]), reverse=True)
