"""Crash safety: SIGKILL `qa index` mid-run (while embedding, right after its log record is fsynced, or while a
compaction writes or publishes a new generation) and the index opens with every acknowledged write and answers;
damaged files give IndexCorruptError with a one-line message naming the command that rebuilds, never a traceback."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.embedder import Embedder
from index.errors import IndexCorruptError
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

ROOT = Path(__file__).resolve().parents[2]
QA = ROOT / ".venv" / "bin" / "qa"
QUESTION = "Where did Milley meet Gerasimov?"
N_ARTICLES = 200
HANG_GUARD_S = 300  # only stops a hung child from hanging the suite; no assertion depends on timing


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~200 short articles: a few sentences each, so embedding them takes seconds."""
    folder = tmp_path_factory.mktemp("articles")
    for i in range(N_ARTICLES):
        (folder / f"town_{i:03d}.txt").write_text(
            f"Council of Town {i} approves budget\n\nThe council of Town {i} approved a budget of {i * 1000 + 7} "
            f"dollars on Monday. Mayor Person{i} said the money goes to roads.\n",
            encoding="utf-8",
        )
    return folder


def _files(index_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index_dir)): p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file()}


def _start_index(index_dir: Path, folder: Path, pause_at: str | None,
                 compact_at_bytes: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("QA_TEST_PAUSE_AT", None)
    if pause_at:
        env["QA_TEST_PAUSE_AT"] = pause_at
    if compact_at_bytes is not None:
        env["QA_TEST_COMPACT_AT_BYTES"] = str(compact_at_bytes)
    return subprocess.Popen([str(QA), "index", str(folder), "--quiet"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen[str], ready: Callable[[str], bool]) -> str:
    """SIGKILL ``proc`` as soon as ``ready(stderr_so_far)`` holds (checked on each stderr line and every 10 ms)."""
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    seen, deadline = "", time.monotonic() + HANG_GUARD_S
    while not ready(seen):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"qa index ended (rc={proc.returncode}) before the kill point; stderr: {seen[-2000:]}")
        if sel.select(timeout=0.01):
            seen += proc.stderr.read() or ""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    sel.close()
    assert proc.returncode == -signal.SIGKILL
    return seen


def _assert_answers_like_seeds(index_dir: Path, embedder: Embedder, seed_service: QAService, docs: int) -> None:
    store = IndexStore.open(index_dir, embedder)
    assert len(store.snapshot.entries) == docs
    answer = QAService(store, Settings(index_dir=index_dir)).ask(QUESTION)
    expected = seed_service.ask(QUESTION)
    assert answer.answer == expected.answer
    assert answer.citations[0].doc_id == "000_674862a2fea0ee51"
    assert [(c.doc_id, c.start, c.end, c.quote) for c in answer.citations] == [
        (c.doc_id, c.start, c.end, c.quote) for c in expected.citations]
    for c in answer.citations:
        assert store.snapshot.entries[c.doc_id].doc.text[c.start : c.end] == c.quote


def test_sigkill_during_embedding(articles: Path, index_copy: Path, embedder: Embedder, seed_service: QAService,
                                  tmp_path: Path) -> None:
    """Killed after the first batch of 64 of 200 new articles is embedded: nothing written, seeds still answer."""
    before = _files(index_copy)
    _kill_when(_start_index(index_copy, articles, "embed"), lambda err: "paused at embed" in err)
    assert _files(index_copy) == before
    _assert_answers_like_seeds(index_copy, embedder, seed_service, docs=2)
    # the next run indexes normally (3 articles keep it quick)
    few = tmp_path / "few"
    few.mkdir()
    for name in ["town_000.txt", "town_001.txt", "town_199.txt"]:
        shutil.copy(articles / name, few / name)
    service = QAService(IndexStore.open(index_copy, embedder), Settings(index_dir=index_copy))
    report = service.index_paths([few])
    assert (report.added, report.changed, report.removed) == (["town_000", "town_001", "town_199"], [], [])
    # the write went to the generation's log: no new generation, base files as they were
    assert sorted(p.name for p in index_copy.iterdir()) == ["CURRENT", "gen-000001"]
    assert {k: v for k, v in _files(index_copy).items() if k in before} == before
    assert (index_copy / "gen-000001" / "log").stat().st_size > 0
    _assert_answers_like_seeds(index_copy, embedder, seed_service, docs=5)


@pytest.fixture(scope="module")
def big_index(articles: Path, seed_index_dir: Path, embedder: Embedder,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds plus the 200 articles, indexed in-process once (the session model is already loaded)."""
    target = tmp_path_factory.mktemp("big") / "index"
    shutil.copytree(seed_index_dir, target)
    service = QAService(IndexStore.open(target, embedder), Settings(index_dir=target))
    assert len(service.index_paths([articles]).added) == N_ARTICLES
    return target


@pytest.fixture
def changed_run(articles: Path, big_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of ``big_index`` and of the articles with one article changed, so `qa index` must save."""
    index_dir, folder = tmp_path / "index", tmp_path / "articles"
    shutil.copytree(big_index, index_dir)
    shutil.copytree(articles, folder)
    with open(folder / "town_007.txt", "a", encoding="utf-8") as fh:
        fh.write("The vote was unanimous.\n")
    return index_dir, folder


def test_sigkill_after_the_log_append_keeps_the_write(changed_run: tuple[Path, Path], embedder: Embedder,
                                                      seed_service: QAService) -> None:
    """Killed once the record is fsynced but before memory is updated: the write is on disk whole, so it is there
    after reopening (it was never acknowledged, and a cut-off write may be wholly there or wholly absent)."""
    index_dir, folder = changed_run
    base = {k: v for k, v in _files(index_dir).items() if not k.endswith("/log")}
    _kill_when(_start_index(index_dir, folder, "append"), lambda err: "paused at append" in err)
    assert {k: v for k, v in _files(index_dir).items() if not k.endswith("/log")} == base  # only the log grew
    _assert_answers_like_seeds(index_dir, embedder, seed_service, docs=N_ARTICLES + 2)
    assert "unanimous" in IndexStore.open(index_dir, embedder).snapshot.entries["town_007"].doc.text


@pytest.mark.parametrize(
    ("pause_at", "leftover"),
    [
        ("save", ".tmp"),  # the compaction's new generation fully written, not yet renamed
        ("switch", ""),  # renamed, CURRENT not yet switched
    ],
)
def test_sigkill_during_compaction(pause_at: str, leftover: str, changed_run: tuple[Path, Path],
                                   embedder: Embedder, seed_service: QAService) -> None:
    """`qa index` appends its change, a compaction starts (forced after any write) and the process is killed while
    it writes or publishes the new generation: the old generation with its log still holds every acknowledged
    write, and the next compaction cleans up."""
    index_dir, folder = changed_run
    before = _files(index_dir)
    prev = int(_current(index_dir).name[4:])
    _kill_when(_start_index(index_dir, folder, pause_at, compact_at_bytes=1),
               lambda err: f"paused at {pause_at}" in err)
    after = _files(index_dir)
    assert {k: v for k, v in after.items() if k in before and not k.endswith("/log")} == {
        k: v for k, v in before.items() if not k.endswith("/log")}  # the published base is untouched
    names = sorted(p.name for p in index_dir.iterdir())
    assert names == ["CURRENT", f"gen-{prev:06d}", f"gen-{prev + 1:06d}{leftover}"]
    assert (index_dir / "CURRENT").read_text() == f"gen-{prev:06d}\n"
    _assert_answers_like_seeds(index_dir, embedder, seed_service, docs=N_ARTICLES + 2)
    store = IndexStore.open(index_dir, embedder)
    assert "unanimous" in store.snapshot.entries["town_007"].doc.text  # appended before the compaction began

    # the next run finds nothing to do; its compaction skips the leftover's number when it was renamed
    service = QAService(store, Settings(index_dir=index_dir))
    report = service.index_paths([folder])
    assert (report.added, report.changed, len(report.unchanged)) == ([], [], N_ARTICLES)
    gen = store.compact()
    assert gen.name == f"gen-{prev + (1 if leftover else 2):06d}"
    assert sorted(p.name for p in index_dir.iterdir()) == ["CURRENT", gen.name]
    reopened = IndexStore.open(index_dir, embedder)
    assert "unanimous" in reopened.snapshot.entries["town_007"].doc.text
    assert len(reopened.snapshot.entries) == N_ARTICLES + 2


def _current(d: Path) -> Path:
    return d / (d / "CURRENT").read_text().strip()


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


CORRUPTIONS: dict[str, Callable[[Path], object]] = {
    "documents.jsonl cut in half": lambda d: _truncate(_current(d) / "documents.jsonl"),
    "documents.jsonl empty": lambda d: (_current(d) / "documents.jsonl").write_bytes(b""),
    "documents.jsonl not UTF-8": lambda d: (_current(d) / "documents.jsonl").write_bytes(b"\xff\xfe" * 50),
    "documents.jsonl wrong record": lambda d: (_current(d) / "documents.jsonl").write_text('{"x": 1}\n'),
    "vectors.npy truncated": lambda d: _truncate(_current(d) / "vectors.npy"),
    "vectors.npy garbage": lambda d: (_current(d) / "vectors.npy").write_bytes(b"garbage" * 10),
    "vectors.npy missing": lambda d: (_current(d) / "vectors.npy").unlink(),
    "faiss.index garbage": lambda d: (_current(d) / "faiss.index").write_bytes(b"garbage" * 100),
    "faiss.index truncated": lambda d: _truncate(_current(d) / "faiss.index"),
    "manifest.json invalid": lambda d: (_current(d) / "manifest.json").write_text("{not json"),
    "manifest.json a list": lambda d: (_current(d) / "manifest.json").write_text("[1, 2]"),
    "manifest.json missing": lambda d: (_current(d) / "manifest.json").unlink(),
    "CURRENT pointing nowhere": lambda d: (d / "CURRENT").write_text("gen-999999\n"),
    "CURRENT empty": lambda d: (d / "CURRENT").write_text(""),
    "CURRENT binary": lambda d: (d / "CURRENT").write_bytes(b"\xff\x00"),
    "CURRENT escaping the folder": lambda d: (d / "CURRENT").write_text("gen-000001/../..\n"),
    "generation folder deleted": lambda d: shutil.rmtree(_current(d)),
    "faiss.index one byte flipped": lambda d: _flip(_current(d) / "faiss.index"),
    "vectors.npy one byte flipped": lambda d: _flip(_current(d) / "vectors.npy"),
    "documents.jsonl text edited": lambda d: _edit(_current(d) / "documents.jsonl"),
}


def _flip(p: Path) -> None:
    """Flip one bit in the middle of the file: still parses, but the data is wrong."""
    data = bytearray(p.read_bytes())
    data[len(data) * 2 // 3] ^= 0x01
    p.write_bytes(bytes(data))


def _edit(p: Path) -> None:
    """An edit that keeps the file valid JSON Lines with the same length: one word of an article changed."""
    text = p.read_text(encoding="utf-8")
    assert "Helsinki" in text or "Odessa" in text or "the" in text
    p.write_text(text.replace(" the ", " teh ", 1), encoding="utf-8")


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_damaged_index_raises_corrupt_error(damage: str, index_copy: Path, embedder: Embedder) -> None:
    CORRUPTIONS[damage](index_copy)
    with pytest.raises(IndexCorruptError) as err:
        IndexStore.open(index_copy, embedder)
    message = str(err.value)
    assert message.endswith(f"; rebuild it with `qa index PATH --rebuild --index-dir {index_copy}`")
    assert "\n" not in message and len(message) < 400
    assert err.value.status_code == 500


def test_cli_reports_damage_in_one_line_and_rebuild_recovers(index_copy: Path) -> None:
    _truncate(_current(index_copy) / "vectors.npy")
    env = {**os.environ, "QA_INDEX_DIR": str(index_copy)}
    out = subprocess.run([str(QA), "ask", QUESTION], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=HANG_GUARD_S)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"error: index file {_current(index_copy) / 'vectors.npy'} does not match its "
                               "checksum in the manifest (damaged or edited)")
    assert lines[0].endswith(f"rebuild it with `qa index PATH --rebuild --index-dir {index_copy}`")
    assert "Traceback" not in out.stderr
