"""Fault injection for the crash and full-disk tests, behind one switch: the ``QA_TEST_FAULTS`` environment variable.

No other product module reads a ``QA_TEST_*`` variable. The switch holds comma-separated ``name=value`` pairs:

- ``fail=write``: a write fails with ENOSPC, as a full disk would (a log append after its bytes are written, before
  the fsync; a generation after its base files are written).
- ``pause=POINT``: the process prints ``paused at POINT`` to stderr and sleeps, so a test can SIGKILL it exactly there.
  POINT is ``embed`` (a batch embedded, nothing written), ``append`` (a log record fsynced, not yet applied),
  ``save`` (a compaction's new generation written as ``gen-N.tmp``), ``switch`` (renamed to ``gen-N``, ``CURRENT``
  not yet switched) or ``job-batch`` (a background job about to write its next batch; its upload is journaled).
- ``compact_at_bytes=N``: compact once the log holds N bytes, whatever the base's size.

Unset (the normal case) every hook does nothing. The variable is read at each call, so a test may set it mid-run.
"""

from __future__ import annotations

import errno
import os
import sys
import time

SWITCH = "QA_TEST_FAULTS"
PAUSE_SECONDS = 600  # a paused process is SIGKILLed by its test long before this


def _faults() -> dict[str, str]:
    pairs = (part.split("=", 1) for part in os.environ.get(SWITCH, "").split(",") if "=" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def fail(point: str) -> None:
    """Raise ENOSPC at ``point`` when the switch says ``fail=point``."""
    if _faults().get("fail") == point:
        raise OSError(errno.ENOSPC, f"No space left on device (injected by {SWITCH})")


def pause(point: str) -> None:
    """Hold the process at ``point`` when the switch says ``pause=point``."""
    if _faults().get("pause") == point:
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(PAUSE_SECONDS)


def compact_at_bytes() -> int | None:
    """The log size that forces a compaction, when the switch sets one."""
    value = _faults().get("compact_at_bytes")
    return int(value) if value else None
