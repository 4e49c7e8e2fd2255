"""The question-embedding cache: repeated questions cost no forward pass, and its memory is bounded by its size."""

from __future__ import annotations

import numpy as np

from index.embedder import Embedder
from qa.retrieve import QuestionEncoder


def test_cached_vectors_own_their_memory_and_the_cache_is_bounded(embedder: Embedder) -> None:
    encoder = QuestionEncoder(embedder, cache_size=3)
    questions = [f"Who attended meeting number {i}?" for i in range(5)]
    first = encoder.encode(questions)  # one forward pass for the batch of five
    assert first.shape == (5, 384)
    assert list(encoder._cache) == questions[2:]  # least recently used ones evicted
    for vec in encoder._cache.values():
        assert vec.base is None and vec.nbytes == 384 * 4  # not a view pinning the 5-row batch array
    calls = encoder.batcher.calls
    again = encoder.encode(questions[2:])
    assert encoder.batcher.calls == calls  # served from the cache
    np.testing.assert_array_equal(again, first[2:])
