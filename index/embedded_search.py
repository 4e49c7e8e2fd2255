"""The embedded backend's search: FAISS sentence vectors aggregated to passages, BM25 over every passage, and what
filters leave of a snapshot (a FAISS selector of the allowed documents' vectors, their passage rows).

Filters are applied inside the search, not to its results: dense search runs over the FAISS ids of the allowed
documents only, and only their passages are ranked, so a filtered question still gets its top k.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from index.backend import DocFilter, PassageScores
from index.faiss_index import id_selector

DENSE_CANDIDATES = 200  # sentences the dense search returns per question
SELECTIONS_KEPT = 64  # per snapshot, least recently used dropped beyond


@dataclass(frozen=True, eq=False)
class Selection:
    """What filters leave of one snapshot: the allowed documents, their passages and a FAISS selector of their
    sentence vectors. ``passage_ids`` and ``selector`` are None when every document is allowed."""

    doc_ids: tuple[str, ...]
    passage_ids: np.ndarray | None
    selector: faiss.IDSelector | None

    @property
    def empty(self) -> bool:
        return not self.doc_ids


def select(snap: Any, filters: DocFilter) -> Selection:
    """The documents ``filters`` allow in ``snap`` with their passage numbers and FAISS ids (each document's
    sentences hold the contiguous ids ``first_sentence`` onwards, its passages the rows ``first_passage`` onwards)."""
    allowed = {doc_id for doc_id, entry in snap.entries.items() if filters.matches(entry.doc)}
    if len(allowed) == len(snap.entries):
        return Selection(tuple(snap.entries), None, None)
    passages: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    for doc_id, entry in snap.entries.items():
        if doc_id in allowed:
            first = entry.first_passage
            passages.append(np.arange(first, first + len(entry.chunks), dtype=np.int64))
            base = entry.first_sentence
            ids.append(np.arange(base, base + len(entry.sentences), dtype=np.int64))
    # in row order, as ranking over all passages sees them (ties keep that order)
    passage_ids = np.sort(np.concatenate(passages)) if passages else np.zeros(0, np.int64)
    faiss_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    return Selection(tuple(d for d in snap.entries if d in allowed), passage_ids, id_selector(faiss_ids))


class Selections:
    """One snapshot's selections by filters (computed once; least recently used dropped beyond the limit)."""

    def __init__(self, snap: Any) -> None:  # an index.snapshot.IndexSnapshot (not imported: it imports this)
        self._snap = snap
        self._items: OrderedDict[DocFilter, Selection] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, filters: DocFilter) -> Selection:
        with self._lock:
            found = self._items.get(filters)
            if found is not None:
                self._items.move_to_end(filters)
                return found
        selection = select(self._snap, filters)  # outside the lock: one slow selection does not hold up the others
        with self._lock:
            self._items[filters] = selection
            while len(self._items) > SELECTIONS_KEPT:
                self._items.popitem(last=False)
        return selection


def dense_passage_scores(snap: Any, qvecs: np.ndarray,
                         selector: faiss.IDSelector | None = None) -> list[np.ndarray]:
    """Per question, each passage's best sentence cosine similarity (0 for passages outside the candidates); with
    ``selector`` the candidates are the best sentences among the vectors it selects."""
    n_pass = snap.passage_slots  # scores are indexed by passage row; rows of removed documents stay 0
    out = [np.zeros(n_pass, dtype=np.float32) for _ in range(len(qvecs))]
    if snap.n_passages == 0:
        return out
    scores, ids = snap.search_vectors(qvecs, DENSE_CANDIDATES, selector)
    for row, (srow, irow) in enumerate(zip(scores.tolist(), ids.tolist(), strict=True)):
        dense = out[row]
        for score, sid in zip(srow, irow, strict=True):
            if sid < 0:
                continue
            for pid in snap.sentence_passages[sid]:
                if score > dense[pid]:
                    dense[pid] = score
    return out


def bm25_passage_scores(snap: Any, question_terms: Sequence[str]) -> np.ndarray:
    """BM25 score of every passage row for the question's terms (unknown terms contribute nothing)."""
    return snap.bm25_scores(question_terms)


def passage_scores(snap: Any, qvecs: np.ndarray, question_terms: Sequence[Sequence[str]],
                   filters: Sequence[DocFilter | None]) -> list[PassageScores | None]:
    """Every allowed passage's dense and BM25 score per question; questions sharing filters share one FAISS
    search. Only live passages are scored: rows of removed documents wait for compaction to disappear."""
    selections = [None if f is None else snap.selection(f) for f in filters]
    groups: dict[int, list[int]] = {}
    for row, selection in enumerate(selections):
        groups.setdefault(id(selection), []).append(row)
    dense_all: list[np.ndarray | None] = [None] * len(selections)
    for rows in groups.values():
        selection = selections[rows[0]]
        if selection is not None and selection.empty:
            continue
        vecs = qvecs if len(rows) == len(qvecs) else qvecs[rows]
        selector = None if selection is None else selection.selector
        for row, scores in zip(rows, dense_passage_scores(snap, vecs, selector), strict=True):
            dense_all[row] = scores
    out: list[PassageScores | None] = []
    for dense, selection, qterms in zip(dense_all, selections, question_terms, strict=True):
        if dense is None:
            out.append(None)
            continue
        bm25 = bm25_passage_scores(snap, qterms)
        ids = snap.live_passages if selection is None else selection.passage_ids
        out.append(PassageScores(None, dense, bm25) if ids is None else PassageScores(ids, dense[ids], bm25[ids]))
    return out
