"""The write-ahead log of a generation: one framed record per acknowledged write, replayed over the base at open.

Frame: a 12-byte header (payload length, crc32 of the payload, crc32 of those 8 bytes; little-endian u32 each)
followed by the payload. Payload: a u32 length, that many bytes of UTF-8 JSON ``{"removed": [doc ids], "docs":
[stored records]}``, then the float32 sentence vectors of those documents in order. A record is appended and
fsynced before its write is acknowledged; a failed append is cut off again, so the log ends at the last
acknowledged record. See index/STORAGE.md.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.generation import entry_of, fsync_dir, stored_record
from index.snapshot import DocEntry

log = logging.getLogger(__name__)

HEADER = struct.Struct("<III")
LENGTH = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Change:
    """One write: the documents it removes (replaced ones included) and the ones it adds."""

    removed: tuple[str, ...]
    added: tuple[DocEntry, ...]


class LogCorruptError(ValueError):
    """A record before the last one fails its checksum or does not decode: acknowledged writes are damaged."""


def encode(change: Change) -> bytes:
    """The framed record of ``change``."""
    body = json.dumps({"removed": list(change.removed), "docs": [stored_record(e) for e in change.added]},
                      ensure_ascii=False).encode("utf-8")
    vecs = [np.ascontiguousarray(e.vectors, dtype="<f4") for e in change.added]
    payload = b"".join([LENGTH.pack(len(body)), body, *(v.tobytes() for v in vecs)])
    crc = zlib.crc32(payload)
    head = struct.pack("<II", len(payload), crc)
    return head + LENGTH.pack(zlib.crc32(head)) + payload


def decode(payload: bytes, dim: int) -> Change:
    (n,) = LENGTH.unpack_from(payload, 0)
    body = json.loads(payload[4 : 4 + n].decode("utf-8"))
    vectors = np.frombuffer(payload, dtype="<f4", offset=4 + n).reshape(-1, dim).astype(np.float32)
    added, pos = [], 0
    for record in body["docs"]:
        k = len(record["sentences"])
        added.append(entry_of(record, vectors[pos : pos + k]))
        pos += k
    if pos != len(vectors):
        raise ValueError("record holds more vectors than its documents have sentences")
    return Change(tuple(str(d) for d in body["removed"]), tuple(added))


def read(path: Path, dim: int) -> tuple[list[tuple[bytes, Change]], int]:
    """The log's records (frame and change) and the length they end at. A damaged tail — a record cut short, or
    a last record failing its checksum, as a crash mid-append leaves — is left out with a warning (never
    acknowledged); damage before the last record raises LogCorruptError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    out: list[tuple[bytes, Change]] = []
    pos = 0
    while pos < len(data):
        problem = _check(data, pos)
        if problem == "torn":
            log.warning("index log %s ends in an incomplete record (a write cut off before it was acknowledged); "
                        "ignoring its last %d bytes", path, len(data) - pos)
            break
        if problem:
            raise LogCorruptError(f"index log {path} is damaged at byte {pos} ({problem})")
        (length, _, _) = HEADER.unpack_from(data, pos)
        end = pos + HEADER.size + length
        try:
            out.append((data[pos:end], decode(data[pos + HEADER.size : end], dim)))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise LogCorruptError(f"index log {path} has an undecodable record at byte {pos} ({exc})") from None
        pos = end
    return out, pos


def _check(data: bytes, pos: int) -> str | None:
    """None when a whole, intact record starts at ``pos``; "torn" for a damaged tail; else what is wrong."""
    rest = len(data) - pos
    if rest < HEADER.size:
        return "torn"
    length, crc, head_crc = HEADER.unpack_from(data, pos)
    if zlib.crc32(data[pos : pos + 8]) != head_crc:
        # a crash while the file grew can leave zeros past the last record; anything else is damage
        return "torn" if not data[pos:].strip(b"\x00") else "record header fails its checksum"
    end = pos + HEADER.size + length
    if end > len(data):
        return "torn"
    if zlib.crc32(data[pos + HEADER.size : end]) != crc:
        return "torn" if end == len(data) else "record fails its checksum"
    return None


class WriteAheadLog:
    """Appends framed records to one generation's log file."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size  # end of the last acknowledged record; anything past it is a torn tail to cut off

    def append(self, frame: bytes, fault: Callable[[], None] = lambda: None) -> None:
        """Write ``frame`` after the last record and fsync; on any failure cut the file back to where it was."""
        created = not self.path.exists()
        try:
            with open(self.path, "ab") as fh:
                if fh.tell() != self.size:
                    fh.truncate(self.size)
                fh.write(frame)
                fh.flush()
                fault()
                os.fsync(fh.fileno())
            if created:
                fsync_dir(self.path.parent)
        except BaseException:
            self.cut(self.size)
            raise
        self.size += len(frame)

    def cut(self, size: int) -> None:
        """Truncate the log to ``size`` bytes (best effort: the next append cuts again)."""
        try:
            os.truncate(self.path, size)
            self.size = size
        except OSError:
            log.warning("could not cut index log %s back to %d bytes; the next write will", self.path, size)
