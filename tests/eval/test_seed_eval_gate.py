"""CI gate: the seed eval must not drop below the thresholds measured on the current pipeline."""

from __future__ import annotations

import pytest

from eval.quality.dataset import SEED_EVAL, load_eval_set
from eval.quality.seed import run_eval
from qa.service import QAService

# Re-set on 2026-12-02 for reader minilm-l6-reader-38bbe6cae3f8 (its confidence weights refit, ABSTAIN_BELOW 0.45,
# 4 candidates, the first read alone and the rest only under 0.6), one question under the measured values where they
# rose: short span 0.797 (47/59), span F1 0.847, citation right 0.831 (49/59), abstention recall 0.923 (24/26), quote
# exact 1.000, fused hit@5 1.000, conversation turns 0.708 (17/24). Two bars still sit below the whole-sentence
# pipeline before the reader: citation right was 0.898 and conversation turns 0.833 then (a sentence contains the gold
# answer far more often than a short span does). Conversation turns re-set on 2026-12-03 after the follow-up rewrites
# and qa.conversation.choose_answer (same reader): measured 0.792 (19/24), the bar one turn under. Never lower these
# to let a change pass.
# Re-set on 2026-12-03 for reader minilm-l6-reader-15c00f4f4e75 (its confidence weights refit), one question under the
# measured values, all of which rose (eval/reports/seed/ at b6e1a7e): short span 0.831 (49/59), span F1 0.864, citation
# right 0.847 (50/59), abstention recall 0.962 (25/26), conversation turns 0.833 (20/24).
# Raised on 2026-12-03 for reader minilm-l6-reader-d8adf58cabb6 (ABSTAIN_BELOW 0.48) where it rose: span F1 0.858,
# conversation turns 0.917 (22/24); short span 0.814 (48/59), citation right 0.847 (50/59) and abstention recall 0.923
# (24/26, one more unanswerable question answered: the reader's cost, see its EXPERIMENTS.md) sit at or one question
# over their bars.
# Raised on 2026-12-04 when link lines and teasers for other stories stopped being indexed as sentences
# (index.header.is_link_line): conversation turns 1.000 (24/24; "Who is the Kremlin spokesman quoted in the
# phone-call article?" had abstained, the teaser "Related article: Putin Accuses West ..." among the sentences read in
# place of Peskov's), the bar one turn under.
THRESHOLDS: dict[str, float] = {
    "fused_hit@5": 0.98,
    "short_span": 0.81,
    "span_f1": 0.85,
    "citation_right": 0.83,
    "abstention_recall": 0.92,
    "quote_exact": 1.0,
    "turn_accuracy": 0.95,
}

@pytest.fixture(scope="module")
def seed_result(seed_service: QAService) -> dict:
    return run_eval(seed_service, load_eval_set(SEED_EVAL))


def measured(result: dict, fusion: str) -> dict[str, float]:
    return {
        "fused_hit@5": result["retrieval"][fusion]["hit@5"],
        "short_span": result["answers"]["short_span"],
        "span_f1": result["answers"]["span_f1"],
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
