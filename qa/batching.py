"""Micro-batching: concurrent calls from many threads share one call of a batch function."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(eq=False)
class _Request:
    items: list[Any]
    result: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class MicroBatcher:
    """Runs ``fn`` over the items of every caller waiting at the same time, in one call.

    There is no timer: a caller that finds the function idle runs it at once on its own items, so a lone sequential
    caller pays nothing. Callers that arrive while it runs queue up; when it returns, one of them runs ``fn`` once over
    everything queued (up to ``max_items``) and hands each caller its own rows.
    """

    def __init__(self, fn: Callable[[list[Any]], np.ndarray], max_items: int = 64) -> None:
        self.fn = fn
        self.max_items = max_items
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._busy = False
        self.calls = 0  # how many times fn ran (for benchmarks and tests)

    def __call__(self, items: Sequence[Any]) -> np.ndarray:
        req = _Request(list(items))
        with self._cond:
            self._queue.append(req)
        while True:
            with self._cond:
                while self._busy and not req.done:
                    self._cond.wait()
                if req.done:
                    return self._outcome(req)
                batch = self._take()
                self._busy = True
            self._run(batch)

    def _run(self, batch: list[_Request]) -> None:
        try:
            out = self.fn([item for r in batch for item in r.items])
            pos = 0
            for r in batch:
                r.result = out[pos : pos + len(r.items)]
                pos += len(r.items)
        except BaseException as exc:  # every caller in the batch sees the failure
            for r in batch:
                r.error = exc
        finally:
            with self._cond:
                for r in batch:
                    r.done = True
                self._busy = False
                self.calls += 1
                self._cond.notify_all()

    def _take(self) -> list[_Request]:
        """The queued requests to run now: the oldest first, up to ``max_items`` items (at least one request)."""
        batch: list[_Request] = []
        total = 0
        for r in self._queue:
            if batch and total + len(r.items) > self.max_items:
                break
            batch.append(r)
            total += len(r.items)
        del self._queue[: len(batch)]
        return batch

    @staticmethod
    def _outcome(req: _Request) -> np.ndarray:
        if req.error is not None:
            raise req.error
        assert req.result is not None
        return req.result
