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
    # FAISS holds the live vectors, plus removed ones zeroed in place until compaction (see index.faiss_index.forget)
    assert snap.faiss_index.ntotal == len(snap.sentences) + int((~snap.sentence_alive).sum())
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
    before = store.snapshot
    index = before.faiss_index
    d0 = before.entries[D0]
    n = index.ntotal
    store.remove(D0)
    snap = store.snapshot
    assert snap.faiss_index is index and index.ntotal == n  # zeroed in place, not compacted away
    assert list(snap.entries) == [D3]
    _consistent(snap)
    scores, _ = snap.search_vectors(d0.vectors, 1)  # the removed sentences find nothing of their own any more
    assert (scores[:, 0] < 0.99).all()
    assert index.reconstruct_n(d0.first_sentence, len(d0.sentences)).any(axis=1).sum() == 0
    store.compact()
    assert store.snapshot.faiss_index.ntotal == len(store.snapshot.sentences) < n  # compaction drops them


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


def test_a_write_shares_the_rows_of_the_documents_it_does_not_touch(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    before = store.snapshot
    store.add([NEW])
    after = store.snapshot
    n = before.next_id
    assert after.tables is before.tables and after.next_id == n + 2  # rows appended, none copied or recomputed
    assert after.sentence_alive[:n].all() and list(before.sentences) == list(after.sentences)[:n]
    fresh = IndexSnapshot.build(dict(after.entries), after.dim)
    assert [fresh.sentence_terms[i] for i in range(fresh.next_id)] == [after.sentence_terms[i] for i in range(n + 2)]
    terms = {t for ts in fresh.sentence_terms for t in ts}
    assert {t: after.idf.get(t, 0.0) for t in terms} == {t: fresh.idf.get(t, 0.0) for t in terms}


def test_rows_of_removed_documents_are_dropped_by_compaction(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    for i in range(30):  # every add takes fresh rows (= FAISS ids): 60 sentences' worth are used and freed
        store.add([Document(f"tmp_{i}", "Temp", f"Ferry {i} leaves at noon. It returns after dark.")])
        store.remove(f"tmp_{i}")
    store.add([NEW, Document("zz_empty", "Empty", "   ")])
    snap = store.snapshot
    assert snap.next_id == len(snap.sentences) + 60  # ids were not reused: removed rows wait for compaction
    _consistent(snap)
    base = snap.id_base["zz_new"]
    ids = np.array([base, base + 1, base + 2, base - 1, -1, snap.next_id + 5], dtype=np.int64)
    assert snap.sentences_of_ids(ids).tolist() == [base, base + 1, -1, -1, -1, -1]
    store.compact()
    snap = store.snapshot
    assert snap.next_id == len(snap.sentences) and snap.passage_slots == len(snap.passages)
    assert snap.id_base["zz_new"] == len(snap.sentences) - 2 and snap.faiss_index.ntotal == len(snap.sentences)
    _consistent(snap)
    reopened = IndexStore.open(index_copy, embedder).snapshot
    assert dict(reopened.id_base) == dict(snap.id_base)
    _consistent(reopened)
