"""`qa serve` prints the progress a user needs and nothing else: what it loads, then where to open the page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def test_serve_prints_two_lines_and_no_request_log(index_copy: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "QA_INDEX_DIR": str(index_copy), "QA_SEEDS_DIR": str(ROOT / "seeds")}
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, err.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "qa serve did not start within 120 s"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C: a clean shutdown, which says nothing either
        stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert stdout == ""
    assert err.read_text(encoding="utf-8").splitlines() == [
        f"loading the model and the index in {index_copy} (a first run indexes {ROOT / 'seeds'} first)…",
        f"serving 2 documents: open http://127.0.0.1:{port} (API docs at /docs); Ctrl+C stops",
    ]
