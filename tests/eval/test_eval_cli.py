"""`qa eval --json` on an existing index writes the report, JSON and plots and prints the same JSON; the eval
commands refuse bad counts with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main


def test_qa_eval_json_writes_report(index_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    assert main(["eval", "--json", "--index-dir", str(index_copy), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == ["recall_at_k.png", "reliability.png", "report.json",
                                                     "report.md"]
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == printed
    assert list(printed["retrieval"]) == ["bm25", "dense", "rrf", "normalized"]
    assert printed["meta"]["documents"] == 2
    assert printed["answers"]["answerable"] == 59
    assert printed["conversations"]["turns"] == 24
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# Seed eval report\n")
    assert (out / "recall_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("module", "args", "message"), [
    ("eval.quality.squad", ["--limit", "0"], "must be 1 or more, got 0"),
    ("eval.quality.squad", ["--cross", "-1"], "must be 0 or more, got -1"),
    ("eval.tuning.calibrate", ["--cross", "many"], "expected a whole number, got 'many'"),
    ("eval.quality.reader_gold", ["--limit", "-5"], "must be 0 or more, got -5"),
    ("eval.tuning.abstention_sweep", ["--cross", "-3"], "must be 0 or more, got -3"),
    ("eval.tuning.abstention_sweep", ["--thresholds", "0.5,x"], "takes numbers separated by commas, not '0.5,x'"),
    ("eval.tuning.abstention_sweep", ["--thresholds", "0.5,2"], "must lie between 0 and 1"),
])
def test_eval_commands_reject_bad_counts_with_a_message(module: str, args: list[str], message: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module(module).main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cross_set_of_no_questions_reports_zero_questions(seed_service) -> None:
    from eval.quality.dataset import SEED_EVAL, load_eval_set
    from eval.quality.squad import cross_set

    result = cross_set(seed_service, seed_service, [])
    assert result["squad_on_seed_index"] == {"questions": 0, "false_answer_rate": 0.0, "examples": []}
    assert result["seed_unanswerable_on_squad_index"]["questions"] == len(load_eval_set(SEED_EVAL).unanswerable)


def test_false_answers_counts_every_answer_given_as_false(seed_service) -> None:
    from eval.quality.squad import false_answers

    answered = "Where did Milley and Gerasimov meet?"
    unknown = "What did Beyoncé sing at the Super Bowl 50 halftime show?"
    result = false_answers(seed_service, [answered, unknown])
    assert result["questions"] == 2
    assert result["false_answer_rate"] == 0.5  # the articles answer the first (so it is counted); never the second
    assert [e["question"] for e in result["examples"]] == ["Where did Milley and Gerasimov meet?"]
