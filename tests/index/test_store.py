"""IndexStore: incremental updates without duplicates, byte-identical no-op re-index, a self-describing manifest."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from index.chunking import ChunkParams, chunk_document
from index.embedder import Embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, StorageError
from index.ingest import load_files
from index.store import IndexStore

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
D0, D3 = "000_674862a2fea0ee51", "003_15bbf54440315bf5"


def _files(index_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index_dir)): p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file()}


def _counts(store: IndexStore) -> tuple[int, int, int]:
    snap = store.snapshot
    return len(snap.entries), len(snap.sentences), len(snap.passages)


def _expected_counts(folder: Path) -> tuple[int, int, int]:
    sentences = passages = 0
    docs = list(load_files([folder]))
    for d in docs:
        s, c = chunk_document(d.doc_id, d.text, ChunkParams(), d.title)
        sentences, passages = sentences + len(s), passages + len(c)
    return len(docs), sentences, passages


def test_reindex_unchanged_is_a_byte_identical_no_op(index_copy: Path, embedder: Embedder) -> None:
    before = _files(index_copy)
    store = IndexStore.open(index_copy, embedder)
    report = store.update(load_files([SEEDS]), remove_missing_under=[SEEDS])
    assert (report.added, report.changed, report.removed, report.skipped) == ([], [], [], [])
    assert report.unchanged == [D0, D3]
    assert not report.modified
    assert _files(index_copy) == before


def test_save_of_same_content_writes_identical_files(index_copy: Path, embedder: Embedder) -> None:
    before = _files(index_copy)
    store = IndexStore.open(index_copy, embedder)
    gen = store.save()
    after = _files(index_copy)
    assert before["CURRENT"] != after["CURRENT"] == f"{gen.name}\n".encode()
    # the new generation holds exactly the bytes of the old one
    assert {k.split("/", 1)[1]: v for k, v in after.items() if "/" in k} == {
        k.split("/", 1)[1]: v for k, v in before.items() if "/" in k}
    assert sorted(p.name for p in index_copy.iterdir()) == ["CURRENT", gen.name]


def test_changed_file_replaces_its_passages_and_removed_file_disappears(tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    store = IndexStore.open(tmp_path / "index", embedder, create=True)
    report = store.update(load_files([folder]), remove_missing_under=[folder])
    assert report.added == [D0, D3]
    store.save()
    assert _counts(store) == _expected_counts(folder)

    path = folder / f"{D3}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nThe zebra convoy crossed Lake Baikal on skis.\n",
                    encoding="utf-8")
    store = IndexStore.open(tmp_path / "index", embedder)
    report = store.update(load_files([folder]), remove_missing_under=[folder])
    assert (report.added, report.changed, report.unchanged, report.removed) == ([], [D3], [D0], [])
    store.save()
    reopened = IndexStore.open(tmp_path / "index", embedder)
    assert _counts(reopened) == _expected_counts(folder)
    per_doc = Counter(s.doc_id for s in reopened.snapshot.sentences)
    [doc3] = [d for d in load_files([folder]) if d.doc_id == D3]
    assert per_doc[D3] == len(chunk_document(D3, doc3.text, ChunkParams(), doc3.title)[0])
    assert reopened.snapshot.faiss_index.ntotal == len(reopened.snapshot.sentences)
    assert [s.text for s in reopened.snapshot.sentences].count("The zebra convoy crossed Lake Baikal on skis.") == 1
    text = reopened.snapshot.entries[D3].doc.text
    assert all(text[p.start : p.end] == p.text for p in reopened.snapshot.passages if p.doc_id == D3)

    (folder / f"{D0}.txt").unlink()
    report = reopened.update(load_files([folder]), remove_missing_under=[folder])
    assert (report.removed, report.unchanged) == ([D0], [D3])
    reopened.save()
    final = IndexStore.open(tmp_path / "index", embedder)
    assert list(final.snapshot.entries) == [D3]
    assert {s.doc_id for s in final.snapshot.sentences} == {D3}
    assert _counts(final) == _expected_counts(folder)


def test_indexing_a_single_file_does_not_remove_others(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    report = store.update(load_files([SEEDS / f"{D0}.txt"]), remove_missing_under=[])
    assert (report.unchanged, report.removed) == ([D0], [])
    assert list(store.snapshot.entries) == [D0, D3]


def test_manifest_describes_the_index(seed_index_dir: Path) -> None:
    current = (seed_index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((seed_index_dir / current / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["model"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    assert manifest["chunking"] == {"max_words": 90, "min_words": 30, "overlap_sentences": 1,
                                    "max_sentence_chars": 600}
    assert manifest["faiss"] == {"spec": "IDMap2,Flat", "metric": "inner_product", "unit": "sentence"}
    assert manifest["counts"] == dict(zip(["documents", "sentences", "passages"], _expected_counts(SEEDS),
                                          strict=True))
    assert sorted(manifest["documents"]) == [D0, D3]
    assert (manifest["last_seq"], manifest["lineage"]) == (1, current)  # the seeds were its first write
    assert sorted(p.name for p in (seed_index_dir / current).iterdir()) == [
        "acked", "documents.jsonl", "faiss.index", "manifest.json", "vectors.npy"]


def test_other_chunking_params_raise_mismatch(seed_index_dir: Path, embedder: Embedder) -> None:
    with pytest.raises(IndexMismatchError) as err:
        IndexStore.open(seed_index_dir, embedder, ChunkParams(max_words=50))
    message = str(err.value)
    assert "chunking" in message and "'max_words': 90" in message and "'max_words': 50" in message
    assert f"re-index with `qa index PATH --rebuild --index-dir {seed_index_dir}`" in message
    assert err.value.status_code == 409


def test_missing_index_says_how_to_build_one(tmp_path: Path, embedder: Embedder) -> None:
    missing = tmp_path / "none"
    with pytest.raises(IndexMissingError) as err:
        IndexStore.open(missing, embedder)
    assert str(err.value) == f"no index in {missing}; run `qa index PATH --index-dir {missing}` first"


def test_missing_current_is_recovered_in_memory_by_a_reader_and_restored_by_the_writer(
        index_copy: Path, embedder: Embedder) -> None:
    generation = (index_copy / "CURRENT").read_text()
    expected = _counts(IndexStore.open(index_copy, embedder))
    (index_copy / "CURRENT").unlink()
    before = _files(index_copy)
    reader = IndexStore.open(index_copy, embedder)
    assert _counts(reader) == expected and _files(index_copy) == before  # a reader writes nothing
    with pytest.raises(StorageError, match="was recovered in memory .*; open it as the writer"):
        reader.remove(D0)
    with IndexStore.open(index_copy, embedder, create=True, writer=True) as store:
        assert _counts(store) == expected
        assert not store.fresh
    assert (index_copy / "CURRENT").read_text() == generation


def test_generations_without_current_that_do_not_load_are_refused_not_rebuilt(index_copy: Path,
                                                                              embedder: Embedder) -> None:
    gen = index_copy / (index_copy / "CURRENT").read_text().strip()
    (index_copy / "CURRENT").unlink()
    (gen / "faiss.index").write_bytes(b"garbage")
    before = _files(index_copy)
    with pytest.raises(IndexCorruptError) as err:
        IndexStore.open(index_copy, embedder, create=True, writer=True)
    assert str(err.value).startswith(
        f"index {index_copy} has no usable CURRENT (CURRENT is missing), and no generation can be completed with "
        f"every acknowledged write ({gen.name}: index file {gen / 'faiss.index'} does not match its checksum")
    assert _files(index_copy) == before  # nothing deleted, nothing rebuilt


def test_seeds_go_only_into_a_never_used_folder(tmp_path: Path, embedder: Embedder) -> None:
    from qa.config import Settings
    from qa.service import QAService

    settings = Settings(index_dir=tmp_path / "index", seeds_dir=SEEDS)
    service = QAService.from_settings(settings, build_from_seeds=True)
    assert sorted(service.store.snapshot.entries) == [D0, D3]
    for doc_id in (D0, D3):
        service.delete_document(doc_id)
    reopened = QAService.from_settings(settings, build_from_seeds=True)
    assert reopened.store.snapshot.entries == {}  # emptied by deletes: stays empty, the seeds do not come back
    assert reopened.store.manifest()["reader"] == reopened.reader.version
