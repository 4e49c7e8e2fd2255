"""The `qa` command line as a user runs it: real subprocesses, a temporary index, exact output and exit codes.
Each subprocess that answers a question loads the model (~5 s), so there are only six of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from api.cli import format_answer
from index import chunking
from index.chunking import ChunkParams, chunk_document
from index.documents import Document
from index.embedder import Embedder
from index.ingest import Skipped, load_files
from index.store import IndexStore
from qa.models import Answer
from qa.service import QAService

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / ".venv" / "bin" / "qa"
SEEDS = ROOT / "seeds"
QUESTION = "Where did Milley meet Gerasimov?"


def _qa(index_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(settings, QA_INDEX_DIR=str(index_dir))
    return subprocess.run([str(QA), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _files(index_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index_dir)): p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file()}


def test_index_summary_counts_every_outcome(index_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEEDS / "003_15bbf54440315bf5.txt", folder)  # same id and content: unchanged
    changed = (SEEDS / "000_674862a2fea0ee51.txt").read_text(encoding="utf-8") + "\nA late addition.\n"
    (folder / "000_674862a2fea0ee51.txt").write_text(changed, encoding="utf-8")
    (folder / "new_article.md").write_text("# Budget passes\n\nThe town council passed the budget.\n")
    (folder / "photo.txt").write_bytes(b"\x89PNG\x00\x00")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "blank.txt").write_text("\n\n")
    out = _qa(index_copy, "index", str(folder))
    assert (out.returncode, out.stderr) == (1, "")  # some files were skipped
    docs = [d for d in load_files([folder]) if not isinstance(d, Skipped)]
    passages = sum(len(chunk_document(d.doc_id, d.text, ChunkParams(), d.title)[1]) for d in docs)
    assert out.stdout.splitlines() == [
        "documents: 1 added, 1 changed, 1 unchanged, 0 removed, 3 skipped",
        f"skipped {folder / 'blank.txt'}: file is empty",
        f"skipped {folder / 'notes.pdf'}: PDF file could not be read (Stream has ended unexpectedly); save or export "
        "it again",
        f"skipped {folder / 'photo.txt'}: file looks binary (contains NUL bytes)",
        "2 without a publication date (date filters never match them): new_article, 000_674862a2fea0ee51",
        f"index: {index_copy} (3 documents, {passages} passages)",
    ]


def test_reindexing_seeds_reports_unchanged_and_keeps_bytes(index_copy: Path) -> None:
    before = _files(index_copy)
    out = _qa(index_copy, "index", "seeds")
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout.splitlines()[0] == "documents: 0 added, 0 changed, 2 unchanged, 0 removed, 0 skipped"
    assert _files(index_copy) == before


def test_ask_prints_answer_with_numbered_citation(seed_index_dir: Path, seed_service: QAService) -> None:
    out = _qa(seed_index_dir, "ask", QUESTION)
    assert (out.returncode, out.stderr) == (0, "")
    expected = seed_service.ask(QUESTION)
    assert expected.answer is not None and expected.citations
    assert out.stdout == format_answer(expected) + "\n"
    lines = out.stdout.splitlines()
    assert lines[0] == f"{expected.answer} [1]"
    c = expected.citations[0]
    assert f"[1] {c.title} ({c.doc_id}, characters {c.start}-{c.end})" in lines
    assert c.doc_id == "000_674862a2fea0ee51"


def test_ask_json_is_an_answer_with_exact_quotes(seed_index_dir: Path, seed_service: QAService) -> None:
    out = _qa(seed_index_dir, "ask", QUESTION, "--json")
    assert (out.returncode, out.stderr) == (0, "")
    answer = Answer.model_validate_json(out.stdout)
    expected = seed_service.ask(QUESTION)
    assert answer.question == QUESTION
    assert answer.answer == expected.answer
    assert answer.confidence == pytest.approx(expected.confidence, abs=1e-6)
    assert [(c.doc_id, c.start, c.end, c.quote) for c in answer.citations] == [
        (c.doc_id, c.start, c.end, c.quote) for c in expected.citations]
    assert len(answer.passages) == 5
    for c in answer.citations:
        assert seed_service.document(c.doc_id).doc.text[c.start : c.end] == c.quote
    for p in answer.passages:
        assert seed_service.document(p.doc_id).doc.text[p.start : p.end] == p.text


@pytest.mark.parametrize(
    ("index_name", "question", "settings", "message"),
    [
        ("seed", "   ", {}, "error: question is empty; ask something about the articles"),
        ("missing", QUESTION, {}, "error: no index in {dir}; run `qa index PATH --index-dir {dir}` first"),
        ("seed", QUESTION, {"QA_TOP_K": "abc", "QA_FUSION": "max"},
         "error: invalid setting QA_TOP_K: Input should be a valid integer, unable to parse string as an integer; "
         "invalid setting QA_FUSION: unknown fusion 'max'; choose one of rrf, normalized, dense, bm25"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(index_name: str, question: str, settings: dict[str, str],
                                                message: str, seed_index_dir: Path, tmp_path: Path) -> None:
    index_dir = seed_index_dir if index_name == "seed" else tmp_path / "no-index"
    out = _qa(index_dir, "ask", question, **settings)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", message.format(dir=index_dir) + "\n")
    assert not (tmp_path / "no-index").exists()


def test_docs_search_and_rm(index_copy: Path) -> None:
    listed = _qa(index_copy, "docs")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.splitlines() == [
        "000_674862a2fea0ee51\tTop US military general holds talks with Russian counterpart\t4,000 characters\tno date",
        "003_15bbf54440315bf5\tU.S., Russian Military Chiefs Speak on the Phone\t2,409 characters\t2021-11-24",
        "2 documents",
    ]
    found = _qa(index_copy, "search", "patrol boats Odessa", "-k", "1", "--json")
    assert found.returncode == 0
    [passage] = json.loads(found.stdout)
    text = (SEEDS / "003_15bbf54440315bf5.txt").read_text(encoding="utf-8")
    assert passage["doc_id"] == "003_15bbf54440315bf5"
    assert "arrived at the southern port of Odessa." in passage["text"]
    removed = _qa(index_copy, "rm", "003_15bbf54440315bf5")
    assert (removed.returncode, removed.stdout, removed.stderr) == (0, "removed 003_15bbf54440315bf5\n", "")
    again = _qa(index_copy, "rm", "003_15bbf54440315bf5")
    assert again.returncode == 2
    assert again.stderr == "error: no document with id '003_15bbf54440315bf5'; GET /documents lists the ids\n"
    assert [line.split("\t")[0] for line in _qa(index_copy, "docs").stdout.splitlines()] == [
        "000_674862a2fea0ee51", "1 documents"]
    assert text  # the article file itself is untouched by rm


def test_index_and_rm_print_json(index_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    (folder / "2021").mkdir(parents=True)
    (folder / "2021" / "ferry.txt").write_text("Ferry\n\nThe ferry to Tallinn leaves at noon.\n")
    (folder / "blank.txt").write_text("\n")
    (folder / "long.txt").write_text("Long\n\n" + "The ferry leaves at noon. " * 50)
    out = _qa(index_copy, "index", str(folder), "--json", QA_MAX_DOCUMENT_CHARS="1000")
    assert (out.returncode, out.stderr) == (1, "")  # some files were skipped
    report = json.loads(out.stdout)
    docs = _qa(index_copy, "docs", "--json")
    assert report == {
        "added": ["2021.ferry"], "changed": [], "unchanged": [], "removed": [], "undated": ["2021.ferry"],
        "skipped": [{"source": str(folder / "blank.txt"), "reason": "file is empty"},
                    {"source": str((folder / "long.txt").resolve()), "reason": "document 'long' is 1,306 characters, "
                     "over the 1,000-character limit (QA_MAX_DOCUMENT_CHARS)"}],
        "encodings": [], "index_dir": str(index_copy), "backend": "embedded", "documents": 3,
        "passages": sum(d["passages"] for d in json.loads(docs.stdout))}
    removed = _qa(index_copy, "rm", "2021.ferry", "--json")
    assert (removed.returncode, json.loads(removed.stdout)) == (0, {"deleted": ["2021.ferry"], "count": 1,
                                                                    "dry_run": False})


def test_index_names_the_encoding_of_a_file_that_is_not_utf8(index_copy: Path, tmp_path: Path) -> None:
    text = "Old notes\n\nThe café – naïve as it sounds – opened on Monday.\n"
    folder = tmp_path / "articles"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "old.txt").write_bytes(text.encode("cp1252"))
    source = str((folder / "notes" / "old.txt").resolve())
    out = _qa(index_copy, "index", str(folder), "--json")
    assert (out.returncode, out.stderr) == (0, "")
    report = json.loads(out.stdout)
    assert (report["added"], report["skipped"]) == (["notes.old"], [])
    assert report["encodings"] == [{"doc_id": "notes.old", "source": source, "encoding": "cp1252"}]
    shown = _qa(index_copy, "docs", "notes.old", "--json")
    assert json.loads(shown.stdout)["text"] == text
    again = _qa(index_copy, "index", str(folder))
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout.splitlines()[:2] == ["documents: 0 added, 0 changed, 1 unchanged, 0 removed, 0 skipped",
                                             f"not UTF-8: {source} decoded as cp1252"]


def test_closed_pipe_is_not_a_traceback(index_copy: Path) -> None:
    """`qa docs --json | head -c 1`, made certain: the reading end is closed before qa writes anything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["QA_INDEX_DIR"] = str(index_copy)
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write qa makes now fails with EPIPE
    try:
        out = subprocess.run([str(QA), "docs", "--json"], cwd=ROOT, env=env, stdout=write_end,
                             stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        os.close(write_end)
    assert (out.returncode, out.stderr) == (0, "")


def test_resplit_splits_documents_indexed_under_earlier_rules_again(tmp_path: Path, embedder: Embedder,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An index written when the headline line was a sentence (the earlier rule, put back for the write) is split
    by today's rules from its stored text, with no files given; only that document is embedded again."""
    index_dir = tmp_path / "index"
    earlier = chunking.chunk_document
    monkeypatch.setattr(chunking, "chunk_document",
                        lambda doc_id, text, params, title=None: earlier(doc_id, text, params))
    with IndexStore.open(index_dir, embedder, create=True, writer=True) as store:
        store.update([Document("ferry", "Ferry fares rise", "Ferry fares rise\n\nThe ferry leaves at nine."),
                      Document("harbour", "Harbour", "The harbour master is Ada Lind.")])
    monkeypatch.undo()
    out = _qa(index_dir, "index", "--resplit", "--quiet")
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout.splitlines() == [
        "documents: 0 added, 1 changed, 1 unchanged, 0 removed, 0 skipped",
        "1 without a publication date (date filters never match them): ferry",
        f"index: {index_dir} (2 documents, 2 passages)",
    ]
    shown = _qa(index_dir, "docs", "ferry").stdout.splitlines()[0]
    assert shown == "Ferry fares rise (ferry, 43 characters, 1 sentence)"
    none = tmp_path / "none"
    nothing = _qa(none, "index", "--resplit")  # never creates an empty index to split nothing in
    assert (nothing.returncode, nothing.stderr) == (
        2, f"error: no index in {none}; run `qa index PATH --index-dir {none}` first\n")
    assert _qa(none, "docs").returncode == 2
    out = _qa(index_dir, "index", "--resplit", "seeds")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == ("error: --resplit splits the documents already in the index again, from their stored text; "
                          "give it no files, --url, --rebuild or --sync\n")


def test_milvus_index_sync_and_resplit_print_only_their_summary(tmp_path: Path) -> None:
    """On milvus-lite the listing behind --sync and --resplit reads through pymilvus' query iterator, whose fallback
    warning ("failed to get mvccTs ...") is no news to the user."""
    milvus = {"QA_BACKEND": "milvus", "QA_MILVUS_URI": str(tmp_path / "news.db")}
    out = _qa(tmp_path / "unused", "index", "--sync", "--quiet", "seeds", **milvus)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout.splitlines()[0] == "documents: 2 added, 0 changed, 0 unchanged, 0 removed, 0 skipped"
    out = _qa(tmp_path / "unused", "index", "--resplit", "--quiet", **milvus)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout.splitlines()[0] == "documents: 0 added, 0 changed, 2 unchanged, 0 removed, 0 skipped"


def test_rebuild_names_the_documents_the_new_index_no_longer_holds(tmp_path: Path) -> None:
    """--rebuild replaces the index with what PATH holds now: a document it drops is named as removed (the summary
    said "0 removed" while the documents were gone, even when PATH was an empty folder)."""
    news, empty = tmp_path / "news", tmp_path / "empty"
    news.mkdir()
    empty.mkdir()
    (news / "alpha.txt").write_text("Alpha story\n\nThe alpha rocket launched from Kiruna on Monday.\n")
    (news / "beta.txt").write_text("Beta story\n\nThe beta submarine surfaced near Tromso on Friday.\n")
    index_dir = tmp_path / "index"
    assert _qa(index_dir, "index", "--quiet", str(news)).returncode == 0
    (news / "beta.txt").write_bytes(b"now \x00 binary")
    out = _qa(index_dir, "index", "--rebuild", "--quiet", str(news))
    assert out.stdout.splitlines()[:3] == ["documents: 1 added, 0 changed, 0 unchanged, 1 removed, 1 skipped",
                                           "removed beta", f"skipped {news / 'beta.txt'}: file looks binary "
                                           "(contains NUL bytes)"]
    out = _qa(index_dir, "index", "--rebuild", "--json", str(empty))
    assert (out.returncode, json.loads(out.stdout)["removed"], json.loads(out.stdout)["documents"]) == (
        0, ["alpha"], 0)


def test_eval_of_a_missing_or_malformed_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "quiz"}\n')
    missing = tmp_path / "nope.jsonl"
    for eval_file, message in ((missing, f"[Errno 2] No such file or directory: '{missing}'"),
                               (bad, f"{bad}:1: bad eval record (unknown kind 'quiz'); see eval/data/README.md")):
        out = _qa(tmp_path / "index", "eval", "--eval-file", str(eval_file))
        assert (out.returncode, out.stdout, out.stderr) == (1, "", f"error: {message}\n")


def test_index_of_a_missing_path_fails(index_copy: Path, tmp_path: Path) -> None:
    out = _qa(index_copy, "index", str(tmp_path / "nope"))
    assert out.returncode == 2
    assert out.stderr == f"error: no such file or folder: {tmp_path / 'nope'}\n"


def test_ask_prints_the_closest_passages_of_an_abstention(seed_index_dir: Path, seed_service: QAService) -> None:
    question = "How long did the meeting last?"
    out = _qa(seed_index_dir, "ask", question)
    assert (out.returncode, out.stderr) == (0, "")
    assert out.stdout == format_answer(seed_service.ask(question)) + "\n"
    title = "Top US military general holds talks with Russian counterpart"
    lines = out.stdout.splitlines()
    assert lines[:5] == [
        "Not found in the articles.",
        "  (no sentence in the articles supports an answer; confidence 0.82)",
        "",
        "Not in the articles — closest passages:",
        "",
    ]
    # the standfirst holds the answer and is read first for "how long", but stays under the threshold
    assert lines[5] == f"- score 0.18: {title} (000_674862a2fea0ee51, characters 62-190)"
    assert lines[6].startswith("    “General Mark Milley meets with Russia General Valery Gerasimov in Finland for "
                               "**six hours**")
    assert [line for line in lines if line.startswith("- score")] == [
        f"- score 0.18: {title} (000_674862a2fea0ee51, characters 62-190)",
        "- score 0.15: U.S., Russian Military Chiefs Speak on the Phone (003_15bbf54440315bf5, characters 1139-1216)",
        f"- score 0.02: {title} (000_674862a2fea0ee51, characters 1818-1903)",
    ]


def test_only_sync_removes_and_never_a_skipped_files_document(index_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in [("gone", "Gone\n\nThe pier closed."), ("nul", "Nul\n\nThe dock opened."),
                       ("big", "Big\n\nThe crane was repaired."), ("kept", "Kept\n\nThe ferry sailed.")]:
        (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    first = _qa(index_copy, "index", str(folder))
    assert (first.returncode, first.stdout.splitlines()[0]) == (0, "documents: 4 added, 0 changed, 0 unchanged, "
                                                                   "0 removed, 0 skipped")
    (folder / "gone.txt").unlink()
    (folder / "nul.txt").write_bytes(b"Nul\n\nThe dock \x00opened.\n")
    (folder / "big.txt").write_text("Big\n\n" + "The crane was repaired. " * 60, encoding="utf-8")
    expected_skips = [f"skipped {folder / 'big.txt'}: file is 1,445 bytes, over the 1,024-byte limit",
                      f"skipped {folder / 'nul.txt'}: file looks binary (contains NUL bytes)"]
    plain = _qa(index_copy, "index", str(folder), QA_MAX_UPLOAD_BYTES="1024")
    assert (plain.returncode, plain.stderr) == (1, "")
    assert plain.stdout.splitlines()[:3] == ["documents: 0 added, 0 changed, 1 unchanged, 0 removed, 2 skipped",
                                             *expected_skips]
    synced = _qa(index_copy, "index", "--sync", str(folder), QA_MAX_UPLOAD_BYTES="1024")
    assert (synced.returncode, synced.stderr) == (1, "")
    assert synced.stdout.splitlines()[:4] == ["documents: 0 added, 0 changed, 1 unchanged, 1 removed, 2 skipped",
                                              "removed gone", *expected_skips]
    listed = [line.split("\t")[0] for line in _qa(index_copy, "docs").stdout.splitlines()]
    assert listed == ["000_674862a2fea0ee51", "003_15bbf54440315bf5", "big", "kept", "nul", "5 documents"]


def test_rm_several_ids_and_by_source(index_copy: Path, tmp_path: Path) -> None:
    usage = _qa(index_copy, "rm")
    assert (usage.returncode, usage.stderr) == (2, "error: name the documents to remove (qa rm ID...) or their "
                                                   "source (qa rm --source X)\n")
    unknown = _qa(index_copy, "rm", "000_674862a2fea0ee51", "nope")
    assert (unknown.returncode, unknown.stderr) == (2, "error: no document with id 'nope'; GET /documents lists the "
                                                       "ids (nothing was removed)\n")
    dry = _qa(index_copy, "rm", "--source", "themoscowtimes", "--dry-run")
    assert (dry.returncode, dry.stdout) == (0, "would remove 003_15bbf54440315bf5\n"
                                               "1 document of source 'themoscowtimes' would be removed\n")
    mixed = _qa(index_copy, "rm", "000_674862a2fea0ee51", "--source", "nomatch", "--dry-run")
    assert (mixed.returncode, mixed.stdout) == (0, "would remove 000_674862a2fea0ee51\n"
                                                   "1 document named or of source 'nomatch' would be removed\n")
    both = _qa(index_copy, "rm", "000_674862a2fea0ee51", "003_15bbf54440315bf5")
    assert (both.returncode, both.stdout) == (0, "removed 000_674862a2fea0ee51\nremoved 003_15bbf54440315bf5\n")
    assert _qa(index_copy, "docs").stdout == "0 documents\n"


def test_index_skips_a_file_with_the_text_of_another_unless_allowed(index_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a_bridge.txt").write_text("Bridge\n\nThe harbor bridge reopened on Monday after repairs.\n")
    (folder / "b_copy.txt").write_text("Bridge\n\nThe harbor bridge reopened on Monday after repairs.\n")
    out = _qa(index_copy, "index", str(folder))
    assert (out.returncode, out.stderr) == (1, "")
    assert out.stdout.splitlines()[:2] == [
        "documents: 1 added, 0 changed, 0 unchanged, 0 removed, 1 skipped",
        f"skipped {(folder / 'b_copy.txt').resolve()}: document 'b_copy' has the same text as 'a_bridge', not indexed "
        "(allow_duplicate=true or --allow-duplicate indexes it as a copy)"]
    allowed = _qa(index_copy, "index", str(folder), "--allow-duplicate", "--json")
    assert (allowed.returncode, json.loads(allowed.stdout)["added"]) == (0, ["b_copy"])
    shown = json.loads(_qa(index_copy, "docs", "b_copy", "--json").stdout)
    assert shown["duplicate_of"] == "a_bridge"
