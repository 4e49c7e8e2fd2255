"""Bench: how long a delete waits while a large add is being indexed next to it.

`python -m eval.bench.lock_wait [--docs 500] [--deletes 10]`

An index of the seed articles plus ``--deletes`` small articles is built in a temporary folder. Then one thread adds
``--docs`` new articles through the real ``IndexStore.update`` (real embedding model, one log record), and while it
embeds, the main thread deletes the small articles one by one through ``IndexStore.remove``, timing each. The
same deletes are timed on an idle index for comparison. Embedding runs with no lock held (index/STORAGE.md), so
a delete should cost about what it costs idle, not the add's embedding time. Printed: p50 and max of both (only
deletes that finished while the add was still running count as "during"). Times vary with the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from index.documents import Document
from index.embedder import Embedder
from index.ingest import load_files
from index.store import IndexStore

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _article(prefix: str, i: int) -> Document:
    return Document(f"{prefix}_{i:04d}", f"Ferry {i}",
                    f"The ferry number {i} leaves the harbour at {i % 12 + 1} o'clock. It carries {i * 3} "
                    f"passengers to the island of {prefix.title()}{i}. The crossing takes about an hour.")


def _timed_deletes(store: IndexStore, ids: list[str], busy: threading.Event | None = None) -> list[float]:
    """Milliseconds per delete; with ``busy``, only the deletes that finished before it was set."""
    times = []
    for doc_id in ids:
        t = time.perf_counter()
        store.remove(doc_id)
        if busy is not None and busy.is_set():
            break
        times.append((time.perf_counter() - t) * 1000)
    return times


def run(n_docs: int, n_deletes: int) -> dict[str, float]:
    embedder = Embedder()
    with tempfile.TemporaryDirectory(prefix="lock-wait-") as tmp:
        store = IndexStore.open(Path(tmp) / "index", embedder, create=True)
        store.update(load_files([SEEDS]))
        store.add([_article("idle", i) for i in range(n_deletes)] + [_article("busy", i) for i in range(n_deletes)])
        idle = _timed_deletes(store, [f"idle_{i:04d}" for i in range(n_deletes)])

        embedding, added = threading.Event(), threading.Event()

        def add() -> None:
            store.update([_article("bulk", i) for i in range(n_docs)], on_progress=lambda _: embedding.set())
            added.set()

        adder = threading.Thread(target=add)
        adder.start()
        embedding.wait()  # the add's first batch is embedded: it is now well inside its work
        busy = _timed_deletes(store, [f"busy_{i:04d}" for i in range(n_deletes)], added)
        adder.join()
        store.close()
    if not busy:
        raise SystemExit("the add finished before the first delete did: use more --docs")
    return {"idle_p50": statistics.median(idle), "idle_max": max(idle), "busy_p50": statistics.median(busy),
            "busy_max": max(busy), "timed": float(len(busy))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500, help="articles in the large add")
    parser.add_argument("--deletes", type=int, default=10, help="deletes timed idle and during the add")
    args = parser.parse_args(argv)
    r = run(args.docs, args.deletes)
    print(f"delete on an idle index:           p50 {r['idle_p50']:.1f} ms, max {r['idle_max']:.1f} ms")
    print(f"delete during a {args.docs}-document add: p50 {r['busy_p50']:.1f} ms, max {r['busy_max']:.1f} ms "
          f"({int(r['timed'])} deletes, each finished while the add was still running)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
