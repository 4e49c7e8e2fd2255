"""Score fusion: exact values of each pure function and the by-name registry."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from index.errors import InvalidInputError
from qa.config import Settings
from qa.fusion import FUSIONS, RRF_K, bm25_only, dense_only, get_fusion, normalized, rrf

DENSE = np.array([0.9, 0.5, 0.0])
BM25 = np.array([0.0, 2.0, 1.0])


def test_rrf_exact_values() -> None:
    # dense ranks [1, 2, -], bm25 ranks [-, 1, 2]; a zero score contributes nothing
    k = RRF_K
    expected = np.array([0.5 / (k + 1), 0.5 / (k + 2) + 0.5 / (k + 1), 0.5 / (k + 2)]) * (k + 1)
    np.testing.assert_allclose(rrf(DENSE, BM25, 0.5), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rrf(DENSE, BM25, 0.5), [0.5, 0.5 + 0.5 * 61 / 62, 0.5 * 61 / 62], atol=1e-12)


def test_rrf_best_possible_score_is_one() -> None:
    assert rrf(np.array([0.7, 0.1]), np.array([3.0, 1.0]), 0.3)[0] == pytest.approx(1.0, abs=1e-12)


def test_rrf_weights() -> None:
    np.testing.assert_allclose(rrf(DENSE, BM25, 1.0), [1.0, 61 / 62, 0.0], atol=1e-12)
    np.testing.assert_allclose(rrf(DENSE, BM25, 0.0), [0.0, 1.0, 61 / 62], atol=1e-12)


def test_normalized_exact_values() -> None:
    # min-max: dense -> [1, 5/9, 0], bm25 -> [0, 1, 1/2]
    np.testing.assert_allclose(normalized(DENSE, BM25, 0.5), [0.5, (5 / 9 + 1) / 2, 0.25], atol=1e-12)
    np.testing.assert_allclose(normalized(DENSE, BM25, 0.25), [0.25, 0.25 * 5 / 9 + 0.75, 0.375], atol=1e-12)


def test_normalized_constant_and_empty_scores() -> None:
    # one passage, or ties: each is as good as the best, unless it scores nothing
    np.testing.assert_array_equal(normalized(np.array([0.4]), np.array([2.5]), 0.5), [1.0])
    np.testing.assert_array_equal(normalized(np.array([0.4, 0.4]), np.array([1.0, 1.0]), 0.5), [1.0, 1.0])
    np.testing.assert_array_equal(normalized(np.array([0.4, 0.4]), np.array([0.0, 0.0]), 0.5), [0.5, 0.5])
    assert normalized(np.array([]), np.array([]), 0.5).shape == (0,)


def test_single_retriever_fusions() -> None:
    np.testing.assert_array_equal(dense_only(np.array([-0.2, 0.5, 1.3]), BM25, 0.5), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(bm25_only(DENSE, np.array([2.0, 4.0, 3.0]), 0.5), [0.0, 1.0, 0.5])


def test_registry_by_name() -> None:
    assert list(FUSIONS) == ["rrf", "normalized", "dense", "bm25"]
    assert get_fusion("rrf") is rrf and get_fusion("normalized") is normalized


def test_unknown_fusion_is_rejected_with_the_names() -> None:
    with pytest.raises(InvalidInputError) as err:
        get_fusion("max")
    assert str(err.value) == "unknown fusion 'max'; choose one of rrf, normalized, dense, bm25"
    with pytest.raises(ValidationError, match="unknown fusion 'max'; choose one of rrf, normalized, dense, bm25"):
        Settings(fusion="max")
