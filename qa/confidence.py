"""Calibrated confidence: a logistic model over answer features, fitted by `python -m eval.calibrate`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

# Fitted by logistic regression on 700 SQuAD questions (label: the chosen sentence contains a gold answer), the seed
# eval set, its unanswerable questions and 300 SQuAD questions asked of the seed articles (label 0). Refit with
# `python -m eval.calibrate` after changing features or selection.
WEIGHTS: dict[str, float] = {
    "bias": -7.889,
    "cos": 2.71,
    "coverage": 2.201,
    "passage": 4.338,
    "type": -0.08,
    "margin": 1.706,
    "entity_coverage": 1.173,
    "oov": -1.214,
}
# Below this estimated probability the service answers null (chosen on the seed eval set: 53/59 answered right,
# 11/14 unanswerable abstained).
ABSTAIN_BELOW = 0.25


@dataclass(frozen=True, slots=True)
class Features:
    """Signals about the chosen answer sentence, each in [0, 1]."""

    cos: float
    coverage: float
    passage: float
    type: float
    margin: float
    entity_coverage: float
    oov: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


FEATURE_NAMES = tuple(f.name for f in fields(Features))


def probability(features: Features, weights: dict[str, float] | None = None) -> float:
    """Estimated probability that the chosen sentence answers the question."""
    w = weights or WEIGHTS
    z = w["bias"] + sum(w[name] * getattr(features, name) for name in FEATURE_NAMES)
    return 1.0 / (1.0 + math.exp(-z))
