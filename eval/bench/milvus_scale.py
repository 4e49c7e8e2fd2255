"""Milvus backend at scale, per node: synthetic sentence and passage rows in this backend's own schema (milvus-lite,
FLAT and the BM25 Function), timing inserts, dense and BM25 searches as retrieval issues them, with the engine's
memory and disk. The figures feed docs/scale-out.md's capacity model.

`python -m eval.bench.milvus_scale --sentences 100000 --out eval/reports/milvus_scale` (loaded machines: say so).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psutil

from eval.report_files import git_commit, save_report
from index.milvus_schema import schemas

SENTENCES_PER_PASSAGE = 3  # the seeds: 50 sentences, 23 passages with one sentence of overlap
VOCAB = 50_000
TERMS_PER_PASSAGE = 60
BATCH = 1_000


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(n_sentences: int, queries: int, dim: int = 384, seed: int = 0) -> dict:
    import logging

    logging.getLogger("pymilvus").setLevel(logging.ERROR)
    from pymilvus import MilvusClient

    from index.milvus import start_lite

    rng = np.random.default_rng(seed)
    zipf = rng.zipf(1.3, size=(n_sentences // SENTENCES_PER_PASSAGE + 1) * TERMS_PER_PASSAGE) % VOCAB
    with tempfile.TemporaryDirectory(prefix="qa-milvus-scale-") as tmp:
        engine, uri = start_lite(Path(tmp) / "scale.db")
        client = MilvusClient(uri=uri)
        defs = schemas(client, dim)
        for key in ("sentences", "passages"):
            client.create_collection(f"s_{key}", schema=defs[key][0], index_params=defs[key][1],
                                     consistency_level="Strong")
        n_pass = n_sentences // SENTENCES_PER_PASSAGE
        start = time.perf_counter()
        for lo in range(0, n_sentences, BATCH):
            vecs = rng.standard_normal((min(BATCH, n_sentences - lo), dim)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            client.insert("s_sentences", [
                {"pk": f"d{(lo + i) // 30}:v:{lo + i}", "doc_id": f"d{(lo + i) // 30}", "version": "v", "idx": i,
                 "p_first": 0, "p_last": 0, "published": f"2021-{(lo + i) % 12 + 1:02d}-01", "sources": "|",
                 "doc_key": "", "vector": v.tolist()} for i, v in enumerate(vecs)])
        sentence_s = time.perf_counter() - start
        start = time.perf_counter()
        for lo in range(0, n_pass, BATCH):
            client.insert("s_passages", [
                {"pk": f"p{p}", "doc_id": f"d{p // 10}", "version": "v", "idx": p, "published": "2021-01-01",
                 "sources": "|", "doc_key": "",
                 "lexical": " ".join(f"t{t}" for t in zipf[p * TERMS_PER_PASSAGE:(p + 1) * TERMS_PER_PASSAGE])}
                for p in range(lo, min(n_pass, lo + BATCH))])
        passage_s = time.perf_counter() - start
        qv = rng.standard_normal((queries, dim)).astype(np.float32)
        qv /= np.linalg.norm(qv, axis=1, keepdims=True)
        dense, dense_f, lexical = [], [], []
        for i in range(queries):
            t = time.perf_counter()
            client.search("s_sentences", data=[qv[i].tolist()], anns_field="vector", limit=200,
                          output_fields=["doc_id", "version", "p_first", "p_last"], search_params={"metric_type": "IP"})
            dense.append(time.perf_counter() - t)
            t = time.perf_counter()
            client.search("s_sentences", data=[qv[i].tolist()], anns_field="vector", limit=200,
                          filter='published != "" and published >= "2021-06-01"',
                          output_fields=["doc_id", "version", "p_first", "p_last"], search_params={"metric_type": "IP"})
            dense_f.append(time.perf_counter() - t)
            words = " ".join(f"t{t}" for t in rng.zipf(1.3, size=6) % VOCAB)
            t = time.perf_counter()
            client.search("s_passages", data=[words], anns_field="sparse", limit=200,
                          output_fields=["doc_id", "version", "idx"], search_params={"metric_type": "BM25"})
            lexical.append(time.perf_counter() - t)
        rss = psutil.Process(engine._p.pid).memory_info().rss
        client.close()
        engine.stop()
        disk = _dir_size(Path(tmp))

    def ms(xs: Sequence[float], q: float) -> float:
        return round(1000 * float(np.quantile(xs, q)), 2)

    return {"sentences": n_sentences, "passages": n_pass, "dim": dim,
            "insert_rows_per_s": {"sentences": round(n_sentences / sentence_s), "passages": round(n_pass / passage_s)},
            "search_ms": {"dense_p50": ms(dense, 0.5), "dense_p95": ms(dense, 0.95),
                          "dense_filtered_p50": ms(dense_f, 0.5), "bm25_p50": ms(lexical, 0.5),
                          "bm25_p95": ms(lexical, 0.95), "mean_total": round(1000 * statistics.mean(
                              [a + b for a, b in zip(dense, lexical, strict=True)]), 2)},
            "engine_rss_mb": round(rss / 2**20), "disk_mb": round(disk / 2**20), "queries": queries}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.milvus_scale", description=__doc__)
    p.add_argument("--sentences", type=int, nargs="+", default=[100_000])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    load_start = os.getloadavg()
    runs = [run(n, args.queries) for n in args.sentences]
    load = f"load average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end (1 minute; 2 cores)"
    meta: dict[str, str] = {"commit": git_commit(), "date": datetime.date.today().isoformat(),
                            "engine": "milvus-lite 2.5.1 (FLAT, SPARSE_INVERTED_INDEX/BM25)", "machine": load,
                            "command": "python -m eval.bench.milvus_scale " + " ".join(
                                argv if argv is not None else sys.argv[1:])}
    result = {"runs": runs, "meta": meta}
    lines = ["# Milvus backend per node (milvus-lite)", "",
             f"Commit {meta['commit']}, {meta['date']}; {meta['machine']}. "
             f"Command: `{meta['command']}`.", "",
             "| sentences | passages | insert sentences/s | dense p50 ms | dense+filter p50 ms | BM25 p50 ms | "
             "engine RSS MB | disk MB |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        s = r["search_ms"]
        lines.append(f"| {r['sentences']:,} | {r['passages']:,} | {r['insert_rows_per_s']['sentences']:,} | "
                     f"{s['dense_p50']} | {s['dense_filtered_p50']} | {s['bm25_p50']} | {r['engine_rss_mb']:,} | "
                     f"{r['disk_mb']:,} |")
    report = "\n".join(lines) + "\n"
    if args.out is not None:
        save_report(args.out, result, report)
    print(report)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
