"""Hybrid retrieval: the backend's dense and BM25 scores of candidate passages, fused and ranked here."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from index.backend import PassageScores, ReadView
from index.embedder import Embedder
from index.filters import Filters
from qa.batching import MicroBatcher
from qa.fusion import get_fusion
from qa.models import Hit
from qa.question import Query


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


class Retriever:
    """Ranks passages of a snapshot for a batch of questions."""

    def __init__(self, encoder: QuestionEncoder, fusion: str = "normalized", dense_weight: float = 0.5) -> None:
        self.encoder = encoder
        self.fuse = get_fusion(fusion)
        self.fusion = fusion
        self.dense_weight = dense_weight

    def queries(self, questions: Sequence[str], reader_texts: Sequence[str] | None = None) -> list[Query]:
        """The Query of each question (one encoder call for those not cached), read with ``reader_texts[i]`` when
        given."""
        vectors = self.encoder.encode(questions)
        readers = reader_texts if reader_texts is not None else [None] * len(questions)
        return [Query.of(q, v, r) for q, v, r in zip(questions, vectors, readers, strict=True)]

    def search(self, view: ReadView, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        return self.search_batch(view, self.queries([question]), k, filters=[filters])[0]

    def search_batch(self, view: ReadView, queries: Sequence[Query], k: int,
                     filters: Sequence[Filters | None] | None = None) -> list[list[Hit]]:
        """Top ``k`` passages per question, best first. ``filters[i]`` restricts question ``i`` to the documents it
        allows, inside retrieval: it still gets ``k`` passages when its documents have that many; none when they
        are none."""
        dim = self.encoder.embedder.dim
        qvecs = np.vstack([q.vector for q in queries]) if queries else np.zeros((0, dim), np.float32)
        scored = view.passage_scores(qvecs, [list(q.terms) for q in queries], filters or [None] * len(queries))
        results = [[] if s is None else self._top(s, k) for s in scored]
        view.resolve(h.passage_id for hits in results for h in hits)
        return results

    def _top(self, scores: PassageScores, k: int) -> list[Hit]:
        """The ``k`` best passages by fused score among the candidates (scores are normalized over them, and over
        one more passage scoring 0 when allowed passages outside the candidates exist)."""
        dense, bm25 = scores.dense, scores.bm25
        n = len(dense)
        if scores.others:
            dense, bm25 = np.append(dense, np.float32(0)), np.append(bm25, np.float32(0))
        fused = self.fuse(dense, bm25, self.dense_weight)[:n]
        top = np.argsort(-fused, kind="stable")[: min(k, n)]
        ids = top if scores.passage_ids is None else scores.passage_ids[top]
        return [Hit(passage_id=int(p), score=float(fused[i]), dense=float(dense[i]), bm25=float(bm25[i]))
                for i, p in zip(top, ids, strict=True)]
