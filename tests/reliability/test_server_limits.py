"""`qa serve` bounds its connections: over QA_MAX_CONNECTIONS a request gets 503 at once, and idle keep-alive
connections are closed after QA_KEEP_ALIVE_SECONDS (a real server process, raw sockets, bounded waits)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest_server import serve


@pytest.fixture
def limited(index_copy: Path) -> Iterator[tuple[Path, str]]:
    yield from serve(index_copy, QA_MAX_CONNECTIONS="3", QA_KEEP_ALIVE_SECONDS="1")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_connections_over_the_limit_get_503_then_service_resumes(limited: tuple[Path, str]) -> None:
    _, url = limited
    hoarders = []
    try:
        for _ in range(4):  # idle connections that never finish their request
            sock = socket.create_connection(("127.0.0.1", _port(url)), timeout=10)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            hoarders.append(sock)
        time.sleep(0.5)  # let the server register them (no timing is asserted)
        assert httpx.get(f"{url}/health", timeout=10).status_code == 503
    finally:
        for sock in hoarders:
            sock.close()
    deadline = time.monotonic() + 30
    while httpx.get(f"{url}/health", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover after the hoarders left"
        time.sleep(0.2)


def test_idle_keep_alive_connection_is_closed(limited: tuple[Path, str]) -> None:
    _, url = limited
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(15)  # QA_KEEP_ALIVE_SECONDS=1: the server closes well before this bound
        received = b""
        while chunk := sock.recv(65536):  # the response, then b"" when the server closes the idle connection
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        assert received.endswith(b"}")  # one whole JSON body, nothing after it
