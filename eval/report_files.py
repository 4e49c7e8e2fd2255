"""Every eval script saves its results the same way: report.json (the numbers) and report.md (for people), stamped
with the commit it ran at. Shared by the three rooms of eval/ (quality, tuning, bench)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: seeds/, eval/data/, eval/reports/
REPORTS = ROOT / "eval" / "reports"


def git_commit() -> str:
    """Short commit hash of the working tree, with "+dirty" when it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def save_report(out_dir: Path, data: dict, md: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(md, encoding="utf-8")
