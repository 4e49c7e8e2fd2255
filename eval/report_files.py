"""Every eval script saves its results the same way: report.json (the numbers) and report.md (for people)."""

from __future__ import annotations

import json
from pathlib import Path


def save_report(out_dir: Path, data: dict, md: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(md, encoding="utf-8")
