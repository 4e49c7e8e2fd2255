"""Pure score-fusion functions for combining dense and BM25 rankings, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index.errors import InvalidInputError

RRF_K = 60.0


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every entry (highest score ranks 1); entries scoring 0 rank last."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    ranks[scores <= 0] = np.inf
    return ranks


def rrf(dense: np.ndarray, bm25: np.ndarray, dense_weight: float = 0.5) -> np.ndarray:
    """Reciprocal-rank fusion, rescaled so the best possible score is 1."""
    fused = dense_weight / (RRF_K + _ranks(dense)) + (1 - dense_weight) / (RRF_K + _ranks(bm25))
    return fused * (RRF_K + 1)


def _minmax(scores: np.ndarray) -> np.ndarray:
    """Scores rescaled to [0, 1], the best 1; when all are equal (a collection of one passage), each positive score is
    as good as the best, 1, and any other 0."""
    if len(scores) == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-9:
        return (scores > 0).astype(scores.dtype)
    return (scores - lo) / (hi - lo)


def normalized(dense: np.ndarray, bm25: np.ndarray, dense_weight: float = 0.5) -> np.ndarray:
    """Convex combination of min-max normalized scores."""
    return dense_weight * _minmax(dense) + (1 - dense_weight) * _minmax(bm25)


def dense_only(dense: np.ndarray, bm25: np.ndarray, dense_weight: float = 0.5) -> np.ndarray:
    return np.clip(dense, 0.0, 1.0)


def bm25_only(dense: np.ndarray, bm25: np.ndarray, dense_weight: float = 0.5) -> np.ndarray:
    return _minmax(bm25)


FUSIONS: dict[str, Callable[[np.ndarray, np.ndarray, float], np.ndarray]] = {
    "rrf": rrf,
    "normalized": normalized,
    "dense": dense_only,
    "bm25": bm25_only,
}


def get_fusion(name: str) -> Callable[[np.ndarray, np.ndarray, float], np.ndarray]:
    try:
        return FUSIONS[name]
    except KeyError:
        raise InvalidInputError(f"unknown fusion {name!r}; choose one of {', '.join(FUSIONS)}") from None
