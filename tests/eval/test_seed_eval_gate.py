"""CI gate: the seed eval must not drop below the thresholds measured on the current pipeline."""

from __future__ import annotations

import pytest

from eval.dataset import SEED_EVAL, load_eval_set
from eval.seed import run_eval
from qa.service import QAService

# Set just under the values measured on 2026-11-21 (`python -m eval --json`), the lower of two runs: commit cb03303
# and commit 0b17f30 with the lead's uncommitted qa/ tuning (answer selection + abstention). Measured: fused
# (normalized) hit@5 1.000 / 1.000, citation right 0.898 / 0.898, abstention recall 0.643 / 0.786, quote exact
# 1.000 / 1.000, conversation turn accuracy 0.833 / 0.792. Re-set after tuning; never lower them to let a change pass.
THRESHOLDS: dict[str, float] = {
    "fused_hit@5": 0.98,
    "citation_right": 0.88,
    "abstention_recall": 0.62,
    "quote_exact": 1.0,
    "turn_accuracy": 0.77,
}


@pytest.fixture(scope="module")
def seed_result(seed_service: QAService) -> dict:
    return run_eval(seed_service, load_eval_set(SEED_EVAL))


def measured(result: dict, fusion: str) -> dict[str, float]:
    return {
        "fused_hit@5": result["retrieval"][fusion]["hit@5"],
        "citation_right": result["answers"]["citation_right"],
        "abstention_recall": result["abstention"]["recall"],
        "quote_exact": result["answers"]["quote_exact"],
        "turn_accuracy": result["conversations"]["turn_accuracy"],
    }


@pytest.mark.parametrize("metric", sorted(THRESHOLDS))
def test_seed_eval_meets_threshold(seed_result: dict, seed_service: QAService, metric: str) -> None:
    value = measured(seed_result, seed_service.settings.fusion)[metric]
    failing = [f["id"] for f in seed_result["failures"]]
    assert value >= THRESHOLDS[metric], (
        f"{metric} = {value:.3f} fell below {THRESHOLDS[metric]:.3f}; failing questions: {failing}. "
        "Run `python -m eval` for the full report."
    )


def test_every_eval_question_was_judged(seed_result: dict) -> None:
    evalset = load_eval_set(SEED_EVAL)
    assert seed_result["answers"]["answerable"] == len(evalset.answerable)
    assert seed_result["abstention"]["unanswerable"] == len(evalset.unanswerable)
    assert seed_result["conversations"]["turns"] == sum(len(c.turns) for c in evalset.conversations)
