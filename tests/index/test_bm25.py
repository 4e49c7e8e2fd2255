"""BM25 scored at query time gives bm25s's lucene scores bit for bit, and a snapshot updated by a write scores
exactly as one built from scratch (and as bm25s over its passages)."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from index.bm25 import PassageBM25
from index.chunking import chunk_document
from index.documents import Document
from index.embedder import Embedder
from index.snapshot import DocEntry, IndexSnapshot
from index.store import IndexStore
from index.text import terms as text_terms

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
    ours = PassageBM25([p for d in DOCS for p in d])
    ref = _reference([p for d in DOCS for p in d])
    assert set(ours.df) == set(ref.vocab_dict) - {""}  # bm25s adds an empty token no passage has
    assert ours.num_docs == 6
    for query in (["storm"], ["coast", "mayor"], ["storm", "storm"], ["river", "won", "said", "guard"]):
        assert np.array_equal(ours.get_scores(query), ref.get_scores(query))
    assert np.array_equal(ours.get_scores(["unknown"]), np.zeros(6, np.float32))


def test_empty_collection_scores_nothing() -> None:
    assert PassageBM25([]).get_scores(["storm"]).shape == (0,)


QUERIES = (["storm", "coast"], ["mayor"], ["river", "river"], ["milley", "gerasimov", "helsinki"], ["zzunknown"])


def test_an_updated_snapshot_scores_exactly_as_a_fresh_build_and_as_bm25s(index_copy: Path,
                                                                         embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    snap = store.snapshot
    doc = Document("extra", "Extra", "The storm reached the coast on Monday.\n\nThe mayor said the river rose.")
    entry = DocEntry(doc, "x", *_pieces(store, doc))
    d0 = next(iter(snap.entries))
    updated = snap.apply([entry], [d0])  # one document in, one out: the live passages change both ways
    fresh = IndexSnapshot.build({**{d: e for d, e in snap.entries.items() if d != d0}, "extra": entry}, snap.dim)
    assert updated.passage_slots > updated.n_passages == fresh.n_passages == fresh.passage_slots
    live = updated.live_passages
    assert live is not None and [updated.passages[p] for p in live] == list(fresh.passages)
    # what BM25 indexes a passage by: its article's title terms, then its sentences'
    passages = [fresh.tables.passage_terms(pid) for pid in range(len(fresh.passage_sentences))]
    assert passages[-1][:1] == ["extra"]
    for query in QUERIES:
        want = fresh.bm25_scores(query)
        assert np.array_equal(updated.bm25_scores(query)[live], want)
        assert not updated.bm25_scores(query)[updated.passage_alive == 0].any()  # removed rows score nothing
        assert np.array_equal(want, _reference(passages).get_scores(query))
    terms = {t for ts in fresh.sentence_terms for t in ts} | {"coast", "zzunknown"}
    assert {t: updated.idf.get(t, -1.0) for t in terms} == {t: fresh.idf.get(t, -1.0) for t in terms}
    assert updated.default_idf() == fresh.default_idf()
    # the terms of its sentences and of its headline (which is every passage's, not a sentence)
    extra_terms = {t for span in entry.sentences for t in text_terms(span.text)} | set(text_terms(doc.title))
    assert {"storm", "coast", "mayor", "river"} <= extra_terms
    assert updated.terms_of_document("extra") == fresh.terms_of_document("extra") == extra_terms
    # the snapshot the write started from still scores its own collection, unchanged by the write
    before = IndexSnapshot.build(dict(snap.entries), snap.dim)
    assert np.array_equal(snap.bm25_scores(["storm", "coast"]), before.bm25_scores(["storm", "coast"]))
    assert snap.idf.get("storm", -1.0) == before.idf.get("storm", -1.0)


def _pieces(store: IndexStore, doc: Document) -> tuple:
    sentences, chunks = chunk_document(doc.doc_id, doc.text, store.params, doc.title)
    return tuple(sentences), tuple(chunks), store.embedder.encode([s.text for s in sentences])
