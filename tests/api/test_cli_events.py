"""`qa ask "What happened on Tuesday?"` as a user runs it: a real subprocess over a copy of the seed index."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QA = ROOT / ".venv" / "bin" / "qa"
GENERALS = ("Top generals from Russia and the United States spoke over the phone on Tuesday, Russia's Defense Ministry "
            "said, amid Western fears that Moscow might be plotting to invade neighboring Ukraine.")


def _ask(index_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return subprocess.run([str(QA), "ask", "What happened on Tuesday?", "--since", "2021-11-01", "--source",
                           "themoscowtimes", "--index-dir", str(index_dir), *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_qa_ask_what_happened_on_tuesday_prints_the_sentence_and_its_date(index_copy: Path) -> None:
    out = _ask(index_copy)
    assert (out.returncode, out.stderr) == (0, "")
    lines = out.stdout.splitlines()
    assert lines[:2] == [f"{GENERALS} [1][2][3][4]", "  confidence 1.00"]
    assert "    (on Tuesday = 2021-11-23; article of 2021-11-24)" in lines
    as_json = _ask(index_copy, "--json")
    assert as_json.returncode == 0
    body = json.loads(as_json.stdout)
    assert (body["answer"], body["citations"][0]["dates"][0]["date"]) == (GENERALS, "2021-11-23")
