"""Calibrated confidence: logistic model over reader scores and retrieval signals (`python -m eval.calibrate`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

# Fitted by `python -m eval.calibrate --index-dir /tmp/squad-idx` for reader minilm-l6-reader-e81fff698961 (logistic
# regression on 3,004 labelled answers: SQuAD dev part A on its index, SQuAD questions on the seed index, seed
# unanswerable questions on the SQuAD index, the seed eval set), refit for the passage-aware candidate order
# (qa.answer.PASSAGE_PREFILTER) and the reader's early exit (fit with Settings.reader_early_exit at 0.7, kept at its
# default 0.6: the first candidate is read alone); held-out ECE 0.029 with a half fit.
WEIGHTS: dict[str, float] = {
    "bias": -8.26,
    "reader": 1.277,
    "reader_logit": 0.246,
    "span": 1.712,
    "cos": 0.488,
    "coverage": 0.3,
    "passage": 5.385,
    "entity_coverage": 0.861,
    "oov": -1.057,
}
# Below this estimated probability the service answers null.
ABSTAIN_BELOW = 0.5


@dataclass(frozen=True, slots=True)
class Features:
    """Signals about one candidate sentence and the span the reader found in it."""

    reader: float  # the reader's answerability probability (sigmoid of reader_logit)
    reader_logit: float  # the same, as a logit clipped to [-10, 10]
    span: float  # probability of the chosen span among the sentence's spans
    cos: float  # cosine of sentence and question embeddings
    coverage: float  # IDF-weighted share of question terms in the sentence
    passage: float  # best fused score of a passage holding the sentence, relative to the top passage
    entity_coverage: float  # share of the question's names the sentence's article contains
    oov: float  # IDF-weighted share of question terms no article contains

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


FEATURE_NAMES = tuple(f.name for f in fields(Features))


def probability(features: Features, weights: dict[str, float] | None = None) -> float:
    """Estimated probability that the span read from this sentence answers the question."""
    w = weights or WEIGHTS
    z = w["bias"] + sum(w[name] * getattr(features, name) for name in FEATURE_NAMES)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
