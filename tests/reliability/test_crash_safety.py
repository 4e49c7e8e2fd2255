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

from index.documents import Document
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
                 compact_at_bytes: int | None = None, rebuild: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "PYTHONUNBUFFERED": "1"}
    faults = ([f"pause={pause_at}"] if pause_at else []) + (
        [f"compact_at_bytes={compact_at_bytes}"] if compact_at_bytes is not None else [])
    env["QA_TEST_FAULTS"] = ",".join(faults)
    return subprocess.Popen([str(QA), "index", str(folder), "--quiet", *(["--rebuild"] if rebuild else [])],
                            cwd=ROOT, env=env, text=True,
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
    assert {k: v for k, v in _files(index_copy).items() if k in before and not k.endswith("/acked")} == {
        k: v for k, v in before.items() if not k.endswith("/acked")}
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
    base = {k: v for k, v in _files(index_dir).items() if not k.endswith(("/log", "/acked"))}
    _kill_when(_start_index(index_dir, folder, "append"), lambda err: "paused at append" in err)
    assert {k: v for k, v in _files(index_dir).items() if not k.endswith(("/log", "/acked"))} == base  # the log grew
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
    assert {k: v for k, v in after.items() if k in before and not k.endswith(("/log", "/acked"))} == {
        k: v for k, v in before.items() if not k.endswith(("/log", "/acked"))}  # the published base is untouched
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


def _hint(index_dir: Path) -> str:
    return (f"; restore {index_dir} from a backup, or rebuild it from the article files with `qa index PATH "
            f"--rebuild --index-dir {index_dir}` (the damaged files are kept until the new index is published)")


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_damaged_index_raises_corrupt_error(damage: str, index_copy: Path, embedder: Embedder) -> None:
    CORRUPTIONS[damage](index_copy)
    with pytest.raises(IndexCorruptError) as err:
        IndexStore.open(index_copy, embedder)
    message = str(err.value)
    assert message.endswith(_hint(index_copy))
    assert "\n" not in message and len(message) < 600
    assert err.value.status_code == 500


@pytest.mark.parametrize("damage", ["gen-999999\n", "gen-000001\n"])
def test_current_naming_a_missing_generation_is_refused_with_a_non_destructive_hint(
        damage: str, index_copy: Path, embedder: Embedder) -> None:
    """Its log may have held acknowledged writes no other generation has: refused, and the hint rebuilds nothing."""
    shutil.rmtree(_current(index_copy)) if damage == "gen-000001\n" else (index_copy / "CURRENT").write_text(damage)
    with pytest.raises(IndexCorruptError) as err:
        IndexStore.open(index_copy, embedder)
    assert str(err.value) == (
        f"index pointer {index_copy / 'CURRENT'} names a missing generation {damage.strip()!r}, so the writes "
        f"acknowledged in it cannot be checked; restore {index_copy} from a backup, or, if you know it held nothing "
        "newer, write the name of the newest generation left into CURRENT")


@pytest.mark.parametrize("damage", [b"", b"\xff\x00", b"gen-000001/../..\n"])
def test_an_unreadable_current_is_recovered_from_the_generations(damage: bytes, index_copy: Path,
                                                                 embedder: Embedder) -> None:
    """On the main of issue #24 an empty CURRENT was refused with a hint to rebuild, which loses what the API added;
    the generation and its log hold every acknowledged write, so a reader serves them and the writer repairs."""
    with IndexStore.open(index_copy, embedder) as store:
        store.add([Document("api_only", "Harbour", "The ferry to Tallinn leaves at noon. It returns after dark.")])
        expected = sorted(store.snapshot.entries)
    gen = (index_copy / "CURRENT").read_text()
    (index_copy / "CURRENT").write_bytes(damage)
    assert sorted(IndexStore.open(index_copy, embedder).snapshot.entries) == expected
    assert (index_copy / "CURRENT").read_bytes() == damage  # the reader wrote nothing
    with IndexStore.open(index_copy, embedder, writer=True) as store:
        assert sorted(store.snapshot.entries) == expected
    assert (index_copy / "CURRENT").read_text() == gen
    assert sorted(IndexStore.open(index_copy, embedder).snapshot.entries) == expected


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
    assert lines[0].endswith(_hint(index_copy))
    assert "Traceback" not in out.stderr


def test_killed_between_rename_and_switch_then_current_lost_keeps_every_write(
        changed_run: tuple[Path, Path], embedder: Embedder, tmp_path: Path) -> None:
    """A compaction is killed after renaming its generation, before switching CURRENT; writes go on to the older
    generation's log; then CURRENT is lost. On the main of issue #24 the repair opened the newer generation and
    lost those writes (an add came back 404, a delete was undone), and its next compaction deleted the only copy."""
    index_dir, folder = changed_run
    _kill_when(_start_index(index_dir, folder, "switch", compact_at_bytes=1), lambda err: "paused at switch" in err)
    assert sorted(p.name for p in index_dir.iterdir()) == ["CURRENT", "gen-000001", "gen-000002"]
    extra = tmp_path / "late.txt"
    extra.write_text("Late news\n\nThe night ferry to Tallinn was cancelled on Sunday.\n", encoding="utf-8")
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_TEST_FAULTS": ""}
    for command in (["index", str(extra), "--quiet"], ["rm", "town_042"]):  # acknowledged, into gen-000001's log
        done = subprocess.run([str(QA), *command], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=HANG_GUARD_S)
        assert done.returncode == 0, done.stderr
    (index_dir / "CURRENT").unlink()

    expected = sorted({f"town_{i:03d}" for i in range(N_ARTICLES)} - {"town_042"} | {"late"} | {
        "000_674862a2fea0ee51", "003_15bbf54440315bf5"})
    reader = IndexStore.open(index_dir, embedder)  # recovered in memory, nothing written
    assert sorted(reader.snapshot.entries) == expected
    assert "unanimous" in reader.snapshot.entries["town_007"].doc.text
    assert sorted(p.name for p in index_dir.iterdir()) == ["gen-000001", "gen-000002"]
    done = subprocess.run([str(QA), "docs", "late"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=HANG_GUARD_S)  # a read-only command answers from the recovered state, writes nothing
    assert done.returncode == 0 and "The night ferry to Tallinn was cancelled" in done.stdout, done.stderr
    assert sorted(p.name for p in index_dir.iterdir()) == ["gen-000001", "gen-000002"]

    with IndexStore.open(index_dir, embedder, writer=True) as writer:  # repairs: a new generation holding it all
        assert sorted(writer.snapshot.entries) == expected
        writer.compact()  # and a compaction after it deletes nothing acknowledged
    assert sorted(p.name for p in index_dir.iterdir()) == ["CURRENT", "gen-000004"]
    reopened = IndexStore.open(index_dir, embedder)
    assert sorted(reopened.snapshot.entries) == expected
    assert "unanimous" in reopened.snapshot.entries["town_007"].doc.text


def test_rebuild_keeps_the_old_generation_until_the_new_one_is_published(index_copy: Path, embedder: Embedder,
                                                                          articles: Path) -> None:
    """On the main of issue #24 `qa index --rebuild` deleted the index first: killed while it embedded, the folder
    was left with nothing. Now the old generation serves until the rebuilt one is published."""
    with IndexStore.open(index_copy, embedder) as store:
        store.add([Document("api_only", "Harbour", "The ferry to Tallinn leaves at noon. It returns after dark.")])
    before = _files(index_copy)
    _kill_when(_start_index(index_copy, articles, "embed", rebuild=True), lambda err: "paused at embed" in err)
    assert _files(index_copy) == before
    env = {**os.environ, "QA_INDEX_DIR": str(index_copy), "QA_TEST_FAULTS": ""}
    done = subprocess.run([str(QA), "index", str(articles), "--rebuild", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in index_copy.iterdir()) == ["CURRENT", "gen-000002"]
    assert sorted(IndexStore.open(index_copy, embedder).snapshot.entries) == [
        f"town_{i:03d}" for i in range(N_ARTICLES)]
