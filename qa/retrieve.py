"""Hybrid retrieval: FAISS sentence vectors aggregated to passages, BM25 over passages, fused."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import faiss
import numpy as np

from index.embedder import Embedder
from index.filters import Filters, Selection, SelectionCache
from index.snapshot import IndexSnapshot
from qa.batching import MicroBatcher
from qa.fusion import get_fusion
from qa.models import Hit
from qa.question import Query

DENSE_CANDIDATES = 200


class QuestionEncoder:
    """Question embeddings with an LRU cache, so a repeated question costs no forward pass.

    Questions from concurrent threads that miss the cache are encoded together in one forward pass (MicroBatcher).
    """

    def __init__(self, embedder: Embedder, cache_size: int = 2048) -> None:
        self.embedder = embedder
        self.cache_size = cache_size
        self.batcher = MicroBatcher(embedder.encode_questions)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, questions: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = {q: self._cache[q] for q in questions if q in self._cache}
            for q in vectors:
                self._cache.move_to_end(q)
        missing = list(dict.fromkeys(q for q in questions if q not in vectors))
        if missing:
            # copies: a row view would keep its whole batch array alive in the cache
            vectors.update((q, v.copy()) for q, v in zip(missing, self.batcher(missing), strict=True))
            with self._lock:
                for q in missing:
                    self._cache[q] = vectors[q]
                    self._cache.move_to_end(q)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return np.vstack([vectors[q] for q in questions]).astype(np.float32)


def dense_passage_scores(snap: IndexSnapshot, qvecs: np.ndarray,
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


def bm25_passage_scores(snap: IndexSnapshot, question_terms: list[str]) -> np.ndarray:
    """BM25 score of every passage row for the question's terms (unknown terms contribute nothing)."""
    return snap.bm25_scores(question_terms)


class Retriever:
    """Ranks passages of a snapshot for a batch of questions."""

    def __init__(self, encoder: QuestionEncoder, fusion: str = "normalized", dense_weight: float = 0.5) -> None:
        self.encoder = encoder
        self.fuse = get_fusion(fusion)
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.selections = SelectionCache()

    def select(self, snap: IndexSnapshot, filters: Filters) -> Selection:
        """What ``filters`` leave of ``snap`` (computed once per snapshot and filters)."""
        return self.selections.get(snap, filters)

    def queries(self, questions: Sequence[str], reader_texts: Sequence[str] | None = None) -> list[Query]:
        """The Query of each question (one encoder call for those not cached), read with ``reader_texts[i]`` when
        given."""
        vectors = self.encoder.encode(questions)
        readers = reader_texts if reader_texts is not None else [None] * len(questions)
        return [Query.of(q, v, r) for q, v, r in zip(questions, vectors, readers, strict=True)]

    def search(self, snap: IndexSnapshot, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        return self.search_batch(snap, self.queries([question]), k, filters=[filters])[0]

    def search_batch(self, snap: IndexSnapshot, queries: Sequence[Query], k: int,
                     filters: Sequence[Filters | None] | None = None) -> list[list[Hit]]:
        """Top ``k`` passages per question, best first. ``filters[i]`` restricts question ``i`` to the documents it
        allows, inside retrieval: it still gets ``k`` passages when its documents have that many; none when they
        are none."""
        selections = [None if f is None else self.select(snap, f) for f in (filters or [None] * len(queries))]
        qvecs = np.vstack([q.vector for q in queries]) if queries else np.zeros((0, snap.dim), np.float32)
        dense_all = self._dense(snap, qvecs, selections)
        results: list[list[Hit]] = []
        for query, dense, selection in zip(queries, dense_all, selections, strict=True):
            if selection is not None and selection.empty:
                results.append([])
                continue
            bm25 = bm25_passage_scores(snap, list(query.terms))
            # only live passages are ranked: rows of removed documents wait for compaction to disappear
            allowed = snap.live_passages if selection is None else selection.passage_ids
            results.append(self._top(dense, bm25, k, allowed))
        return results

    def _dense(self, snap: IndexSnapshot, qvecs: np.ndarray,
               selections: Sequence[Selection | None]) -> list[np.ndarray]:
        """Dense passage scores per question; questions sharing a selection share one FAISS search."""
        groups: dict[int, list[int]] = {}
        for row, selection in enumerate(selections):
            groups.setdefault(id(selection), []).append(row)
        out: list[np.ndarray] = [np.zeros(0, np.float32)] * len(selections)
        for rows in groups.values():
            selection = selections[rows[0]]
            if selection is not None and selection.empty:
                continue
            selector = None if selection is None else selection.selector
            vecs = qvecs if len(rows) == len(qvecs) else qvecs[rows]
            for row, dense in zip(rows, dense_passage_scores(snap, vecs, selector), strict=True):
                out[row] = dense
        return out

    def _top(self, dense: np.ndarray, bm25: np.ndarray, k: int, passage_ids: np.ndarray | None) -> list[Hit]:
        """The ``k`` best passages by fused score, among ``passage_ids`` only when given (the others are never
        ranked, and scores are normalized over the allowed ones)."""
        if passage_ids is not None:
            dense, bm25 = dense[passage_ids], bm25[passage_ids]
        fused = self.fuse(dense, bm25, self.dense_weight)
        top = np.argsort(-fused, kind="stable")[: min(k, len(fused))]
        ids = top if passage_ids is None else passage_ids[top]
        return [Hit(passage_id=int(p), score=float(fused[i]), dense=float(dense[i]), bm25=float(bm25[i]))
                for i, p in zip(top, ids, strict=True)]
