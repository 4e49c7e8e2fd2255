"""AnswerParams: the answer tunables come from Settings (QA_* variables) and can be passed per call; ask_scored returns
the candidates each answer was chosen from, so calibration and the abstention sweep use the public API."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from qa.config import AnswerParams, Settings
from qa.service import QAService

CONFIDENT = "Which port did the US patrol boats reach?"
UNSURE = "In what year had Milley and Gerasimov met before Helsinki?"


def test_the_params_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().answer_params() == AnswerParams(candidates=4, early_exit=0.6, abstain_below=0.48, passages=5,
                                                      passage_weight=1.5)
    monkeypatch.setenv("QA_ABSTAIN_BELOW", "0.3")
    monkeypatch.setenv("QA_ANSWER_PASSAGES", "8")
    monkeypatch.setenv("QA_PASSAGE_PREFILTER", "2")
    params = Settings().answer_params()
    assert (params.abstain_below, params.passages, params.passage_weight) == (0.3, 8, 2.0)


def test_an_out_of_range_threshold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_ABSTAIN_BELOW", "1.5")
    with pytest.raises(ValidationError, match="abstain_below"):
        Settings()


def test_ask_scored_returns_the_candidates_the_answer_was_chosen_from(seed_service: QAService) -> None:
    outcome = seed_service.ask_scored([UNSURE], params=replace(seed_service.params, early_exit=1.01))[0]
    assert len(outcome.scored) == 4  # every candidate read
    probabilities = [s.probability for s in outcome.scored]
    assert probabilities == sorted(probabilities, reverse=True)
    best = outcome.scored[0]
    assert outcome.answer.answer == "2019" and outcome.answer.confidence == round(best.probability, 4)
    assert outcome.answer.citations[0].quote == seed_service.store.snapshot.sentences[best.candidate.sentence_id].text


def test_params_passed_per_call_move_the_threshold(seed_service: QAService) -> None:
    shipped = seed_service.ask_scored([CONFIDENT])[0]
    assert shipped.answer.answer == "southern port of Odessa"
    strict = seed_service.ask_scored([CONFIDENT], params=replace(seed_service.params, abstain_below=1.0))[0]
    assert strict.answer.answer is None
    assert strict.answer.abstain_reason == "no sentence in the articles supports an answer"
    assert strict.answer.confidence == round(1 - strict.scored[0].probability, 4)
    assert [s.candidate for s in strict.scored] == [s.candidate for s in shipped.scored]
    assert seed_service.ask(CONFIDENT).answer == "southern port of Odessa"  # the service's own params are untouched


def test_an_event_question_reads_no_candidates(seed_service: QAService) -> None:
    outcome = seed_service.ask_scored(["What happened on Tuesday?"])[0]
    assert outcome.scored == []
