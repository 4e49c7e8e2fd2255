"""Calibrated confidence: logistic model over reader scores and retrieval signals (`python -m eval.calibrate`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

# Fitted by `python -m eval.calibrate --index-dir /tmp/squad-idx` for reader minilm-l6-reader-e81fff698961 (logistic
# regression on 3,004 labelled answers: SQuAD dev part A on its index, SQuAD questions on the seed index, seed
# unanswerable questions on the SQuAD index, the seed eval set), refit when the candidates began to be offered with
# their passage's score (qa.answer.PASSAGE_PREFILTER); held-out ECE 0.028 with a half fit (the earlier weights on the
# new candidates: 0.027; the refit is kept because it answers better: SQuAD open span EM 0.581 -> 0.588).
WEIGHTS: dict[str, float] = {
    "bias": -8.94,
    "reader": 1.049,
    "reader_logit": 0.271,
    "span": 1.467,
    "cos": 0.615,
    "coverage": 0.471,
    "passage": 6.058,
    "entity_coverage": 0.925,
    "oov": -0.713,
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
