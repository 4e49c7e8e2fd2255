"""FAISS ids are stable per document: adding or removing one document updates the index in place, and a saved
index reopens with the same ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.documents import Document
from index.embedder import Embedder
from index.snapshot import IndexSnapshot, faiss_spec, spec_of
from index.store import IndexStore

D0, D3 = "000_674862a2fea0ee51", "003_15bbf54440315bf5"
NEW = Document("zz_new", "Harbour", "The ferry to Tallinn leaves at noon. It returns after dark on Fridays.")


def _nearest(snap: IndexSnapshot) -> list[int]:
    """For every sentence, the sentence its own vector finds first."""
    _, sids = snap.search_vectors(snap.sentence_vectors, 1)
    return sids[:, 0].tolist()


def _consistent(snap: IndexSnapshot) -> None:
    assert snap.faiss_index.ntotal == len(snap.sentences)
    found = _nearest(snap)
    assert [snap.sentences[f].text for f in found] == [s.text for s in snap.sentences]


def test_spec_by_size() -> None:
    assert faiss_spec(10) == "IDMap2,Flat"
    assert faiss_spec(1_000_000) == "IVF1024,SQ8"


def test_adding_a_document_updates_the_index_in_place(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    before = store.snapshot
    index, n = before.faiss_index, before.faiss_index.ntotal
    store.add([NEW])
    after = store.snapshot
    assert after.faiss_index is index
    assert index.ntotal == n + 2
    assert after.id_base == {**before.id_base, "zz_new": n}
    _consistent(after)
    # the older snapshot still resolves only its own sentences
    old_found = _nearest(before)
    assert [before.sentences[f].text for f in old_found] == [s.text for s in before.sentences]


def test_removing_a_document_updates_the_index_in_place(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    index = store.snapshot.faiss_index
    d3 = len(store.snapshot.entries[D3].sentences)
    n = index.ntotal
    store.remove(D0)
    snap = store.snapshot
    assert snap.faiss_index is index and index.ntotal == d3 < n
    assert list(snap.entries) == [D3]
    _consistent(snap)


def test_ids_survive_save_and_reopen(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    store.remove(D0)
    store.add([NEW])
    store.save()
    bases = store.snapshot.id_base
    reopened = IndexStore.open(index_copy, embedder)
    assert reopened.snapshot.id_base == bases
    assert spec_of(reopened.snapshot.faiss_index) == "IDMap2,Flat"
    assert reopened.manifest()["faiss"]["spec"] == "IDMap2,Flat"
    _consistent(reopened.snapshot)
    np.testing.assert_array_equal(reopened.snapshot.sentence_vectors, store.snapshot.sentence_vectors)


def test_terms_of_unchanged_documents_are_reused(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    before = store.snapshot
    store.add([NEW])
    after = store.snapshot
    n = len(before.sentences)
    assert all(a is b for a, b in zip(after.sentence_terms[:n], before.sentence_terms, strict=True))
    fresh = IndexSnapshot.build(dict(after.entries), after.dim)
    assert fresh.sentence_terms == after.sentence_terms
    assert fresh.idf == after.idf


def test_id_map_stays_the_size_of_the_live_documents_after_many_writes(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    for i in range(30):  # every add takes fresh ids: 60 sentences' worth of ids are used and freed
        store.add([Document(f"tmp_{i}", "Temp", f"Ferry {i} leaves at noon. It returns after dark.")])
        store.remove(f"tmp_{i}")
    store.add([NEW, Document("zz_empty", "Empty", "   ")])
    snap = store.snapshot
    assert snap.next_id > 2 * len(snap.sentences)  # ids were not reused ...
    assert len(snap.block_start) == len(snap.entries) - 1  # ... yet the map holds one row per non-empty document
    _consistent(snap)
    base = snap.id_base["zz_new"]
    first = next(i for i, s in enumerate(snap.sentences) if s.doc_id == "zz_new")
    ids = np.array([base, base + 1, base + 2, base - 1, -1, snap.next_id + 5], dtype=np.int64)
    assert snap.sentences_of_ids(ids).tolist() == [first, first + 1, -1, -1, -1, -1]
