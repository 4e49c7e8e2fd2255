"""Pure evaluation metrics: ranking metrics over relevance lists, span overlap, abstention and calibration."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """True when the half-open spans ``[a_start, a_end)`` and ``[b_start, b_end)`` share a character."""
    return a_start < b_end and b_start < a_end


def contains_answer(text: str | None, answers: Sequence[str], cap: int | None = None) -> bool:
    """A gold answer occurs in ``text`` (case-insensitive); ``cap`` truncates the text first."""
    if not text:
        return False
    hay = (text if cap is None else text[:cap]).casefold()
    return any(a.casefold() in hay for a in answers if a)


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1 when any of the first ``k`` results is relevant."""
    return 1.0 if any(relevant[:k]) else 0.0


def recall_at_k(relevant: Sequence[bool], k: int, n_relevant: int) -> float:
    """Share of all ``n_relevant`` relevant items found in the first ``k`` results (0 when there are none)."""
    if n_relevant <= 0:
        return 0.0
    return min(1.0, sum(1 for r in relevant[:k] if r) / n_relevant)


def mrr_at_k(relevant: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first relevant result within the first ``k``, else 0."""
    for rank, rel in enumerate(relevant[:k], 1):
        if rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevant: Sequence[bool], k: int, n_relevant: int) -> float:
    """Binary-gain nDCG: DCG of the first ``k`` results over the DCG of an ideal ranking."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, rel in enumerate(relevant[:k], 1) if rel)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, n_relevant) + 1))
    return dcg / ideal if ideal > 0 else 0.0


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant result, or None."""
    return next((rank for rank, rel in enumerate(relevant, 1) if rel), None)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def ranking_summary(rankings: Sequence[tuple[Sequence[bool], int]], ks: Sequence[int] = (1, 3, 5, 10),
                    depth: int = 10) -> dict[str, float]:
    """Mean hit@k, recall@k, MRR@depth and nDCG@depth over (relevance list, number relevant) pairs."""
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = mean([hit_at_k(rel, k) for rel, _ in rankings])
    for k in ks:
        out[f"recall@{k}"] = mean([recall_at_k(rel, k, n) for rel, n in rankings])
    out[f"mrr@{depth}"] = mean([mrr_at_k(rel, depth) for rel, _ in rankings])
    out[f"ndcg@{depth}"] = mean([ndcg_at_k(rel, depth, n) for rel, n in rankings])
    return out


def precision_recall(predicted: Sequence[bool], actual: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of the positive class (0 when undefined)."""
    tp = sum(1 for p, a in zip(predicted, actual, strict=True) if p and a)
    n_pred, n_act = sum(predicted), sum(actual)
    return (tp / n_pred if n_pred else 0.0, tp / n_act if n_act else 0.0)


@dataclass(frozen=True, slots=True)
class Bin:
    """One bin of a reliability table: confidences in ``[lo, hi)`` (the last bin includes 1.0)."""

    lo: float
    hi: float
    count: int
    mean_confidence: float
    accuracy: float


def reliability_table(confidences: Sequence[float], outcomes: Sequence[bool], n_bins: int = 10) -> list[Bin]:
    """Equal-width bins over [0, 1] with the mean confidence and observed frequency of the event in each."""
    members: list[list[int]] = [[] for _ in range(n_bins)]
    for i, c in enumerate(confidences):
        members[min(n_bins - 1, max(0, int(c * n_bins)))].append(i)
    table = []
    for b, idx in enumerate(members):
        conf = mean([confidences[i] for i in idx])
        acc = mean([1.0 if outcomes[i] else 0.0 for i in idx])
        table.append(Bin(b / n_bins, (b + 1) / n_bins, len(idx), conf, acc))
    return table


def expected_calibration_error(confidences: Sequence[float], outcomes: Sequence[bool], n_bins: int = 10) -> float:
    """Count-weighted mean of |accuracy - mean confidence| over the bins of the reliability table."""
    total = len(confidences)
    if total == 0:
        return 0.0
    return sum(b.count / total * abs(b.accuracy - b.mean_confidence)
               for b in reliability_table(confidences, outcomes, n_bins))
