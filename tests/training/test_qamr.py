"""QAMR as reader pairs: PTB tokens back to text with exact answer offsets, and the news held-out split by article."""

from __future__ import annotations

from training.reader.qamr import QamrQuestion, detokenize, held_out, load_qamr, training_pairs


def test_detokenize_rebuilds_the_text_and_each_tokens_offsets():
    tokens = "Liam `` had his whole life in front of him '' , said Inspector Andy Logan -LRB- 52 -RRB- .".split()
    text, spans = detokenize(tokens)
    assert text == 'Liam "had his whole life in front of him", said Inspector Andy Logan (52).'
    assert [text[s:e] for s, e in spans] == ["Liam", '"', "had", "his", "whole", "life", "in", "front", "of", "him",
                                             '"', ",", "said", "Inspector", "Andy", "Logan", "(", "52", ")", "."]


def test_detokenize_attaches_clitics_and_currency():
    text, spans = detokenize("The firm 's profit was $ 5 million , it did n't say .".split())
    assert text == "The firm's profit was $5 million, it didn't say."
    assert text[spans[6][0] : spans[7][1]] == "5 million"


def test_questions_have_exact_offsets_and_held_out_news_articles_are_never_trained_on(tmp_path):
    (tmp_path / "wiki-sentences.tsv").write_text(
        "Wiki1k:wikinews:100:1:0\tThe storm hit Manila on Monday .\n"
        "Wiki1k:wikinews:100:2:0\tRescue teams arrived later .\n")
    rows = ["Wiki1k:wikinews:100:1:0\t2\t7\t0\t2\tWhat did the storm hit?\t3\t8:3\t9:3",
            "Wiki1k:wikinews:100:1:0\t2\t7\t1\t4\tWhen did the storm hit?\t4 5\t8:5\t9:5",  # no validator agrees
            "Wiki1k:wikinews:100:2:0\t0\t7\t0\t0\tWho arrived later?\t0 1\t8:0 1\t9:1"]
    (tmp_path / "dev.tsv").write_text("\n".join(rows) + "\n")
    questions = load_qamr(tmp_path)
    assert [(q.question, q.answer, q.article) for q in questions] == [
        ("What did the storm hit?", "Manila", "wikinews:100"), ("Who arrived later?", "Rescue teams", "wikinews:100")]
    assert not held_out("wikinews:100")
    groups = training_pairs(questions, negatives=1.0)
    assert [[(p.question, p.sentence, p.answerable) for p in g] for g in groups] == [
        [("What did the storm hit?", "The storm hit Manila on Monday.", True),
         ("What did the storm hit?", "Rescue teams arrived later.", False)],
        [("Who arrived later?", "Rescue teams arrived later.", True),
         ("Who arrived later?", "The storm hit Manila on Monday.", False)]]
    held = [QamrQuestion(q.sentence_id, "wikinews:107", q.question, q.sentence, q.start, q.end) for q in questions]
    assert held_out("wikinews:107") and training_pairs(held, negatives=1.0) == []


def test_held_out_is_by_article_and_only_news():
    assert not held_out("wikipedia:16016")
    news = [f"wikinews:{n}" for n in range(200)]
    share = sum(held_out(a) for a in news) / len(news)
    assert 0.15 < share < 0.35
