"""The write-ahead log of a generation: one framed record per acknowledged write, replayed over the base at open.

Frame: a 12-byte header (payload length, crc32 of the payload, crc32 of those 8 bytes; little-endian u32 each)
followed by the payload. Payload: a u32 length, that many bytes of UTF-8 JSON ``{"seq": n, "removed": [doc ids],
"docs": [stored records]}``, then the float32 sentence vectors of those documents in order. ``seq`` numbers the
writes of an index one after another across generations. A record is appended and fsynced, then its number is
written to the generation's ``acked`` side record and fsynced, and only then is the write acknowledged; so a log
that ends before the acknowledged number was truncated, deleted or damaged, and is refused. See index/STORAGE.md.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index import faults
from index.durable import fsync_dir
from index.records import entry_of, stored_record
from index.snapshot import DocEntry

log = logging.getLogger(__name__)

LOG_FILE = "log"

HEADER = struct.Struct("<III")
LENGTH = struct.Struct("<I")
ACKED_FILE = "acked"  # the generation's side record: the number of the last acknowledged write
SLOT = struct.Struct("<QI4x")  # two slots (seq, crc32 of its 8 bytes): write n goes to slot n % 2


@dataclass(frozen=True, slots=True)
class Change:
    """One write: the documents it removes (replaced ones included) and the ones it adds."""

    removed: tuple[str, ...]
    added: tuple[DocEntry, ...]


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a log: its write number, its bytes as framed on disk and the write it holds."""

    seq: int
    frame: bytes
    change: Change


@dataclass(frozen=True, slots=True)
class LogContents:
    """The intact records of a log, the byte length they end at, and how many bytes past them are a torn tail."""

    records: list[Record]
    end: int
    torn: int

    def last_seq(self, base_seq: int) -> int:
        return self.records[-1].seq if self.records else base_seq


class LogCorruptError(ValueError):
    """Acknowledged writes are missing or damaged: a record before the last fails its checksum or does not decode,
    records are out of sequence, or the log ends before the last acknowledged write."""


def encode(change: Change, seq: int) -> bytes:
    """The framed record of ``change`` as write number ``seq``."""
    body = json.dumps({"seq": seq, "removed": list(change.removed), "docs": [stored_record(e) for e in change.added]},
                      ensure_ascii=False).encode("utf-8")
    vecs = [np.ascontiguousarray(e.vectors, dtype="<f4") for e in change.added]
    payload = b"".join([LENGTH.pack(len(body)), body, *(v.tobytes() for v in vecs)])
    crc = zlib.crc32(payload)
    head = struct.pack("<II", len(payload), crc)
    return head + LENGTH.pack(zlib.crc32(head)) + payload


def decode(payload: bytes, dim: int) -> tuple[int | None, Change]:
    """The write number (None in logs written before records were numbered) and the change of a payload."""
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
    seq = body.get("seq")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
        raise ValueError(f"record number {seq!r} is not an integer")
    return seq, Change(tuple(str(d) for d in body["removed"]), tuple(added))


def read(path: Path, dim: int, base_seq: int | None) -> LogContents:
    """The log's intact records, numbered on from ``base_seq`` (the last write the base holds; None: from the first
    record's own number, for a generation whose manifest is unreadable). A damaged tail — a
    record cut short, zeros, or a last record failing its checksum, as a crash mid-append leaves — is reported in
    ``torn``, not raised: whether it was acknowledged is for the caller to check against the ``acked`` record.
    Damage before the last record, or records out of sequence, raise LogCorruptError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return LogContents([], 0, 0)
    out: list[Record] = []
    pos, expected = 0, None if base_seq is None else base_seq + 1
    while pos < len(data):
        problem = _check(data, pos)
        if problem == "torn":
            return LogContents(out, pos, len(data) - pos)
        if problem:
            raise LogCorruptError(f"index log {path} is damaged at byte {pos} ({problem})")
        (length, _, _) = HEADER.unpack_from(data, pos)
        end = pos + HEADER.size + length
        try:
            seq, change = decode(data[pos + HEADER.size : end], dim)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise LogCorruptError(f"index log {path} has an undecodable record at byte {pos} ({exc})") from None
        if expected is None:
            if seq is None:
                raise LogCorruptError(f"index log {path} has unnumbered records and no readable manifest")
            expected = seq
        if seq is not None and seq != expected:
            raise LogCorruptError(f"index log {path} holds write {seq} at byte {pos} where write {expected} belongs "
                                  "(records lost or out of order)")
        out.append(Record(expected, data[pos:end], change))
        pos, expected = end, expected + 1
    return LogContents(out, pos, 0)


def verify(path: Path, contents: LogContents, base_seq: int, acked: int | None) -> None:
    """Refuse a log that ends before the last acknowledged write (``acked``; None for a generation written before
    the side record existed, which cannot be checked). One whole record past it is a write that was fsynced but
    never acknowledged (killed in between): it stays, as a cut-off write may be wholly there or wholly absent."""
    last = contents.last_seq(base_seq)
    if acked is not None and last < acked:
        what = "is missing" if not path.exists() else ("is truncated or damaged" if contents.torn or last > base_seq
                                                        else "is empty or truncated")
        raise LogCorruptError(f"index log {path} {what}: it ends at write {last} but write {acked} was acknowledged")


def count_records(path: Path) -> int:
    """How many intact records the log holds, by their framing alone (no decoding); 0 when it has none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    pos = count = 0
    while pos < len(data) and _check(data, pos) is None:
        pos += HEADER.size + HEADER.unpack_from(data, pos)[0]
        count += 1
    return count


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


