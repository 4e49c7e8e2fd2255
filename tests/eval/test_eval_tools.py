"""The SQuAD loader keeps exact paragraph offsets; the calibration fit recovers a known logistic model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.quality.dataset import SEED_EVAL, load_eval_set
from eval.quality.squad_data import CALIBRATION_WITHHELD, VENDORED, load_articles, withhold
from eval.tuning.calibrate import fit_logistic


def test_squad_articles_keep_paragraph_offsets() -> None:
    articles = load_articles(VENDORED)
    assert len(articles) == 12
    assert sum(len(a.paragraphs) for a in articles) == 475
    assert sum(len(a.questions) for a in articles) == 2881
    first = articles[0]
    assert first.doc.doc_id == "Super_Bowl_50"
    assert first.doc.title == "Super Bowl 50"
    assert first.questions[0].question == "Which NFL team represented the AFC at Super Bowl 50?"
    assert first.questions[0].answers == ("Denver Broncos",)
    for art in articles:
        for q in art.questions:
            assert (q.start, q.end) in art.paragraphs
            assert any(a in art.doc.text[q.start : q.end] for a in q.answers)


def test_withheld_paragraphs_leave_their_articles_indexed_and_their_answers_out() -> None:
    articles = load_articles(VENDORED)
    docs, questions = withhold(articles, every=5)
    assert [d.doc_id for d in docs] == [a.doc.doc_id for a in articles]
    first = articles[0]
    kept = [first.doc.text[s:e] for i, (s, e) in enumerate(first.paragraphs) if i % 5 != 4]
    assert docs[0].text == "\n\n".join(kept)  # paragraphs 5, 10, ... left out, the others verbatim and in order
    assert docs[0].title == first.doc.title
    out = {span for art in articles for i, span in enumerate(art.paragraphs) if i % 5 == 4}
    collection = " ".join(d.text for d in docs).casefold()
    assert questions and all((q.start, q.end) in out for q in questions)
    assert not any(a.casefold() in collection for q in questions for a in q.answers)
    # a withheld question whose answer a kept paragraph also holds is not unanswerable, so it is not in the set
    answered_elsewhere = [q for art in articles for q in art.questions if (q.start, q.end) in out
                          and any(a.casefold() in collection for a in q.answers)]
    assert answered_elsewhere and not set(answered_elsewhere) & set(questions)
    assert len(questions) == 259


def test_calibration_withholds_other_paragraphs_than_evaluation() -> None:
    articles = load_articles(VENDORED)
    docs, questions = withhold(articles, which=CALIBRATION_WITHHELD)
    first = articles[0]
    kept = [first.doc.text[s:e] for i, (s, e) in enumerate(first.paragraphs) if i % 5 != CALIBRATION_WITHHELD]
    assert docs[0].text == "\n\n".join(kept)
    assert questions and not set(withhold(articles)[1]) & set(questions)


def test_fit_logistic_recovers_the_maximum_likelihood_weights() -> None:
    # x = 0: 1 of 4 positive; x = 1: 3 of 4 positive -> bias = log(1/3), weight = log(3) - log(1/3)
    x = np.array([[1.0, 0.0]] * 4 + [[1.0, 1.0]] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=float)
    w = fit_logistic(x, y, l2=0.0)
    assert w[0] == pytest.approx(math.log(1 / 3), abs=1e-6)
    assert w[1] == pytest.approx(2 * math.log(3), abs=1e-6)


def test_seed_eval_set_loads_with_its_documented_counts() -> None:
    evalset = load_eval_set(SEED_EVAL)
    assert len(evalset.answerable) == 59
    assert len(evalset.unanswerable) == 26  # 14 + 12 in-domain (u15-u26)
    assert len(evalset.conversations) == 9
    assert evalset.answerable[0].gold is not None and evalset.answerable[0].gold.answers == ("Helsinki",)
    assert evalset.conversations[0].turns[0].id == "c01.1"


def test_abstention_sweep_applies_each_threshold_to_the_recorded_probabilities() -> None:
    from eval.tuning.abstention_sweep import answered, answered_right, table

    # (probability, right); None: answered null before the confidence model ran
    rs = [(0.9, True), (0.55, False), (0.42, True), (0.31, True), (None, False)]
    assert answered(rs, 0.5) == pytest.approx(2 / 5)
    assert answered_right(rs, 0.5) == pytest.approx(1 / 5)
    assert answered_right(rs, 0.4) == pytest.approx(2 / 5)
    assert answered_right(rs, 0.3) == pytest.approx(3 / 5)
    unanswerable = [(0.6, False), (0.35, False), (None, False), (0.1, False)]
    withheld = [(0.7, False), (0.2, False)]
    lines = table(rs, rs, unanswerable, withheld, [], [(0.45, False)], [0.5, 0.3], shipped=0.5).splitlines()
    assert lines[2] == "| 0.50 (shipped) | 0.200 | 0.200 | 0.750 | 0.500 | 0.000 | 0.000 |"
    assert lines[3] == "| 0.30 | 0.600 | 0.600 | 0.500 | 0.500 | 0.000 | 1.000 |"
