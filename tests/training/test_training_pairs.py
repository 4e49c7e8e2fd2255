"""The reader's training pairs: positives with exact spans, and each kind of negative from where it should come."""

from __future__ import annotations

from training.reader.data import build_pairs, swapped_negatives


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


def test_default_groups_have_no_same_article_negative():
    for group in build_pairs(ARTICLES):
        assert len(group) <= 3
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


def test_training_report_gives_the_command_that_made_a_stage():
    from training.reader.report import _command

    config = {"data": "../shared/data/squad-train-v1.1.json.gz", "out": "~/.cache/newsqa/reader-runs/stage7",
              "pairs": 80000, "questions": 15000, "skip": 0, "init": "qa/reader/weights/reader.safetensors",
              "swapped": 15000, "qamr": "../shared/data/qamr", "same_article_negatives": False, "lr": 3e-05,
              "head_lr": 0.0003, "warmup": 100, "seed": 17, "every": 240.0, "threads": 2, "epochs": 1}
    assert _command(config) == (
        "python -m training.reader.train --data ../shared/data/squad-train-v1.1.json.gz --out "
        "~/.cache/newsqa/reader-runs/stage7 --pairs 80000 --every 240 --init qa/reader/weights/reader.safetensors "
        "--questions 15000 --swapped 15000 --qamr ../shared/data/qamr --lr 3e-05 --head-lr 0.0003 --warmup 100 "
        "--seed 17")
    first = {"data": "squad.json.gz", "out": "run", "pairs": 510896, "questions": 87599, "epochs": 2, "every": 240.0,
             "same_article_negatives": True, "threads": 1}
    assert _command(first) == ("python -m training.reader.train --data squad.json.gz --out run --pairs 510896 "
                               "--every 240 --questions 87599 --same-article-negatives --epochs 2 --threads 1")


def test_swapped_negative_asks_about_a_name_of_the_article_that_the_answer_sentence_lacks():
    articles = [{"title": "Bridges", "paragraphs": [
        _paragraph("The Tyne Bridge was opened in 1928 by King George. The Forth Bridge opened in 1890.",
                   "Who opened the Tyne Bridge?", "King George"),
    ]}]
    [[pair]] = swapped_negatives(articles)
    assert pair.sentence == "The Tyne Bridge was opened in 1928 by King George."
    assert not pair.answerable
    # the one name the question shares with its sentence, swapped for the article's other bridge
    assert pair.question == "Who opened the Forth Bridge?"


def test_swapped_negative_swaps_a_number_for_a_number():
    articles = [{"title": "Bridges", "paragraphs": [
        _paragraph("The bridge opened in 1928 after four years of work. A second span was added in 1961.",
                   "What opened in 1928?", "The bridge"),
    ]}]
    [[pair]] = swapped_negatives(articles)
    assert pair.question == "What opened in 1961?" and pair.sentence.startswith("The bridge opened in 1928")
