"""`qa eval` / `python -m eval`: run an eval file against an index and write the report, JSON and plots."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from eval.quality.dataset import SEED_EVAL, load_eval_set
from eval.report_files import ROOT, git_commit


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa eval", description="Evaluate retrieval, answers, abstention, calibration "
                                "and conversations on an eval file (default: the seed eval set).")
    p.add_argument("--eval-file", type=Path, default=SEED_EVAL, help="eval JSONL (format: eval/data/README.md)")
    p.add_argument("--index-dir", type=Path, default=None,
                   help="index to evaluate; built from --seeds when missing (default: a fresh temporary index)")
    p.add_argument("--seeds", type=Path, nargs="+", default=[ROOT / "seeds"],
                   help="folders of articles to build a missing index from (the follow-up set: seeds "
                   "eval/data/followup/articles)")
    p.add_argument("--out", type=Path, default=None,
                   help="write the report here (the committed one: eval/reports/seed/); nothing is written without it")
    p.add_argument("--json", action="store_true", help="print the JSON result to stdout instead of the summary")
    return p


def evaluate(eval_file: Path, index_dir: Path, seeds: Sequence[Path]) -> dict:
    """Open (or build) the index from the ``seeds`` folders, run the eval and attach the run's metadata."""
    from eval.quality.seed import run_eval
    from qa.config import Settings
    from qa.service import QAService

    try:
        evalset = load_eval_set(eval_file)
    except (OSError, ValueError) as exc:  # a missing or malformed eval file: one line, like every other qa error
        raise SystemExit(f"error: {exc}") from None
    missing_seeds = [str(p) for p in seeds if not p.is_dir()]
    if missing_seeds:
        raise SystemExit(f"error: no such folder: {', '.join(missing_seeds)} (--seeds)")
    service = QAService.from_settings(Settings(index_dir=index_dir, seeds_dir=seeds[0]), build_from_seeds=True)
    if len(seeds) > 1:
        service.index_paths(list(seeds[1:]))
    snap = service.store.snapshot
    missing = sorted({q.gold.doc_id for q in evalset.answerable if q.gold and q.gold.doc_id not in snap.entries})
    if missing:
        raise SystemExit(f"error: the index lacks gold documents {missing}; index them or pass --index-dir/--seeds")
    result = run_eval(service, evalset)
    result["meta"] = {
        "eval_file": str(path.relative_to(ROOT) if (path := eval_file.resolve()).is_relative_to(ROOT) else eval_file),
        "documents": len(snap.entries), "passages": len(snap.passages), "fusion": service.settings.fusion,
        "dense_weight": service.settings.dense_weight, "commit": git_commit(),
        "date": datetime.date.today().isoformat(),
        "questions": len(evalset.questions), "unanswerable": len(evalset.unanswerable),
        "conversations": len(evalset.conversations),
    }
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from eval.quality.report import summary, write_report

    if args.index_dir is None:
        with tempfile.TemporaryDirectory(prefix="qa-eval-index-") as tmp:
            result = evaluate(args.eval_file, Path(tmp), args.seeds)
    else:
        result = evaluate(args.eval_file, args.index_dir, args.seeds)
    if args.out is not None:
        write_report(result, args.out)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(summary(result))
        if args.out is not None:
            print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
