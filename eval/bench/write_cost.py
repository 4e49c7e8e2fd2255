"""Bench: what one small add or delete costs as the collection grows.

`python -m eval.bench.write_cost [--sizes 1000,10000,100000] [--out DIR]`

For each size N, an index of N small synthetic articles is built and saved, then reopened from disk, and 30 adds of
one small article and 30 deletes go through the real ``IndexStore.add`` / ``IndexStore.remove`` (real embedding
model, log append with fsync, in-memory update). Printed per size: p50/p95 of add and of delete in milliseconds, and
the bytes each wrote (``write_bytes`` of /proc/self/io: what reached the block layer, fsync included).

The bulk is inserted through a direct path to keep the run short: the articles are chunked as usual but get random
unit vectors instead of embeddings (``_bulk``), and the snapshot built from them is written as the base generation
(``index.compaction.write_generation``).
Only the measured writes embed. A report (``write_cost.md``) is written only with ``--out``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.report_files import git_commit
from index.chunking import chunk_document
from index.compaction import write_generation
from index.documents import Document, content_hash
from index.embedder import Embedder
from index.snapshot import DocEntry, IndexSnapshot
from index.store import IndexStore

WRITES = 30
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fe"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def _article(i: int, rng: random.Random) -> Document:
    """A small article: a title and two sentences of made-up words, about 30 words."""
    w = [_word(rng) for _ in range(12)]
    text = (f"The {w[0]} council of {w[1].title()} approved a budget of {i * 7 + 3} dollars on Monday. "
            f"Mayor {w[2].title()} {w[3].title()} said the {w[4]} and {w[5]} money goes to {w[6]} roads "
            f"and {w[7]} schools near {w[8].title()}.")
    return Document(f"bench_{i:07d}", f"{w[9].title()} council approves budget", text)


def _bulk(n: int, dim: int, params: object, rng: random.Random) -> dict[str, DocEntry]:
    """N chunked articles with random unit vectors (the direct path: no embedding)."""
    vec_rng = np.random.default_rng(7)
    entries = {}
    for i in range(n):
        doc = _article(i, rng)
        sentences, chunks = chunk_document(doc.doc_id, doc.text, params, doc.title)  # type: ignore[arg-type]
        vecs = vec_rng.standard_normal((len(sentences), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        entries[doc.doc_id] = DocEntry(doc, content_hash(doc), tuple(sentences), tuple(chunks), vecs)
    return entries


def _write_bytes() -> int:
    with open("/proc/self/io") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("write_bytes"))


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure(n: int, embedder: Embedder, root: Path) -> dict[str, float]:
    rng = random.Random(n)
    folder = root / f"index-{n}"
    store = IndexStore.open(folder, embedder, create=True)
    t0 = time.perf_counter()
    snap = IndexSnapshot.build(_bulk(n, embedder.dim, store.params, rng), embedder.dim)
    # written as a base generation holding write 0, as a compaction writes one
    write_generation(folder, snap, 0, lambda s, seq: {**store.manifest(s), "last_seq": seq})
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store = IndexStore.open(folder, embedder)
    open_s = time.perf_counter() - t0
    store.add([_article(n + 10_000_000, rng)])  # warm-up: first encoder call, first log append
    encode, spent = embedder.encode, [0.0]

    def timed_encode(texts: list[str]) -> np.ndarray:  # the model's share of an add, to report the rest apart
        t = time.perf_counter()
        try:
            return encode(texts)
        finally:
            spent[0] += time.perf_counter() - t

    store.embedder.encode = timed_encode  # type: ignore[method-assign, assignment]
    adds, stored, deletes, add_bytes, del_bytes = [], [], [], [], []
    for k in range(WRITES):
        doc = _article(n + k, rng)
        b, t, spent[0] = _write_bytes(), time.perf_counter(), 0.0
        store.add([doc])
        adds.append((time.perf_counter() - t) * 1e3)
        stored.append(adds[-1] - spent[0] * 1e3)
        add_bytes.append(_write_bytes() - b)
    store.embedder.encode = encode  # type: ignore[method-assign]
    victims = rng.sample(range(n), WRITES)
    for i in victims:
        b, t = _write_bytes(), time.perf_counter()
        store.remove(f"bench_{i:07d}")
        deletes.append((time.perf_counter() - t) * 1e3)
        del_bytes.append(_write_bytes() - b)
    store.wait_for_compaction()
    snap = store.snapshot
    assert len(snap.entries) == n + 1  # 30 added, 30 removed, plus the warm-up add
    return {"documents": n, "sentences": len(snap.sentences), "build_s": build_s, "open_s": open_s,
            "add_p50": _pct(adds, 50), "add_p95": _pct(adds, 95), "store_p50": _pct(stored, 50),
            "store_p95": _pct(stored, 95), "del_p50": _pct(deletes, 50),
            "del_p95": _pct(deletes, 95), "add_bytes": statistics.median(add_bytes),
            "del_bytes": statistics.median(del_bytes)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="collection sizes, comma-separated")
    ap.add_argument("--out", type=Path, help="write DIR/write_cost.md")
    args = ap.parse_args(argv)
    embedder = Embedder()
    header = (f"{'documents':>10} {'sentences':>10} {'add p50':>8} {'add p95':>8} {'-model50':>8} {'-model95':>8} "
              f"{'del p50':>8} {'del p95':>8} {'B/add':>7} {'B/del':>6} {'build s':>8} {'open s':>7}")
    lines = [f"python -m eval.bench.write_cost --sizes {args.sizes}   (commit {git_commit()}, load average "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start)", "",
             "times in ms; -model = an add without the embedding model's time (log append + fsync + memory); "
             "B = bytes written per write", "", header]
    print(header, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            r = measure(n, embedder, Path(tmp))
            line = " ".join([f"{r['documents']:>10,}", f"{r['sentences']:>10,}",
                             *(f"{r[k]:>8.1f}" for k in ("add_p50", "add_p95", "store_p50", "store_p95", "del_p50",
                                                          "del_p95")),
                             f"{r['add_bytes']:>7,.0f}", f"{r['del_bytes']:>6,.0f}", f"{r['build_s']:>8.1f}",
                             f"{r['open_s']:>7.1f}"])
            lines.append(line)
            print(line, flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "write_cost.md").write_text("```\n" + "\n".join(lines) + "\n```\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
