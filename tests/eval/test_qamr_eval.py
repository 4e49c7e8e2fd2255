"""The news-domain held-out eval reads each question against its own sentence and scores the span SQuAD's way."""

from __future__ import annotations

from eval.quality.qamr import evaluate
from qa.reader.model import Reader
from training.reader.qamr import QamrQuestion


def test_held_out_questions_are_scored_on_their_own_sentence():
    sentence = "The storm hit Manila on Monday, killing 12 people."
    questions = [QamrQuestion("s1", "wikinews:1", "What city did the storm hit?", sentence, 14, 20),
                 QamrQuestion("s1", "wikinews:1", "How many people were killed?", sentence, 40, 42)]
    assert [q.answer for q in questions] == ["Manila", "12"]
    reader = Reader()
    figures = evaluate(reader, questions)
    # "answerable" is the share of questions whose answerability logit on their own sentence is positive
    called = sum(reader.read(q.question, [q.sentence])[0].logit > 0 for q in questions) / len(questions)
    assert figures == {"questions": 2, "articles": 1, "em": 1.0, "f1": 1.0, "answerable": called}
