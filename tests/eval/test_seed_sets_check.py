"""The seed eval sets pass their checker (eval/data/check_seed_eval.py): offsets, whole sentences, answers inside."""

from __future__ import annotations

import subprocess
import sys

import pytest

from eval.report_files import ROOT

CHECKER = ROOT / "eval" / "data" / "check_seed_eval.py"


@pytest.mark.parametrize("args", [[], ["--data", str(ROOT / "eval" / "data" / "seed_eval_hard.jsonl"), "--any-size"]])
def test_the_set_passes_the_checker(args: list[str]) -> None:
    out = subprocess.run([sys.executable, str(CHECKER), *args], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.splitlines()[-1]) == (0, "OK"), out.stdout + out.stderr


def test_the_hard_set_alone_is_under_the_minimum_counts_without_any_size() -> None:
    out = subprocess.run([sys.executable, str(CHECKER), "--data", str(ROOT / "eval" / "data" / "seed_eval_hard.jsonl")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "only 16 answerable records (need >= 44)" in out.stdout + out.stderr
