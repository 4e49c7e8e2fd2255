"""`qa ask` and `qa search` with --since, --until and --source, locally and through a running server (--url).

Real subprocesses over a copy of the seed index plus the articles of tests/filter_articles.py. Each local command
that answers loads the model (~5 s), and so does the one `qa serve`; validation fails before any model loads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from filter_articles import BBC, MOSCOW_TIMES_DOC, REUTERS, TASS, documents

from api.cli import format_answer
from index.embedder import Embedder
from index.filters import Filters
from index.store import IndexStore
from qa.config import Settings
from qa.models import Answer
from qa.service import QAService

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / ".venv" / "bin" / "qa"
SEEDS = ROOT / "seeds"
MEET_Q = "Where did Milley meet Gerasimov?"


@pytest.fixture(scope="module")
def index_dir(seed_index_dir: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    target = tmp_path_factory.mktemp("cli-filters") / "index"
    shutil.copytree(seed_index_dir, target)
    IndexStore.open(target, embedder).update(documents())
    return target


@pytest.fixture(scope="module")
def service(index_dir: Path, embedder: Embedder) -> QAService:
    """The same index in this process, read only: what the commands must print."""
    return QAService(IndexStore.open(index_dir, embedder), Settings(index_dir=index_dir, seeds_dir=SEEDS))


def _env(index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["QA_INDEX_DIR"] = str(index_dir)
    return env


def _qa(index_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QA), *args], cwd=ROOT, env=_env(index_dir), capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[str]:
    """`qa serve` on a free port over the index; killed afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen([str(QA), "serve", "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                            env=_env(index_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "qa serve exited"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "qa serve did not start within 120 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def _json_ids(stdout: str) -> list[str]:
    return [p["doc_id"] for p in json.loads(stdout)]


def test_local_search_with_filters(index_dir: Path, service: QAService) -> None:
    out = _qa(index_dir, "search", MEET_Q, "-k", "5", "--since", "2021-11-01", "--json")
    assert (out.returncode, out.stderr) == (0, "")
    assert _json_ids(out.stdout) == [BBC, REUTERS, TASS, TASS, MOSCOW_TIMES_DOC]
    expected = service.search(MEET_Q, 5, Filters.parse(since="2021-11-01"))
    assert json.loads(out.stdout) == [p.model_dump() for p in expected]


def test_local_ask_with_filters_that_leave_nothing(index_dir: Path) -> None:
    out = _qa(index_dir, "ask", MEET_Q, "--since", "2030-01-01", "--source", "bbc")
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == ("Not found in the articles.\n"
                          "  (no article matches the filters (since 2030-01-01, source bbc); confidence 1.00)\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--since", "2021-11-31"], "since must be an ISO date YYYY-MM-DD, got '2021-11-31'"),
        (["ask", MEET_Q, "--until", "yesterday"], "until must be an ISO date YYYY-MM-DD, got 'yesterday'"),
        (["ask", MEET_Q, "--since", "2021-12-01", "--until", "2021-11-01", "--url", "http://127.0.0.1:9"],
         "since (2021-12-01) is after until (2021-11-01); no date can match"),
        (["search", "x", "--source", " ", "--url", "http://127.0.0.1:9"],
         "source is empty; give a site name, a host name or a doc_id prefix"),
    ],
)
def test_malformed_filters_fail_before_any_work(index_dir: Path, args: list[str], message: str) -> None:
    out = _qa(index_dir, *args)  # port 9 has no server: the command never gets as far as calling it
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"error: {message}\n")


def test_url_search_and_ask_send_the_filters(index_dir: Path, service: QAService, server: str) -> None:
    out = _qa(index_dir, "search", MEET_Q, "-k", "50", "--source", "themoscowtimes", "--url", server, "--json")
    assert (out.returncode, out.stderr) == (0, "")
    assert _json_ids(out.stdout) == [MOSCOW_TIMES_DOC] * 8
    out = _qa(index_dir, "search", MEET_Q, "--source", "nowhere.example", "--url", server)
    assert (out.returncode, out.stdout) == (0, "No passages (no article matches the filters: source "
                                               "nowhere.example).\n")
    out = _qa(index_dir, "ask", MEET_Q, "--top-k", "5", "--since", "2021-11-01", "--until", "2021-11-30", "--url",
              server, "--json")
    assert (out.returncode, out.stderr) == (0, "")
    answer = Answer.model_validate_json(out.stdout)
    assert answer == service.ask(MEET_Q, 5, Filters.parse(since="2021-11-01", until="2021-11-30"))
    assert {p.doc_id for p in answer.passages} == {TASS, BBC, MOSCOW_TIMES_DOC}
    assert {c.doc_id for c in answer.citations} <= {TASS, BBC, MOSCOW_TIMES_DOC}
    out = _qa(index_dir, "ask", MEET_Q, "--until", "1999-12-31", "--url", server)
    nothing = service.ask(MEET_Q, None, Filters.parse(until="1999-12-31"))
    assert (out.returncode, out.stdout) == (0, format_answer(nothing) + "\n")
