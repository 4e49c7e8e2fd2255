"""Exact values of the eval metrics on tiny hand-made rankings."""

from __future__ import annotations

import pytest

from eval.quality.metrics import (
    contains_answer,
    expected_calibration_error,
    first_relevant_rank,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    overlaps,
    precision_recall,
    ranking_summary,
    recall_at_k,
    reliability_table,
)
from eval.quality.seed import SHORT_WORDS, short_words

# Ranking A: relevant results at ranks 2 and 4, two relevant items exist in total.
A = [False, True, False, True, False]
# Ranking B: nothing relevant retrieved, one relevant item exists.
B = [False, False, False]
# Ranking C: the single relevant item at rank 3.
C = [False, False, True]


def test_overlaps_is_half_open() -> None:
    assert overlaps(0, 5, 4, 9)
    assert not overlaps(0, 5, 5, 9)
    assert not overlaps(5, 9, 0, 5)
    assert overlaps(3, 4, 0, 10)


def test_contains_answer_is_case_insensitive_and_capped() -> None:
    assert contains_answer("They met in HELSINKI.", ["Helsinki"])
    assert not contains_answer("They met in Helsinki.", ["Geneva", "Paris"])
    assert not contains_answer(None, ["Helsinki"])
    assert not contains_answer("x" * 10 + "Helsinki", ["Helsinki"], cap=12)
    assert contains_answer("x" * 10 + "Helsinki", ["Helsinki"], cap=18)


def test_hit_at_k() -> None:
    assert hit_at_k(A, 1) == 0.0
    assert hit_at_k(A, 2) == 1.0
    assert hit_at_k(B, 10) == 0.0


def test_recall_at_k() -> None:
    assert recall_at_k(A, 1, 2) == 0.0
    assert recall_at_k(A, 3, 2) == 0.5
    assert recall_at_k(A, 10, 2) == 1.0
    assert recall_at_k(A, 10, 4) == 0.5
    assert recall_at_k(B, 10, 0) == 0.0


def test_mrr_at_k() -> None:
    assert mrr_at_k(A, 10) == 0.5
    assert mrr_at_k(C, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(C, 2) == 0.0
    assert mrr_at_k(B, 10) == 0.0


def test_ndcg_at_k() -> None:
    # DCG = 1/log2(3) + 1/log2(5); ideal DCG = 1 + 1/log2(3)
    assert ndcg_at_k(A, 10, 2) == pytest.approx(0.6509209298071326)
    # one relevant item at rank 3: 1/log2(4) / 1
    assert ndcg_at_k(C, 10, 1) == pytest.approx(0.5)
    assert ndcg_at_k([True], 10, 1) == 1.0
    assert ndcg_at_k(B, 10, 1) == 0.0
    assert ndcg_at_k(B, 10, 0) == 0.0


def test_first_relevant_rank() -> None:
    assert first_relevant_rank(A) == 2
    assert first_relevant_rank(B) is None


def test_ranking_summary_means_over_questions() -> None:
    summary = ranking_summary([(A, 2), (B, 1), (C, 1)], ks=(1, 3), depth=10)
    assert summary["hit@1"] == 0.0
    assert summary["hit@3"] == pytest.approx(2 / 3)
    assert summary["recall@3"] == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert summary["mrr@10"] == pytest.approx((0.5 + 0 + 1 / 3) / 3)
    assert summary["ndcg@10"] == pytest.approx((0.6509209298071326 + 0 + 0.5) / 3)


def test_precision_recall() -> None:
    predicted = [True, True, False, False, True]
    actual = [True, False, True, False, True]
    assert precision_recall(predicted, actual) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert precision_recall([False, False], [True, False]) == (0.0, 0.0)


def test_reliability_table_bins_and_ece() -> None:
    confidences = [0.05, 0.15, 0.95, 0.95, 1.0, 0.55]
    outcomes = [False, True, True, False, True, True]
    table = reliability_table(confidences, outcomes, n_bins=10)
    assert [b.count for b in table] == [1, 1, 0, 0, 0, 1, 0, 0, 0, 3]
    assert table[9].mean_confidence == pytest.approx((0.95 + 0.95 + 1.0) / 3)
    assert table[9].accuracy == pytest.approx(2 / 3)
    assert table[2].accuracy == 0.0 and table[2].mean_confidence == 0.0
    # bins: |0-0.05|*1 + |1-0.15|*1 + |1-0.55|*1 + |2/3-0.9667|*3, over 6 items
    expected = (0.05 + 0.85 + 0.45 + 3 * abs(2 / 3 - 2.9 / 3)) / 6
    assert expected_calibration_error(confidences, outcomes, n_bins=10) == pytest.approx(expected)
    assert expected_calibration_error([], []) == 0.0


def test_perfectly_calibrated_is_zero() -> None:
    assert expected_calibration_error([1.0, 0.0, 1.0], [True, False, True]) == 0.0


def test_a_short_span_may_be_as_long_as_the_longest_gold_answer() -> None:
    assert short_words(["Helsinki", "in Helsinki"]) == SHORT_WORDS == 8
    # seed question a54: quoting its gold answer exactly (11 words) is as short as the answer can be
    assert short_words(["sending troops and arms across the border to support the separatists",
                        "sending troops and arms across the border"]) == 11
