"""`qa index --url` against a real uvicorn server that indexes large files in background jobs: the CLI follows the
job to its end and prints the same summary as for a small upload, or why the job stopped."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
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

ROOT = Path(__file__).resolve().parents[2]
QA = ROOT / ".venv" / "bin" / "qa"
SEEDS = ROOT / "seeds"
IDS = [f"wire_{i}" for i in range(5)]


@pytest.fixture
def server(seed_index_dir: Path, embedder: Embedder, tmp_path: Path) -> Iterator[tuple[str, QAService]]:
    """A uvicorn thread on 127.0.0.1 whose uploads of more than 2 documents are jobs committing 2 per batch."""
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    settings = Settings(index_dir=index_dir, seeds_dir=SEEDS, job_threshold=2, job_batch_docs=2)
    service = QAService(IndexStore.open(index_dir, embedder), settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    while not server.started:  # readiness, not a timing assumption: the loop ends when uvicorn says so
        assert thread.is_alive(), "uvicorn exited before it started"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", service
    server.should_exit = True
    thread.join(timeout=60)


def _feed(tmp_path: Path) -> Path:
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(json.dumps({"id": doc_id, "title": f"Wire {i}", "text": f"Wire story {i}: the "
                                          f"harbour crane number {i} was repaired on Monday."})
                              for i, doc_id in enumerate(IDS)) + "\n", encoding="utf-8")
    return path


def _qa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return subprocess.run([str(QA), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _qa_local(seed_index_dir: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``qa`` on a private copy of the seed index, as a local run beside the server's."""
    local_index = tmp_path / "local-index"
    shutil.copytree(seed_index_dir, local_index)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return subprocess.run([str(QA), *args], cwd=ROOT, env={**env, "QA_INDEX_DIR": str(local_index)},
                          capture_output=True, text=True, timeout=300)


def test_index_through_the_server_follows_the_job(server: tuple[str, QAService], tmp_path: Path) -> None:
    url, service = server
    feed = _feed(tmp_path)
    out = _qa("index", str(feed), "--url", url, "--json")
    assert (out.returncode, out.stderr) == (0, "")
    report = json.loads(out.stdout)
    assert (report["added"], report["changed"], report["unchanged"], report["skipped"]) == (IDS, [], [], [])
    [job] = service.jobs.recent()
    assert (job.state, job.total, job.done, job.added) == ("done", 5, 5, IDS)
    assert set(IDS) <= set(service.store.snapshot.entries)

    again = _qa("index", str(feed), "--url", url)
    assert (again.returncode, again.stderr) == (0, "")
    newest = service.jobs.recent()[0]
    assert again.stdout.splitlines() == [f"{feed}: 5 documents indexed by job {newest.id}",
                                         "documents: 0 added, 0 changed, 5 unchanged, 0 removed, 0 skipped",
                                         f"server: {url}"]


def test_a_job_cancelled_on_the_server_is_an_error_naming_what_was_kept(server: tuple[str, QAService],
                                                                        tmp_path: Path) -> None:
    url, service = server
    service.jobs.on_batch = lambda job: service.jobs.cancel(job.id) if job.done == 2 else None
    out = _qa("index", str(_feed(tmp_path)), "--url", url)
    [job] = service.jobs.recent()
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (f"error: indexing job {job.id} was cancelled after committing 2 of 5 documents "
                          "(3 not indexed)\n")
    assert set(IDS) & set(service.store.snapshot.entries) == set(IDS[:2])


def test_a_feed_with_bad_lines_gives_the_same_result_locally_and_through_the_server(
        server: tuple[str, QAService], seed_index_dir: Path, tmp_path: Path) -> None:
    url, service = server
    feed = tmp_path / "mixed.jsonl"
    lines = [json.dumps({"id": doc_id, "title": doc_id, "text": f"Story {doc_id} about the harbour crane."})
             for doc_id in IDS[:3]]
    feed.write_text("\n".join([lines[0], '{"id": "broken",', lines[1], '{"title": "no text"}', lines[2]]) + "\n",
                    encoding="utf-8")
    local = _qa_local(seed_index_dir, tmp_path, "index", str(feed))
    remote = _qa("index", str(feed), "--url", url)
    expected = ["documents: 3 added, 0 changed, 0 unchanged, 0 removed, 2 skipped",
                f"skipped {feed}, line 2: invalid JSON at line 2: Expecting property name enclosed in double quotes",
                f"skipped {feed}, line 4: JSON record needs a non-empty string 'text'"]
    assert (local.returncode, local.stderr, local.stdout.splitlines()[:3]) == (1, "", expected)
    [job] = service.jobs.recent()  # three documents: over the server's job threshold of 2
    assert (remote.returncode, remote.stderr) == (1, "")
    assert remote.stdout.splitlines() == [f"{feed}: 3 documents indexed by job {job.id}", *expected,
                                          f"server: {url}"]
    assert [(r.where, r.reason) for r in job.rejected] == [
        ("line 2", "invalid JSON at line 2: Expecting property name enclosed in double quotes"),
        ("line 4", "JSON record needs a non-empty string 'text'")]
    assert set(IDS[:3]) <= set(service.store.snapshot.entries)


def test_a_link_to_nothing_is_skipped_alike_locally_and_through_the_server(
        server: tuple[str, QAService], seed_index_dir: Path, tmp_path: Path) -> None:
    url, _ = server
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "alpha.txt").write_text("Alpha story\n\nThe alpha rocket launched from Kiruna on Monday.\n")
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")  # uploading it was a FileNotFoundError traceback
    local = _qa_local(seed_index_dir, tmp_path, "index", str(folder))
    remote = _qa("index", str(folder), "--url", url)
    expected = ["documents: 1 added, 0 changed, 0 unchanged, 0 removed, 1 skipped",
                f"skipped {folder / 'gone.txt'}: a link to a file that does not exist"]
    for run in (local, remote):
        assert (run.returncode, run.stderr, run.stdout.splitlines()[:2]) == (1, "", expected)
