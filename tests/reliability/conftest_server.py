"""A real `qa serve` subprocess on 127.0.0.1 over a private index copy, for tests that need a second process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
QA = ROOT / ".venv" / "bin" / "qa"


def env_for(index_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(settings, QA_INDEX_DIR=str(index_dir))
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(index_dir: Path, **settings: str) -> Iterator[tuple[Path, str]]:
    """Start `qa serve`, wait until /health answers (bounded), yield (index_dir, url), then SIGKILL it."""
    for _, url in serve_process(index_dir, **settings):
        yield index_dir, url


def serve_process(index_dir: Path, **settings: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """As ``serve``, yielding the server process (to measure it) and its url."""
    port = free_port()
    proc = subprocess.Popen([str(QA), "serve", "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                            env=env_for(index_dir, **settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"qa serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("qa serve did not start within 120 s")
        time.sleep(0.2)
    try:
        yield proc, url
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
