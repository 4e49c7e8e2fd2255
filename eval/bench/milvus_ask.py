"""What a question costs through the Milvus backend, in process: `python -m eval.bench.milvus_ask`.

SQuAD part A indexed embedded, copied into milvus-lite (vectors copied, ``eval.quality.backends.milvus_copy``); each of
N seeded questions asked one at a time through both services in alternating order, so both see the same machine at
the same moments. Prints `ask` p50 on each backend, their ratio, how many answers and citations agree, and the Milvus
calls a question makes (count and time per collection and kind). ``--workdir`` keeps the indexes for the next run.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.args import positive


def count_calls(client: Any) -> tuple[collections.Counter[str], collections.defaultdict[str, float]]:
    """Wrap ``client.query`` and ``client.search`` to count calls and seconds per ``kind:collection``."""
    calls: collections.Counter[str] = collections.Counter()
    spent: collections.defaultdict[str, float] = collections.defaultdict(float)
    for kind in ("query", "search"):
        real = getattr(client, kind)

        def wrapped(*args: Any, _real: Any = real, _kind: str = kind, **kwargs: Any) -> Any:
            name = args[0] if args else kwargs["collection_name"]
            key = f"{_kind}:{name.split('_', 1)[1]}"
            t = time.perf_counter()
            try:
                return _real(*args, **kwargs)
            finally:
                calls[key] += 1
                spent[key] += time.perf_counter() - t

        setattr(client, kind, wrapped)
    return calls, spent


def run(workdir: Path, n: int, seed: int) -> str:
    from eval.quality.backends import milvus_copy
    from eval.quality.squad import open_service, sample
    from eval.quality.squad_data import load_articles, vendor

    articles = load_articles(vendor())
    questions = [q.question for q in sample([q for a in articles for q in a.questions], n, seed)]
    embedded = open_service(workdir / "squad", [a.doc for a in articles])
    milvus = milvus_copy(embedded, workdir / "squad.db", "squad")
    try:
        calls, spent = count_calls(milvus.store.client)  # type: ignore[attr-defined]
        for q in questions[:5]:  # warm-up, not timed; the timed questions stay uncached
            embedded.ask(q + "?")
            milvus.ask(q + "?")
        calls.clear()
        spent.clear()
        times: tuple[list[float], list[float]] = ([], [])
        same = 0
        for i, q in enumerate(questions):
            answers = {}
            for side in ((0, 1) if i % 2 == 0 else (1, 0)):
                t = time.perf_counter()
                answers[side] = (embedded, milvus)[side].ask(q)
                times[side].append(time.perf_counter() - t)
            same += len({(a.answer, tuple((c.doc_id, c.start, c.end) for c in a.citations))
                         for a in answers.values()}) == 1
    finally:
        milvus.store.close()  # type: ignore[attr-defined]
    e, m, n = statistics.median(times[0]), statistics.median(times[1]), len(questions)
    lines = [f"{n} questions: ask p50 embedded {1e3 * e:.1f} ms, Milvus {1e3 * m:.1f} ms ({m / e:.2f}×); "
             f"the same answer and citations on {same}", f"Milvus calls a question: {sum(calls.values()) / n:.2f}"]
    lines += [f"  {key:20s} {calls[key] / n:5.2f} a question  {1e3 * spent[key] / n:6.2f} ms"
              for key in sorted(calls, key=lambda k: -spent[k])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.milvus_ask", description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=positive, default=80)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=None, help="keep the indexes here (default: a temporary folder)")
    args = p.parse_args(argv)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        print(run(args.workdir, args.questions, args.seed))
    else:
        with tempfile.TemporaryDirectory(prefix="qa-milvus-ask-") as tmp:
            print(run(Path(tmp), args.questions, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
