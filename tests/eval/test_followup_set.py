"""The follow-up eval set is well formed: 30+ conversations of 2-3 turns whose evidence sentences hold their answers."""

from __future__ import annotations

from eval.quality.dataset import load_eval_set
from eval.report_files import ROOT
from index.ingest import load_files

FOLLOWUP = ROOT / "eval" / "data" / "followup"


def test_every_turn_cites_a_sentence_of_an_indexed_article_holding_its_answer() -> None:
    evalset = load_eval_set(FOLLOWUP / "followup_eval.jsonl")
    texts = {d.doc_id: d.text for d in load_files([ROOT / "seeds", FOLLOWUP / "articles"])}  # type: ignore[union-attr]
    assert evalset.questions == []
    assert len(evalset.conversations) >= 30
    for conv in evalset.conversations:
        assert 2 <= len(conv.turns) <= 3, conv.id
        for turn in conv.turns:
            gold = turn.gold
            assert gold is not None
            sentence = texts[gold.doc_id][gold.start:gold.end]
            assert gold.answers[0] in sentence, turn.id
            assert "\n" not in sentence and sentence == sentence.strip(), turn.id
            assert all(a in texts[gold.doc_id] for a in gold.answers), turn.id

