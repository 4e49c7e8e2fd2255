"""The README's and the model card's figures are the committed reports' figures: the cog blocks are current, and no
three-decimal figure is typed outside them (``make docs`` regenerates the blocks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cogapp import Cog

ROOT = Path(__file__).resolve().parent.parent
GENERATED = [ROOT / "README.md", ROOT / "qa" / "reader" / "weights" / "MODEL_CARD.md"]
BLOCK = re.compile(r"\[\[\[cog.*?\[\[\[end\]\]\]", re.S)
FIGURE = re.compile(r"(?<![\w.])\d\.\d{3}(?!\d)")


def test_generated_blocks_match_the_committed_reports(capsys: pytest.CaptureFixture[str]) -> None:
    status = Cog().main(["cog", "--check", "-I", str(ROOT), *map(str, GENERATED)])
    assert status == 0, f"stale figures; run `make docs`:\n{capsys.readouterr().err}"


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.name)
def test_no_figure_is_typed_by_hand(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert BLOCK.search(text), f"{path.name} has no generated block"
    assert FIGURE.findall(BLOCK.sub("", text)) == []


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 120


def test_cog_check_fails_on_a_stale_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "README.md"
    stale.write_text((ROOT / "README.md").read_text(encoding="utf-8").replace("| measured | figure |", "| m | f |"),
                     encoding="utf-8")
    assert Cog().main(["cog", "--check", "-I", str(ROOT), str(stale)]) == 5
    assert "Check failed" in capsys.readouterr().err
