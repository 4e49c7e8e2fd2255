"""PassageBM25 gives bm25s's lucene scores bit for bit, and snapshots reuse unchanged documents' postings."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from index.bm25 import DocPostings, PassageBM25
from index.chunking import chunk_document
from index.documents import Document
from index.embedder import Embedder
from index.snapshot import DocEntry, IndexSnapshot
from index.store import IndexStore

DOCS = [
    [["storm", "hit", "coast", "storm"], ["mayor", "said", "coast", "guard"], []],
    [["river", "flood", "coast"], ["storm", "storm", "storm", "river"]],
    [["election", "mayor", "won"]],
]


def _reference(passages: list[list[str]]) -> bm25s.BM25:
    ref = bm25s.BM25()  # defaults: lucene, k1=1.5, b=0.75
    ref.index([ts or ["\x00"] for ts in passages], show_progress=False)
    return ref


def test_scores_equal_bm25s_exactly() -> None:
    ours = PassageBM25([DocPostings.of(d) for d in DOCS])
    ref = _reference([p for d in DOCS for p in d])
    assert set(ours.vocab_dict) == set(ref.vocab_dict) - {""}  # bm25s adds an empty token no passage has
    assert ours.num_docs == 6
    for query in (["storm"], ["coast", "mayor"], ["storm", "storm"], ["river", "won", "said", "guard"]):
        assert np.array_equal(ours.get_scores(query), ref.get_scores(query))
    assert np.array_equal(ours.get_scores(["unknown"]), np.zeros(6, np.float32))


def test_empty_collection_scores_nothing() -> None:
    assert PassageBM25([]).get_scores(["storm"]).shape == (0,)


def test_snapshot_update_reuses_unchanged_postings_and_matches_a_fresh_build(index_copy: Path,
                                                                           embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    snap = store.snapshot
    doc = Document("extra", "Extra", "The storm reached the coast on Monday.\n\nThe mayor said the river rose.")
    entry = DocEntry(doc, "x", *_pieces(store, doc))
    updated = IndexSnapshot.build({**snap.entries, "extra": entry}, snap.dim, previous=snap)
    fresh = IndexSnapshot.build({**snap.entries, "extra": entry}, snap.dim)
    assert all(updated.doc_postings[d] is snap.doc_postings[d] for d in snap.entries)
    assert updated.idf == fresh.idf and updated.vocab_sorted == fresh.vocab_sorted
    assert updated.doc_terms == fresh.doc_terms
    assert updated.bm25 is not None and fresh.bm25 is not None
    for query in (["storm", "coast"], ["mayor"], ["river", "river"]):
        assert np.array_equal(updated.bm25.get_scores(query), fresh.bm25.get_scores(query))
    passages = [[t for sid in ids for t in fresh.sentence_terms[sid]] for ids in fresh.passage_sentences]
    query = ["storm", "coast"]
    assert np.array_equal(fresh.bm25.get_scores(query), _reference(passages).get_scores(query))


def _pieces(store: IndexStore, doc: Document) -> tuple:
    sentences, chunks = chunk_document(doc.doc_id, doc.text, store.params)
    return tuple(sentences), tuple(chunks), store.embedder.encode([s.text for s in sentences])
