"""`qa eval --json` on an existing index writes the report, JSON and plots and prints the same JSON."""

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
