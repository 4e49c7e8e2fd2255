"""Scale benchmark: the large-collection FAISS index on 1 million synthetic 384-d vectors
(`python -m eval.bench.scale`).

Vectors are unit-length points scattered around a few thousand topic centres (clustered like sentence embeddings of
news), generated chunk by chunk from fixed seeds so the exact ground truth can be recomputed without holding a second
copy in memory. Reports build time, resident memory, single-query latency and recall@10 against exact search for the
index that `index.snapshot.faiss_spec` chooses at this size, over a range of ``nprobe`` values.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import psutil

from eval.report_files import REPORTS, save_report
from index.snapshot import IVF_NPROBE, build_faiss, faiss_spec, set_search_params, spec_of

DIM = 384
CHUNK = 50_000
TARGETS = {"p50_ms": 20.0, "recall_at_10": 0.95, "memory_gb": 2.0}
REPORT_DIR = REPORTS / "scale"


def centres(n_topics: int, per_topic: int = 10, seed: int = 7) -> np.ndarray:
    """Sub-topic centres grouped under broad topics, so neighbouring clusters overlap as news topics do."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((n_topics, DIM), dtype=np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    subs = rng.standard_normal((n_topics * per_topic, DIM), dtype=np.float32)
    subs /= np.linalg.norm(subs, axis=1, keepdims=True)
    c = np.repeat(topics, per_topic, axis=0) + 0.8 * subs
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def sample(cents: np.ndarray, n: int, seed: int, spread: float = 1.0) -> np.ndarray:
    """``n`` unit vectors: a random centre with a random weight in [0.3, 1.2] plus isotropic noise."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(cents), n)
    weight = rng.uniform(0.3, 1.2, (n, 1)).astype(np.float32)
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x *= spread / np.sqrt(DIM)
    x += weight * cents[which]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def chunk(cents: np.ndarray, i: int) -> np.ndarray:
    return sample(cents, CHUNK, seed=1000 + i)


def exact_top(cents: np.ndarray, n_chunks: int, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids by brute force over regenerated chunks."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for c in range(n_chunks):
        scores = queries @ chunk(cents, c).T
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        s = np.take_along_axis(scores, part, axis=1)
        all_s = np.hstack([best_s, s])
        all_i = np.hstack([best_i, part + c * CHUNK])
        order = np.argsort(-all_s, axis=1)[:, :k]
        best_s = np.take_along_axis(all_s, order, axis=1)
        best_i = np.take_along_axis(all_i, order, axis=1)
    return best_i


def rss_gb() -> float:
    return psutil.Process().memory_info().rss / 1e9


def run(n: int, n_queries: int, n_clusters: int, nprobes: list[int]) -> dict:
    faiss.omp_set_num_threads(2)
    n_chunks = n // CHUNK
    cents = centres(n_clusters)
    queries = sample(cents, n_queries, seed=99)
    base_rss = rss_gb()
    spec = faiss_spec(n)
    t0 = time.perf_counter()
    train = sample(cents, min(n, 64 * 1024), seed=5)
    index = build_faiss(train[:0], spec, train=train)
    del train
    for c in range(n_chunks):
        x = chunk(cents, c)
        index.add_with_ids(x, np.arange(c * CHUNK, (c + 1) * CHUNK, dtype=np.int64))
    build_s = time.perf_counter() - t0
    index_rss = rss_gb()
    t0 = time.perf_counter()
    truth = exact_top(cents, n_chunks, queries, 10)
    truth_s = time.perf_counter() - t0
    sweeps = []
    faiss.omp_set_num_threads(1)  # one query at a time: threads only add synchronisation
    for nprobe in nprobes:
        set_search_params(index, nprobe=nprobe)
        index.search(queries[:5], 10)
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], 10)
            times.append(time.perf_counter() - t)
            found.append(ids[0])
        recall = float(np.mean([len(set(f) & set(g)) / 10 for f, g in zip(found, truth, strict=True)]))
        ms = sorted(1e3 * t for t in times)
        sweeps.append({"nprobe": nprobe, "recall_at_10": round(recall, 4), "p50_ms": round(statistics.median(ms), 3),
                       "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3)})
        print(f"  nprobe={nprobe:4d} recall@10={recall:.4f} p50={statistics.median(ms):.2f} ms")
    chosen = next((s for s in sweeps if s["nprobe"] == IVF_NPROBE), sweeps[-1])
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    return {
        "vectors": n, "dim": DIM, "clusters": n_clusters, "queries": n_queries, "faiss_spec": spec,
        "build_seconds": round(build_s, 2), "exact_search_seconds_all_queries": round(truth_s, 2),
        "memory_gb": {"rss_before_index": round(base_rss, 3), "rss_with_index": round(index_rss, 3),
                      "index_only": round(index_rss - base_rss, 3), "peak_rss": round(peak_gb, 3)},
        "sweep": sweeps, "chosen": chosen, "service_nprobe": IVF_NPROBE, "built_spec": spec_of(index),
    }


def markdown(r: dict) -> str:
    ch, mem = r["chosen"], r["memory_gb"]

    def ok(flag: bool) -> str:
        return "met" if flag else "NOT met"

    lines = [
        "# Scale benchmark — FAISS at 1M vectors",
        "",
        f"Generated {r['generated']} by `{r['command']}` on {r['machine']}. The machine is shared with other "
        "processes, so absolute times are noisy; rerun to compare.",
        "",
        f"{r['vectors']:,} synthetic {r['dim']}-d unit vectors around {r['clusters']:,} topics x 10 sub-topics "
        "(centre weight 0.3-1.2, noise norm 1); "
        f"{r['queries']} held-out queries from the same distribution; ground truth by exact inner-product search.",
        f"Index: `{r['faiss_spec']}` (the spec `index.snapshot.faiss_spec` picks at this size), added with ids so "
        "single documents can be added or removed without a rebuild.",
        "",
        "| figure | value | target | |",
        "|---|---|---|---|",
        f"| build time (train + add) | {r['build_seconds']} s | — | |",
        f"| memory: index in RSS | {mem['index_only']} GB | ≤ {TARGETS['memory_gb']} GB | "
        f"{ok(mem['index_only'] <= TARGETS['memory_gb'])} |",
        f"| memory: process peak RSS | {mem['peak_rss']} GB | ≤ {TARGETS['memory_gb']} GB | "
        f"{ok(mem['peak_rss'] <= TARGETS['memory_gb'])} |",
        f"| single-query p50 (nprobe={ch['nprobe']}) | {ch['p50_ms']} ms | ≤ {TARGETS['p50_ms']} ms | "
        f"{ok(ch['p50_ms'] <= TARGETS['p50_ms'])} |",
        f"| recall@10 vs exact (nprobe={ch['nprobe']}) | {ch['recall_at_10']} | ≥ {TARGETS['recall_at_10']} | "
        f"{ok(ch['recall_at_10'] >= TARGETS['recall_at_10'])} |",
        "",
        "## nprobe sweep",
        "",
        "| nprobe | recall@10 | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s['nprobe']} | {s['recall_at_10']} | {s['p50_ms']} | {s['p95_ms']} |" for s in r["sweep"]]
    lines += ["", f"The targets table uses nprobe={r['service_nprobe']}, what the service searches with "
              "(`index.snapshot.IVF_NPROBE`).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, default=1_000_000, help="multiple of 50,000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--clusters", type=int, default=1000, help="broad topics, 10 sub-topics each")
    ap.add_argument("--nprobe", default="8,16,32,64,128")
    ap.add_argument("--out", type=Path, default=REPORT_DIR)
    args = ap.parse_args(argv)
    r = run(args.vectors, args.queries, args.clusters, [int(x) for x in args.nprobe.split(",")])
    r["generated"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    r["command"] = "python -m eval.bench.scale " + " ".join(argv if argv is not None else [])
    r["machine"] = f"{platform.machine()}, {psutil.cpu_count()} CPUs, faiss {faiss.__version__}"
    md = markdown(r)
    save_report(args.out, r, md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
