"""Span decoding around the reader's logits: exact token choices and character offsets on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from qa.reader.decode import best_span, read_one, snap_to_words


def test_best_span_takes_the_highest_start_plus_end_within_context() -> None:
    start = np.array([9.0, 0.0, 5.0, 1.0, 0.0])
    end = np.array([9.0, 0.0, 0.0, 1.0, 4.0])
    context = np.array([False, True, True, True, True])  # token 0 ([CLS]) can never be chosen
    first, last, prob = best_span(start, end, context)
    assert (first, last) == (2, 4)
    assert 0.0 < prob < 1.0


def test_best_span_never_ends_before_it_starts() -> None:
    start = np.array([0.0, 0.0, 0.0, 8.0])
    end = np.array([0.0, 8.0, 0.0, 1.0])
    first, last, _ = best_span(start, end, np.array([True, True, True, True]))
    assert first <= last
    assert (first, last) == (3, 3)


def test_best_span_respects_the_length_cap() -> None:
    start = np.array([5.0] + [0.0] * 9)
    end = np.array([0.0] * 9 + [5.0])
    first, last, _ = best_span(start, end, np.ones(10, dtype=bool), max_tokens=4)
    assert last - first < 4


@pytest.mark.parametrize(("inner_share", "expected"), [(0.9, (3, 4)), (0.5, (1, 4))])
def test_best_span_prefers_a_span_inside_it_that_is_nearly_as_likely(inner_share: float,
                                                                        expected: tuple[int, int]) -> None:
    # tokens 1-4 are the best span; tokens 3-4 (the same end, a later start) have ``inner_share`` of its probability
    start = np.array([0.0, 6.0, 0.0, 6.0 + np.log(inner_share), 0.0])
    end = np.array([0.0, 0.0, 0.0, 0.0, 6.0])
    first, last, prob = best_span(start, end, np.array([False, True, True, True, True]))
    assert (first, last) == expected
    probs = np.exp(start[1:] - np.log(np.exp(start[1:]).sum())) * np.exp(end[4] - np.log(np.exp(end[1:]).sum()))
    assert prob == pytest.approx(probs[expected[0] - 1])


def test_best_span_without_context_is_an_error() -> None:
    with pytest.raises(ValueError, match="no context tokens"):
        best_span(np.zeros(3), np.zeros(3), np.zeros(3, dtype=bool))


@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        ("They met in Helsinki on Wednesday.", 12, 16, "Helsinki"),  # a word piece widened to the whole word
        ("They met in Helsinki on Wednesday.", 24, 34, "Wednesday"),  # the sentence's full stop dropped
        ("It cost 212 million euros, he said.", 8, 26, "212 million euros"),  # trailing comma dropped
        ("Talks ended in the U.S. in 2021.", 15, 23, "the U.S."),  # an abbreviation keeps its period
        ("It cost $5 in all.", 8, 10, "$5"),  # a currency sign stays
    ],
)
def test_snap_to_words(text: str, start: int, end: int, expected: str) -> None:
    a, b = snap_to_words(text, start, end)
    assert text[a:b] == expected


def test_read_one_maps_tokens_to_sentence_characters() -> None:
    sentence = "They met in Helsinki."
    # [CLS] q [SEP] they met in hel ##sinki . [SEP]
    offsets = np.array([[-1, -1], [-1, -1], [-1, -1], [0, 4], [5, 8], [9, 11], [12, 15], [15, 20], [20, 21],
                        [-1, -1]])
    start = np.zeros(10)
    end = np.zeros(10)
    start[6], end[7] = 10.0, 10.0
    reading = read_one(sentence, start, end, 2.0, offsets)
    assert sentence[reading.start : reading.end] == "Helsinki"
    assert (reading.start, reading.end) == (12, 20)
    assert reading.answerable == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert reading.logit == 2.0


def test_read_one_without_context_tokens_reads_no_span() -> None:
    # a sentence of control characters only: the tokenizer keeps none of it, so there is nothing to answer with
    offsets = np.array([[-1, -1], [-1, -1], [-1, -1]])
    reading = read_one("\x01\x02\x03", np.zeros(3), np.zeros(3), 4.0, offsets)
    assert (reading.start, reading.end, reading.span_prob, reading.answerable) == (0, 0, 0.0, 0.0)
