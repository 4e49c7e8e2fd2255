"""The reader's training pairs: positives with exact spans, and each kind of negative from where it should come."""

from __future__ import annotations

from qa.reader.training_data import build_pairs


def _paragraph(context: str, question: str, answer: str) -> dict:
    return {"context": context, "qas": [{"question": question,
                                         "answers": [{"text": answer, "answer_start": context.index(answer)}]}]}


ARTICLES = [
    {"title": "Harbour", "paragraphs": [
        _paragraph("The harbour bridge was opened in 1932. Its arch is made of steel from Middlesbrough.",
                   "When was the harbour bridge opened?", "1932"),
        _paragraph("A second harbour bridge was proposed in 1960. The plan was dropped in 1964.",
                   "When was a second bridge proposed?", "1960"),
        _paragraph("The harbour bridge was opened to cars and trains in 1932 by the premier. "
                   "Ferries still cross the harbour.", "Who crosses the harbour?", "Ferries"),
    ]},
    {"title": "Mountain", "paragraphs": [
        _paragraph("The harbour bridge of the mountain town was opened in 1890. It is a wooden bridge.",
                   "When was the mountain town's bridge opened?", "1890"),
    ]},
]


def _by_question(groups):
    return {g[0].question: g for g in groups}


def test_positive_is_the_answer_sentence_with_exact_offsets():
    groups = _by_question(build_pairs(ARTICLES))
    first = groups["When was the harbour bridge opened?"][0]
    assert first.sentence == "The harbour bridge was opened in 1932."
    assert first.sentence[first.start : first.end] == "1932"


def test_default_groups_have_no_same_article_negative_and_no_context():
    for group in build_pairs(ARTICLES):
        assert len(group) <= 3
        assert all(p.previous == "" for p in group)
        assert group[0].answerable and not any(p.answerable for p in group[1:])


def test_same_article_negative_comes_from_another_paragraph_and_holds_no_answer():
    plain = _by_question(build_pairs(ARTICLES))
    groups = _by_question(build_pairs(ARTICLES, same_article=True))
    question = "When was the harbour bridge opened?"
    group = groups[question]
    # the earlier pairs are unchanged; the new one is last
    assert [(p.sentence, p.start) for p in group[:-1]] == [(p.sentence, p.start) for p in plain[question]]
    assert "mountain" in group[2].sentence  # the other-article negative
    # the best-matching sentence of another paragraph ("... opened to cars and trains in 1932 ...") holds the answer,
    # so the next one is taken
    near = group[-1]
    assert not near.answerable
    assert near.sentence == "A second harbour bridge was proposed in 1960."


def test_context_gives_each_pair_the_sentence_before_it():
    groups = _by_question(build_pairs(ARTICLES, context=True))
    plain = _by_question(build_pairs(ARTICLES))
    for question, group in groups.items():
        assert [(p.sentence, p.start, p.end) for p in group] == [(p.sentence, p.start, p.end)
                                                                  for p in plain[question]]
    group = groups["Who crosses the harbour?"]
    assert group[0].sentence == "Ferries still cross the harbour."
    assert group[0].previous == "The harbour bridge was opened to cars and trains in 1932 by the premier."
    first = groups["When was the harbour bridge opened?"][0]
    assert first.previous == ""  # the first sentence of its paragraph


def test_training_report_gives_the_command_that_made_a_stage():
    from qa.reader.training_report import _command

    config = {"out": ".reader-run5", "pairs": 57600, "questions": 87599, "skip": 0, "init": ".reader-run2",
              "same_article_negatives": False, "context": True, "lr": 5e-05, "head_lr": 0.0005, "warmup": 100,
              "every": 240.0, "threads": 2}
    assert _command(config) == ("python -m qa.reader.train --out .reader-run5 --pairs 57600 --every 240 --init "
                                ".reader-run2 --skip 0 --questions 87599 --lr 5e-05 --head-lr 0.0005 --warmup 100"
                                " --context")
    both = {**config, "same_article_negatives": True, "context": False, "threads": 1}
    assert _command(both).endswith("--warmup 100 --same-article-negatives --threads 1")
    two_passes = {"out": ".reader-run8", "pairs": 510896, "questions": 87599, "skip": 0, "init": None, "epochs": 2,
                  "every": 240.0, "threads": 2}
    assert _command(two_passes) == ("python -m qa.reader.train --out .reader-run8 --pairs 510896 --every 240 "
                                    "--questions 87599 --epochs 2")
