"""One writer per index folder across processes: an exclusive, non-blocking flock on the folder itself.

The lock is held by the open file description, so it is released when the process exits or is killed — a SIGKILLed
server never leaves a stale lock behind. Readers (`qa ask`) take no lock: they only read published generations.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from index.errors import IndexLockedError


class WriterLock:
    """Exclusive writer lock on ``index_dir`` (created if missing); ``release`` or process exit frees it. Taking it
    removes temporary files an earlier writer left behind."""

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
        from index.store import remove_leftovers

        remove_leftovers(self.index_dir)  # a killed or failed writer's unpublished files: only a writer may delete

    def release(self) -> None:
        for wait in _BEFORE_RELEASE.pop(str(self.index_dir.resolve()), []):
            wait()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_BEFORE_RELEASE: dict[str, list[Callable[[], None]]] = {}


def before_release(index_dir: Path, wait: Callable[[], None]) -> None:
    """Have ``WriterLock.release`` on ``index_dir`` call ``wait`` first: a background compaction of this process
    must finish before another process may write (it switches ``CURRENT`` and removes the old generation)."""
    _BEFORE_RELEASE.setdefault(str(Path(index_dir).resolve()), []).append(wait)
