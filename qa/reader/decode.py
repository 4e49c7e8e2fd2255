"""Pure decisions around the reader's logits: the best span inside a sentence, snapped to whole words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SPAN_TOKENS = 24
# a span strictly inside the best one with at least this share of its probability is the answer instead: the reader
# often spreads its probability over a phrase and its core ("Denver linebacker Von Miller" / "Von Miller"), and the
# core is what a question asks for (SQuAD dev part A gold paragraphs: span EM 0.754 -> 0.759; docs/tuning.md)
NESTED_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class Reading:
    """The reader's view of one candidate sentence: the answer's characters in it and two probabilities."""

    start: int
    end: int
    span_prob: float  # P(start) * P(end) of the chosen span among the sentence's tokens
    answerable: float  # P(this sentence answers the question), from the [CLS] head (before calibration)
    logit: float  # the answerability logit, for calibration


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, context: np.ndarray,
              max_tokens: int = MAX_SPAN_TOKENS, nested_share: float = NESTED_SHARE) -> tuple[int, int, float]:
    """Token indices (first, last) maximising start + end log-probability with first <= last < first + max_tokens,
    or the likeliest span strictly inside that one when it has at least ``nested_share`` of its probability.

    Only tokens where ``context`` is true can start or end a span; returns the span's probability too.
    """
    idx = np.nonzero(context)[0]
    if len(idx) == 0:
        raise ValueError("no context tokens to read a span from")
    ls, le = _log_softmax(start_logits[idx]), _log_softmax(end_logits[idx])
    n = len(idx)
    scores = ls[:, None] + le[None, :]
    i, j = np.indices((n, n))
    scores[(j < i) | (j - i >= max_tokens)] = -np.inf
    a, b = np.unravel_index(int(np.argmax(scores)), scores.shape)
    if b > a:
        inner = scores[a : b + 1, a : b + 1].copy()
        inner[0, b - a] = -np.inf  # the best span itself
        c, d = np.unravel_index(int(np.argmax(inner)), inner.shape)
        if inner[c, d] >= scores[a, b] + np.log(nested_share):
            a, b = a + c, a + d
    return int(idx[a]), int(idx[b]), float(np.exp(scores[a, b]))


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) so it neither starts nor ends inside a word; strip surrounding spaces and punctuation."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and not text[start].isalnum() and text[start] not in "$€£¥\"'“‘(-+":
        start += 1
    while end > start and text[end - 1] in " \t\n,;:.!?)'\"”’" and not (text[end - 1] == "." and _abbrev(text, end)):
        end -= 1
    return start, end


def _abbrev(text: str, end: int) -> bool:
    """A closing period that belongs to a short abbreviation such as "U.S." or "Jr."."""
    word = text[:end].rsplit(None, 1)[-1]
    return word.count(".") > 1 or word in {"Jr.", "Sr.", "Inc.", "Ltd.", "Co.", "St."}


def read_one(sentence: str, start_logits: np.ndarray, end_logits: np.ndarray, answer_logit: float,
             offsets: np.ndarray) -> Reading:
    """Decode one candidate: character offsets of the best span in ``sentence`` and its probabilities."""
    context = offsets[:, 0] >= 0
    if not context.any():  # nothing the tokenizer keeps (control characters only): no span, never an answer
        return Reading(0, 0, 0.0, 0.0, -30.0)
    first, last, prob = best_span(start_logits, end_logits, context)
    start, end = snap_to_words(sentence, int(offsets[first, 0]), int(offsets[last, 1]))
    if start >= end:  # only punctuation was chosen: fall back to the raw token range
        start, end = int(offsets[first, 0]), int(offsets[last, 1])
    return Reading(start, end, prob, float(1.0 / (1.0 + np.exp(-answer_logit))), float(answer_logit))
