"""Bounded load run: ``python -m eval.bench.load [--seconds 60] [--clients 32]``.

Starts ``qa serve`` on 127.0.0.1 over a fresh index of the seed articles in a temp dir, runs ``--clients``
httpx AsyncClient workers for ``--seconds`` with a mixed workload (ask / chat / search, and about 5% adds each
followed by a delete of the same document), and reports requests, errors (must be 0), latency p50/p95/p99 per kind,
throughput and the server's RSS sampled every ``--sample`` seconds, with a verdict on its growth over the second half
of the run. Writes eval/reports/load/report.json and report.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from eval.bench.perf import stats_ms
from eval.bench.perf_http import start_server, stop_server
from eval.report_files import REPORTS, ROOT, git_commit, save_report

OUT = REPORTS / "load"
KINDS = ("ask", "chat", "search", "add", "delete")
FLAT_PCT = 2.0  # second-half RSS growth within this share of the mid-run RSS counts as flat


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "data" / "seed_eval.jsonl").open(encoding="utf-8")]
    return [r["question"] for r in rows if isinstance(r.get("question"), str)]


def rss_mb(pid: int) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def memory_verdict(samples: list[tuple[float, float]]) -> dict:
    """Start / middle / end RSS and the growth over the second half of the run, from (seconds, MB) samples."""
    if not samples:
        return {}
    mid_t = samples[-1][0] / 2
    middle = min(samples, key=lambda s: abs(s[0] - mid_t))[1]
    end, peak = samples[-1][1], max(mb for _, mb in samples)
    growth = round(end - middle, 1)
    return {"start": samples[0][1], "middle": middle, "end": end, "peak": peak,
            "second_half_growth_mb": growth, "second_half_growth_pct": round(100 * growth / middle, 2)}


async def run_load(url: str, pid: int, seconds: float, clients: int, seed: int = 0, sample_s: float = 2.0) -> dict:
    qs = questions()
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    errors: list[str] = []
    samples: list[tuple[float, float]] = []
    counter = 0
    stop_at = time.monotonic() + seconds

    async def call(http: httpx.AsyncClient, kind: str, method: str, path: str, expect: int, **kw: object) -> None:
        t = time.perf_counter()
        try:
            r = await http.request(method, path, **kw)  # type: ignore[arg-type]
            ok = r.status_code == expect
            detail = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            ok, detail = False, repr(exc)
        times[kind].append(time.perf_counter() - t)
        if not ok:
            errors.append(f"{kind} {path}: {detail}")

    async def worker(w: int) -> None:
        nonlocal counter
        rng = random.Random(seed * 1000 + w)
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while time.monotonic() < stop_at:
                roll = rng.random()
                q = rng.choice(qs)
                if roll < 0.05:
                    counter += 1
                    doc_id = f"load_{w}_{counter}"
                    text = (f"Load test article {counter}\n\nThe load festival number {counter} was held in "
                            f"Worker Town {w} in {1800 + counter % 200}.")
                    await call(http, "add", "POST", "/documents", 201,
                               json={"doc_id": doc_id, "title": f"Load test {counter}", "text": text})
                    await call(http, "delete", "DELETE", f"/documents/{doc_id}", 200)
                elif roll < 0.45:
                    await call(http, "ask", "POST", "/ask", 200, json={"question": q})
                elif roll < 0.75:
                    messages = [{"role": "user", "content": rng.choice(qs)},
                                {"role": "assistant", "content": "Noted."}, {"role": "user", "content": q}]
                    await call(http, "chat", "POST", "/chat", 200, json={"messages": messages})
                else:
                    await call(http, "search", "GET", "/search", 200, params={"q": q, "k": 5})

    async def sample_rss() -> None:
        while True:
            samples.append((round(time.perf_counter() - t0, 1), rss_mb(pid)))
            await asyncio.sleep(sample_s)

    t0 = time.perf_counter()
    sampler = asyncio.create_task(sample_rss())
    await asyncio.gather(*(worker(w) for w in range(clients)))
    wall = time.perf_counter() - t0
    sampler.cancel()
    samples.append((round(time.perf_counter() - t0, 1), rss_mb(pid)))
    rss = memory_verdict(samples)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        docs = (await http.get("/documents")).json()
    total = sum(len(v) for v in times.values())
    return {
        "seconds": seconds, "clients": clients, "wall_s": round(wall, 2), "requests": total,
        "errors": len(errors), "error_samples": errors[:10], "throughput_rps": round(total / wall, 2),
        "latency_ms": {k: stats_ms(v) for k, v in times.items()},
        "rss_mb": rss, "rss_growth_mb": round(rss["end"] - rss["start"], 1), "rss_samples": samples,
        "documents_after": sorted(d["doc_id"] for d in docs),
    }


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "commit": git_commit()}


def markdown(r: dict) -> str:
    m = r["rss_mb"]
    flat = abs(m["second_half_growth_pct"]) <= FLAT_PCT
    lines = [
        "# Load run", "",
        f"`python -m eval.bench.load --seconds {r['seconds']:g} --clients {r['clients']}`: `qa serve` on 127.0.0.1 "
        "over a fresh index of the seed articles; mixed workload (~40% ask, ~30% chat, ~25% search, ~5% add followed "
        "by delete of the same document). Machine: "
        f"{r['machine']['cpus']} CPUs (shared with other jobs), Python {r['machine']['python']}; commit "
        f"`{r['machine']['commit']}`.", "",
        f"- requests: {r['requests']:,} in {r['wall_s']} s, throughput {r['throughput_rps']} req/s",
        f"- errors: {r['errors']}",
        f"- server RSS (MB): after one question {m['before_warmup']}; after a {r['warmup_s']:g} s untimed "
        f"warm-up with the same mix: start {m['start']}, middle {m['middle']}, end {m['end']}, peak {m['peak']} "
        f"(whole run {r['rss_growth_mb']:+} MB)",
        f"- memory verdict: {'flat' if flat else 'NOT flat'} — second half {m['second_half_growth_mb']:+} MB "
        f"({m['second_half_growth_pct']:+}%; flat means within {FLAT_PCT}%)",
        f"- RSS every ~{r['sample_s']:g} s (s: MB): " + ", ".join(f"{t:g}: {mb}" for t, mb in r["rss_samples"]),
        f"- documents after the run: {', '.join(r['documents_after'])}", "",
        "| kind | n | p50 ms | p95 ms | p99 ms | mean ms |", "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, s in r["latency_ms"].items():
        if s.get("n"):
            lines.append(f"| {kind} | {s['n']} | {s['p50']} | {s['p95']} | {s['p99']} | {s['mean']} |")
    if r["error_samples"]:
        lines += ["", "Errors (first 10):", *[f"- `{e}`" for e in r["error_samples"]]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=10.0, help="untimed warm-up seconds before the run")
    ap.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        proc, url = start_server(Path(tmp) / "index")
        try:
            # one warm-up question so the first timed request does not pay for lazy initialisation
            httpx.post(url + "/ask", json={"question": questions()[0]}, timeout=120)
            cold_rss = rss_mb(proc.pid)
            # an untimed warm-up with the same mix, so "start" RSS is after thread pools and caches exist
            asyncio.run(run_load(url, proc.pid, args.warmup, args.clients, seed=1))
            report = asyncio.run(run_load(url, proc.pid, args.seconds, args.clients, sample_s=args.sample))
            report["rss_mb"]["before_warmup"] = cold_rss
            report["warmup_s"], report["sample_s"] = args.warmup, args.sample
        finally:
            log = stop_server(proc)
    report["machine"] = machine()
    report["server_log_tail"] = log[-2000:]
    md = markdown(report)
    save_report(args.out, report, md)
    print(md)
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