def read_acked(folder: Path) -> int | None:
    """The number of the last acknowledged write of generation ``folder``; None when it has no side record."""
    try:
        data = (folder / ACKED_FILE).read_bytes()
    except FileNotFoundError:
        return None
    found = []
    for i in range(2):
        if len(data) >= SLOT.size * (i + 1):
            seq, crc = SLOT.unpack_from(data, SLOT.size * i)
            if zlib.crc32(seq.to_bytes(8, "little")) == crc:
                found.append(seq)
    if not found:
        raise LogCorruptError(f"index side record {folder / ACKED_FILE} is damaged")
    return max(found)


def write_acked(folder: Path, seq: int, both: bool = False) -> None:
    """Record ``seq`` as the last acknowledged write, fsynced. Alternating slots keep the previous number intact
    should this write be torn; ``both`` writes it into both slots (a new generation, or taking a write back)."""
    slot = SLOT.pack(seq, zlib.crc32(seq.to_bytes(8, "little")))
    fd = os.open(folder / ACKED_FILE, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, slot + slot if both else slot, 0 if both else SLOT.size * (seq % 2))
        os.fsync(fd)
    finally:
        os.close(fd)


class WriteAheadLog:
    """Appends numbered records to one generation's log and acknowledges them in its side record."""

    def __init__(self, folder: Path, size: int, seq: int) -> None:
        self.folder = folder
        self.path = folder / LOG_FILE
        self.size = size  # end of the last acknowledged record; anything past it is a torn tail to cut off
        self.seq = seq  # the last acknowledged write

    def append(self, change: Change) -> bytes:
        """Write ``change`` as the next record, fsync it, then acknowledge it in the side record; on any failure
        cut the log back (and restore the side record), so disk is as before. Returns the frame written."""
        frame = encode(change, self.seq + 1)
        created = not (self.path.exists() and (self.folder / ACKED_FILE).exists())
        try:
            with open(self.path, "ab") as fh:
                if fh.tell() != self.size:
                    fh.truncate(self.size)
                fh.write(frame)
                fh.flush()
                faults.fail("write")
                os.fsync(fh.fileno())
        except BaseException:
            self.cut(self.size)
            raise
        try:
            write_acked(self.folder, self.seq + 1)
            if created:  # a new log or side record: its folder entry must survive a power loss too
                fsync_dir(self.folder)
        except BaseException:
            self._take_back(self.size)
            raise
        self.size += len(frame)
        self.seq += 1
        return frame

    def undo(self, frame: bytes) -> None:
        """Take back the last append (its change could not be applied in memory, so it was never acknowledged)."""
        self.seq -= 1
        self._take_back(self.size - len(frame))

    def _take_back(self, size: int) -> None:
        """Acknowledge ``self.seq`` again in both slots, then cut the log back to ``size`` bytes."""
        try:
            write_acked(self.folder, self.seq, both=True)
        finally:
            self.cut(size)

    def cut(self, size: int) -> None:
        """Truncate the log to ``size`` bytes (best effort: the next append cuts again)."""
        try:
            os.truncate(self.path, size)
            self.size = size
        except OSError:
            log.warning("could not cut index log %s back to %d bytes; the next write will", self.path, size)
