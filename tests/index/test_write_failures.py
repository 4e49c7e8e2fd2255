"""Write-ahead, then publish: a write whose save fails (a full disk, injected as ENOSPC after FAISS is written) leaves
memory and disk exactly as before, says why, and succeeds when sent again; a document the index cannot store is
refused before anything changes; a writer taking the lock removes what a killed save left behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.documents import Document
from index.embedder import Embedder
from index.errors import InvalidInputError, StorageFullError
from index.snapshot import IndexSnapshot
from index.store import IndexStore

D0, D3 = "000_674862a2fea0ee51", "003_15bbf54440315bf5"
NEW = Document("zz_new", "Harbour", "The ferry to Tallinn leaves at noon. It returns after dark on Fridays.")


def _state(store: IndexStore) -> tuple:
    """What readers see: documents, the FAISS contents and the nearest sentence of every sentence's own vector."""
    snap: IndexSnapshot = store.snapshot
    _, sids = snap.search_vectors(snap.sentence_vectors, 1)
    return (sorted(snap.entries), snap.faiss_index.ntotal, [snap.sentences[i].text for i in sids[:, 0]],
            dict(snap.id_base))


def _disk(index_dir: Path) -> tuple:
    return (sorted(p.name for p in index_dir.iterdir()), (index_dir / "CURRENT").read_text())


@pytest.mark.parametrize("write", ["add", "replace", "remove"])
def test_a_failed_save_changes_nothing_and_a_retry_does_the_write(index_copy: Path, embedder: Embedder,
                                                                  monkeypatch: pytest.MonkeyPatch, write: str) -> None:
    store = IndexStore.open(index_copy, embedder)
    old_text = store.snapshot.entries[D3].doc.text
    changed = Document(D3, "Patrol boats", "Two patrol boats reached the port of Mykolaiv on Friday.")
    do = {"add": lambda: store.add([NEW]), "replace": lambda: store.add([changed]),
          "remove": lambda: store.remove(D0)}[write]
    before, disk_before = _state(store), _disk(index_copy)

    monkeypatch.setenv("QA_TEST_FAULTS", "fail=write")
    with pytest.raises(StorageFullError, match=r"^no space left on the disk holding .*; the write was not applied"):
        do()
    assert _state(store) == before  # readers never saw the change, FAISS holds exactly what it held
    assert store.snapshot.entries[D3].doc.text == old_text
    assert _disk(index_copy) == disk_before  # no new generation, no .tmp left behind

    monkeypatch.delenv("QA_TEST_FAULTS")
    do()  # the same write, sent again, is done (not answered "unchanged" or "not found")
    expected = {"add": sorted([*before[0], NEW.doc_id]), "replace": before[0],
                "remove": [d for d in before[0] if d != D0]}[write]
    reopened = IndexStore.open(index_copy, embedder)
    assert sorted(reopened.snapshot.entries) == sorted(store.snapshot.entries) == expected
    if write == "replace":
        assert reopened.snapshot.entries[D3].doc.text == changed.text
    for snap in (store.snapshot, reopened.snapshot):
        _, sids = snap.search_vectors(snap.sentence_vectors, 1)
        assert [snap.sentences[i].text for i in sids[:, 0]] == [s.text for s in snap.sentences]


def test_a_lone_surrogate_is_refused_before_anything_changes(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    before, disk_before = _state(store), _disk(index_copy)
    bad = Document("bad", "Title \udfff here", "The harbour opened in 1901. It closed in 1950.")
    with pytest.raises(InvalidInputError, match=r"^document 'bad': title holds an invalid character \('\\udfff' at "
                                               r"position 6, a lone surrogate\); send valid Unicode text$"):
        store.add([NEW, bad])
    assert _state(store) == before and _disk(index_copy) == disk_before
    store.add([NEW])  # later writes are not blocked by the refused one
    assert NEW.doc_id in IndexStore.open(index_copy, embedder).snapshot.entries


def test_a_writer_removes_what_a_killed_save_left(index_copy: Path, embedder: Embedder) -> None:
    (index_copy / "gen-000099.tmp").mkdir()
    (index_copy / "gen-000099.tmp" / "vectors.npy").write_bytes(np.zeros(10).tobytes())
    (index_copy / "CURRENT.tmp").write_text("gen-000099\n")
    current = (index_copy / "CURRENT").read_text()
    IndexStore.open(index_copy, embedder).close()  # a reader leaves them: only the writer may delete
    assert sorted(p.name for p in index_copy.glob("*.tmp")) == ["CURRENT.tmp", "gen-000099.tmp"]
    with IndexStore.open(index_copy, embedder, writer=True):
        assert not list(index_copy.glob("*.tmp"))
    assert (index_copy / "CURRENT").read_text() == current
    manifest = json.loads((index_copy / current.strip() / "manifest.json").read_text())
    assert manifest["counts"]["documents"] == 2
