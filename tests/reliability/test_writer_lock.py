"""One writer per index across processes: a real `qa serve` holds it; `qa index` fails fast or goes through it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest_server import QA, ROOT, serve
from conftest_server import env_for as _env


def test_cli_index_fails_fast_while_a_server_holds_the_folder(served: tuple[Path, str], tmp_path: Path) -> None:
    index_dir, _ = served
    article = tmp_path / "bridge.txt"
    article.write_text("Bridge opens\n\nThe new bridge over the river opened on Monday.\n", encoding="utf-8")
    before = sorted(p.name for p in index_dir.iterdir())
    out = subprocess.run([str(QA), "index", str(article)], cwd=ROOT, env=_env(index_dir), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"error: index {index_dir} is being written by another process (a running `qa serve` or `qa index`); send "
        "documents through the server with `qa index PATH --url http://HOST:PORT`, or stop it first")
    assert sorted(p.name for p in index_dir.iterdir()) == before


def test_cli_index_through_the_server_is_seen_by_it_and_survives_a_kill(served: tuple[Path, str],
                                                                       tmp_path: Path) -> None:
    index_dir, url = served
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bridge.txt").write_text("Bridge opens\n\nThe new bridge over the Vantaa river opened on Monday.\n",
                                       encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "old.txt").write_bytes("Old notes\n\nThe café – naïve as it sounds – opened on Monday.\n"
                                     .encode("cp1252"))
    out = subprocess.run([str(QA), "index", str(folder), "--url", url], cwd=ROOT, env=_env(index_dir),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr  # 1: a file was skipped
    lines = out.stdout.splitlines()
    assert lines == ["documents: 2 added, 0 changed, 0 unchanged, 0 removed, 1 skipped",
                     f"skipped {folder / 'notes.pdf'}: PDF file could not be read (Stream has ended unexpectedly); "
                     "save or export it again",
                     "2 without a publication date (date filters never match them): bridge, old",
                     f"not UTF-8: {(folder / 'old.txt').resolve()} decoded as cp1252",
                     f"server: {url}"]
    ids = [d["doc_id"] for d in httpx.get(f"{url}/documents", timeout=10).json()]
    assert "bridge" in ids
    # the write was acknowledged, so it is on disk: another process (a reader: no lock) answers from it
    asked = subprocess.run([str(QA), "ask", "Which river does the new bridge cross?", "--json"], cwd=ROOT,
                                      env=_env(index_dir), capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0, asked.stderr
    assert '"doc_id": "bridge"' in asked.stdout


def test_lock_is_released_when_the_holder_is_killed(served: tuple[Path, str], tmp_path: Path) -> None:
    from index.errors import IndexLockedError
    from index.lock import WriterLock

    index_dir, _ = served
    with pytest.raises(IndexLockedError):
        WriterLock(index_dir)
    pids = subprocess.run(["pgrep", "-f", f"qa serve --port {_port_of(served[1])}"], capture_output=True,
                          text=True).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        try:
            WriterLock(index_dir).release()
            break
        except IndexLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


@pytest.fixture
def served(index_copy: Path) -> Iterator[tuple[Path, str]]:
    yield from serve(index_copy)
