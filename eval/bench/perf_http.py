"""HTTP side of the performance benchmark: a real `qa serve` subprocess and a bounded async load generator."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qa_command() -> list[str]:
    """The `qa` console script next to this interpreter, or the CLI module through it."""
    script = Path(sys.executable).with_name("qa")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from api.cli import main; main()"]


def start_server(index_dir: Path, threads: int | None = None, timeout: float = 180.0,
                 settings: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start `qa serve` on 127.0.0.1 over ``index_dir`` (or the backend ``settings`` name, as ``QA_*`` variables);
    returns the process and base URL once /health answers."""
    port = free_port()
    env = dict(os.environ, QA_INDEX_DIR=str(index_dir), **(settings or {}))
    if threads:
        env["QA_THREADS"] = str(threads)
    proc = subprocess.Popen(qa_command() + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                            "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"qa serve exited with {proc.returncode}: {err[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"qa serve did not answer /health within {timeout:.0f} s")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[str]) -> str:
    """Terminate the server (kill after 15 s) and return what it wrote to stderr."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def sequential(url: str, questions: Sequence[str]) -> tuple[list[float], int]:
    """Latency of each POST /ask, one at a time over a kept-alive connection; and the error count."""
    times, errors = [], 0
    with httpx.Client(base_url=url, timeout=30) as client:
        for q in questions:
            t = time.perf_counter()
            try:
                ok = client.post("/ask", json={"question": q}).status_code == 200
            except httpx.HTTPError:
                ok = False
            times.append(time.perf_counter() - t)
            errors += not ok
    return times, errors


def concurrent(url: str, questions: Sequence[str], clients: int, max_seconds: float) -> dict:
    """``clients`` concurrent clients sending the questions until they run out or time is up."""
    return asyncio.run(_concurrent(url, list(questions), clients, max_seconds))


async def _concurrent(url: str, questions: list[str], clients: int, max_seconds: float) -> dict:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for q in questions:
        queue.put_nowait(q)
    times: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    start = time.perf_counter()
    deadline = start + max_seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            try:
                q = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t = time.perf_counter()
            try:
                r = await client.post("/ask", json={"question": q})
                if r.status_code != 200:
                    errors.append(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            times.append(time.perf_counter() - t)

    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return {"times": times, "errors": len(errors), "error_kinds": sorted(set(errors)), "elapsed": elapsed,
            "requests": len(times), "throughput_rps": len(times) / elapsed if elapsed else 0.0}


def cold_start(index_dir: Path, question: str) -> float:
    """Seconds from launching `qa ask --json` to its answer on stdout (imports, model and index load, one answer)."""
    env = dict(os.environ, QA_INDEX_DIR=str(index_dir))
    t = time.perf_counter()
    subprocess.run(qa_command() + ["ask", question, "--json"], env=env, check=True, capture_output=True)
    return time.perf_counter() - t
