"""Calibrated confidence: a logistic model over answer features, fitted by `python -m eval.calibrate`."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Fitted weights (see eval/calibrate.py); the intercept comes first. Refit after changing features.
WEIGHTS: dict[str, float] = {
    "bias": -6.0,
    "cos": 6.0,
    "coverage": 3.0,
    "passage": 1.0,
    "type": 1.0,
    "margin": 2.0,
    "entity_coverage": 2.0,
}
ABSTAIN_BELOW = 0.35


@dataclass(frozen=True, slots=True)
class Features:
    """Signals about the chosen answer sentence, each in [0, 1]."""

    cos: float
    coverage: float
    passage: float
    type: float
    margin: float
    entity_coverage: float

    def as_dict(self) -> dict[str, float]:
        return {"cos": self.cos, "coverage": self.coverage, "passage": self.passage, "type": self.type,
                "margin": self.margin, "entity_coverage": self.entity_coverage}


def probability(features: Features, weights: dict[str, float] | None = None) -> float:
    """Estimated probability that the chosen sentence answers the question."""
    w = weights or WEIGHTS
    z = w["bias"] + sum(w[name] * value for name, value in features.as_dict().items())
    return 1.0 / (1.0 + math.exp(-z))
