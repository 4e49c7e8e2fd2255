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
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("seeds", ["seeds", "no-seeds-here"])
def test_serve_prints_two_lines_and_no_request_log(index_copy: Path, tmp_path: Path, seeds: str) -> None:
    """Two lines on stderr; run where there is no seeds folder (qa serve outside the checkout), the first says the
    index starts empty, not that it indexes the seeds (it served 0 documents after saying it would)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    index_dir = index_copy if seeds == "seeds" else tmp_path / "new-index"
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_SEEDS_DIR": str(ROOT / seeds)}
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
    first = (f"a first run indexes {ROOT / 'seeds'} first" if seeds == "seeds" else f"there is no {ROOT / seeds} "
             "folder, so a first run starts with no documents: `qa index PATH` adds them")
    assert err.read_text(encoding="utf-8").splitlines() == [
        f"loading the model and the index in {index_dir} ({first})…",
        f"serving {2 if seeds == 'seeds' else 0} documents: open http://127.0.0.1:{port} (API docs at /docs); Ctrl+C "
        "stops",
    ]
