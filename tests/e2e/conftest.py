"""A real uvicorn server on 127.0.0.1 (free port) over a private copy of the seed index, shared per module."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from index.embedder import Embedder
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(seed_index_dir: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running server; started in a thread, stopped after the module's tests."""
    index_dir = tmp_path_factory.mktemp("live-index") / "index"
    shutil.copytree(seed_index_dir, index_dir)
    settings = Settings(index_dir=index_dir, seeds_dir=SEEDS)
    app = create_app(settings, QAService(IndexStore.open(index_dir, embedder), settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    while not server.started:  # readiness, not a timing assumption: the loop ends when uvicorn says so
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it started; see the captured log")
        time.sleep(0.05)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    yield f"http://{host}:{port}"
    server.should_exit = True
    thread.join(timeout=30)
