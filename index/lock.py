"""One writer per index folder across processes: an exclusive, non-blocking flock on the folder itself.

The lock is held by the open file description, so it is released when the process exits or is killed — a SIGKILLed
server never leaves a stale lock behind. Readers (`qa ask`) take no lock: they only read published generations and
never write. ``IndexStore.open(..., writer=True)`` takes this lock; its ``close()`` releases it once a running
compaction has ended.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from index.errors import IndexLockedError


class WriterLock:
    """Exclusive writer lock on ``index_dir`` (created if missing); ``release`` or process exit frees it."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.index_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._fd)
            self._fd = None
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise IndexLockedError(
                    f"index {self.index_dir} is being written by another process (a running `qa serve` or "
                    f"`qa index`); send documents through the server with `qa index PATH --url http://HOST:PORT`, "
                    "or stop it first"
                ) from None
            raise

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

