"""Does memory stop growing under endless writes? `python -m eval.bench.write_memory [--windows 6] [--cycles 2500]`.

In one process, over a fresh index of the seeds: add a small article with never-seen words (a new number each time)
and delete it again, window after window, and print per window the growth of the Python heap (tracemalloc) and of the
process RSS. Bounded caches (PyStemmer's 10,000-word stem cache, the allocator's arenas) fill during the first
windows; a leak would keep every window growing. Writes eval/reports/load/write_memory.txt.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import tracemalloc
from pathlib import Path

import psutil

from eval.report_files import REPORTS, ROOT

OUT = REPORTS / "load" / "write_memory.txt"


def main(argv: list[str] | None = None) -> int:
    from index.documents import Document
    from qa.config import Settings
    from qa.service import QAService

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=6)
    ap.add_argument("--cycles", type=int, default=2500, help="add + delete pairs per window")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", seeds_dir=ROOT / "seeds")
        service = QAService.from_settings(settings, build_from_seeds=True)
        tracemalloc.start(1)
        lines = [f"python -m eval.bench.write_memory --windows {args.windows} --cycles {args.cycles}"]
        n = 0
        for _ in range(args.windows):
            gc.collect()
            heap, rss = tracemalloc.get_traced_memory()[0], psutil.Process().memory_info().rss
            for _ in range(args.cycles):
                text = (f"Load test article {n}\n\nThe load festival number {n} was held in Worker Town {n % 32} "
                        f"in {1800 + n % 200}.")
                service.add_documents([Document(f"load_{n}", f"Load test {n}", text)])
                service.delete_document(f"load_{n}")
                n += 1
            gc.collect()
            lines.append(f"writes {n - args.cycles}-{n}: python heap "
                         f"{(tracemalloc.get_traced_memory()[0] - heap) / 1024:+.0f} KB, rss "
                         f"{(psutil.Process().memory_info().rss - rss) / 2**20:+.2f} MB")
            print(lines[-1], flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
