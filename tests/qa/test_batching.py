"""MicroBatcher: a lone caller runs at once; callers arriving meanwhile share one call and get their own rows."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from qa.batching import MicroBatcher


def _rows(items: list[int]) -> np.ndarray:
    return np.asarray([[i, i * 10] for i in items], dtype=np.float32)


def test_lone_caller_runs_immediately_with_its_own_items() -> None:
    seen: list[list[int]] = []
    batcher = MicroBatcher(lambda items: (seen.append(items), _rows(items))[1])
    out = batcher([3, 4])
    assert out.tolist() == [[3, 30], [4, 40]]
    assert seen == [[3, 4]]
    assert batcher.calls == 1


def _blocked_batcher(max_items: int = 64) -> tuple[MicroBatcher, list[list[int]], threading.Event, threading.Event]:
    """A batcher whose first call blocks until released, so later callers queue behind it."""
    seen: list[list[int]] = []
    started, release = threading.Event(), threading.Event()

    def fn(items: list[int]) -> np.ndarray:
        seen.append(items)
        if len(seen) == 1:
            started.set()
            release.wait(5)
        return _rows(items)

    return MicroBatcher(fn, max_items=max_items), seen, started, release


def _wait_queued(batcher: MicroBatcher, n: int) -> None:
    deadline = time.monotonic() + 5
    while len(batcher._queue) < n and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(batcher._queue) == n


def _call_in_threads(batcher: MicroBatcher, inputs: list[list[int]], results: dict) -> list[threading.Thread]:
    threads = [threading.Thread(target=lambda i=i, x=x: results.__setitem__(i, batcher(x))) for i, x in
               enumerate(inputs)]
    for t in threads:
        t.start()
    return threads


def test_callers_waiting_behind_a_running_call_share_the_next_call() -> None:
    batcher, seen, started, release = _blocked_batcher()
    results: dict[int, np.ndarray] = {}
    first = _call_in_threads(batcher, [[1]], results)
    assert started.wait(5)
    rest = _call_in_threads(batcher, [[2], [3, 4], [5]], {})
    _wait_queued(batcher, 3)
    release.set()
    for t in first + rest:
        t.join(5)
    assert seen[0] == [1]
    assert sorted(seen[1]) == [2, 3, 4, 5] and len(seen) == 2
    assert batcher.calls == 2
    assert results[0].tolist() == [[1, 10]]


def test_each_caller_gets_exactly_its_rows() -> None:
    batcher, _, started, release = _blocked_batcher()
    results: dict[int, np.ndarray] = {}
    first = _call_in_threads(batcher, [[0]], {})
    assert started.wait(5)
    inputs = [[1, 2], [3], [4, 5, 6]]
    rest = _call_in_threads(batcher, inputs, results)
    _wait_queued(batcher, 3)
    release.set()
    for t in first + rest:
        t.join(5)
    assert {i: r[:, 0].tolist() for i, r in results.items()} == {0: [1, 2], 1: [3], 2: [4, 5, 6]}


def test_queued_items_are_split_at_max_items() -> None:
    batcher, seen, started, release = _blocked_batcher(max_items=3)
    first = _call_in_threads(batcher, [[0]], {})
    assert started.wait(5)
    rest = _call_in_threads(batcher, [[1, 2], [3, 4], [5]], {})
    _wait_queued(batcher, 3)
    release.set()
    for t in first + rest:
        t.join(5)
    assert all(len(items) <= 3 for items in seen[1:])
    assert sorted(i for items in seen[1:] for i in items) == [1, 2, 3, 4, 5]


def test_an_error_reaches_the_caller_and_the_batcher_recovers() -> None:
    def fn(items: list[int]) -> np.ndarray:
        if -1 in items:
            raise ValueError("bad item -1")
        return _rows(items)

    batcher = MicroBatcher(fn)
    with pytest.raises(ValueError, match="bad item -1"):
        batcher([-1])
    assert batcher([7]).tolist() == [[7, 70]]
