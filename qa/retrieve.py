"""Hybrid retrieval: FAISS sentence vectors aggregated to passages, BM25 over passages, fused."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from index.embedder import Embedder
from index.snapshot import IndexSnapshot
from index.text import terms
from qa.batching import MicroBatcher
from qa.fusion import get_fusion
from qa.models import Hit

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


def dense_passage_scores(snap: IndexSnapshot, qvecs: np.ndarray) -> list[np.ndarray]:
    """Per question, each passage's best sentence cosine similarity (0 for passages outside the candidates)."""
    n_pass = len(snap.passages)
    out = [np.zeros(n_pass, dtype=np.float32) for _ in range(len(qvecs))]
    if n_pass == 0:
        return out
    scores, ids = snap.search_vectors(qvecs, DENSE_CANDIDATES)
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
    """BM25 score of every passage for the question's terms (unknown terms contribute nothing)."""
    if snap.bm25 is None:
        return np.zeros(len(snap.passages), dtype=np.float32)
    vocab = snap.bm25.vocab_dict
    known = [t for t in question_terms if t in vocab]
    if not known:
        return np.zeros(len(snap.passages), dtype=np.float32)
    return np.asarray(snap.bm25.get_scores(known), dtype=np.float32)


class Retriever:
    """Ranks passages of a snapshot for a batch of questions."""

    def __init__(self, encoder: QuestionEncoder, fusion: str = "normalized", dense_weight: float = 0.5) -> None:
        self.encoder = encoder
        self.fuse = get_fusion(fusion)
        self.fusion = fusion
        self.dense_weight = dense_weight

    def search(self, snap: IndexSnapshot, question: str, k: int) -> list[Hit]:
        return self.search_batch(snap, [question], k)[0]

    def search_batch(self, snap: IndexSnapshot, questions: Sequence[str], k: int,
                     qvecs: np.ndarray | None = None) -> list[list[Hit]]:
        """Top ``k`` passages per question, best first."""
        if qvecs is None:
            qvecs = self.encoder.encode(questions)
        dense_all = dense_passage_scores(snap, qvecs)
        results = []
        for question, dense in zip(questions, dense_all, strict=True):
            bm25 = bm25_passage_scores(snap, terms(question))
            fused = self.fuse(dense, bm25, self.dense_weight)
            top = np.argsort(-fused, kind="stable")[: min(k, len(fused))]
            results.append([
                Hit(passage_id=int(i), score=float(fused[i]), dense=float(dense[i]), bm25=float(bm25[i]))
                for i in top
            ])
        return results
