"""Calibrated confidence: logistic model over reader scores and retrieval signals (eval.tuning.calibrate fits it)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

# Fitted by `python -m eval.tuning.calibrate --index-dir /tmp/squad-idx` for reader minilm-l6-reader-d8adf58cabb6
# (logistic regression on 3,146 labelled answers: SQuAD dev part A on its index, SQuAD questions on the seed index, and
# 238 in-domain unanswerable questions of SQuAD paragraphs withheld from their articles' index; no question of the seed,
# hard-seed or follow-up eval sets, which measure it), with the passage-aware candidate order
# (Settings.passage_prefilter) and the reader's early exit at its default (Settings.reader_early_exit). The early exit
# depends on the weights in place, which decide which candidate each row records, so the fit ran twice: first with the
# previous reader's weights in place, then with that first fit's; these are the second. The committed
# eval/reports/calibrate/output.txt is the same command rerun with these weights in place.
WEIGHTS: dict[str, float] = {
    "bias": -9.44,
    "reader": 1.915,
    "reader_logit": 0.35,
    "span": 1.803,
    "cos": 0.706,
    "coverage": 0.485,
    "passage": 5.993,
    "entity_coverage": 0.653,
    "oov": -1.28,
}


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
