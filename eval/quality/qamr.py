"""The reader on news-domain sentences never trained on: QAMR's held-out Wikinews articles, gold sentence given.

    python -m eval.quality.qamr --qamr ../shared/data/qamr [--graph G ...] [--out eval/reports/qamr]

Every 4th Wikinews article of QAMR (by its id's hash, ``training.reader.qamr.held_out``) is never trained on; its
questions (those whose answer a validator gave too) are asked of their own sentence. Span EM / F1 as SQuAD scores
them, and the share the reader calls answerable (answerability logit > 0). Prints JSON; ``--out`` writes the report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.quality.span_metrics import exact_match, f1_score
from eval.report_files import ROOT, git_commit, save_report
from qa.reader.model import Reader
from training.reader.qamr import QamrQuestion, held_out, load_qamr


def held_out_questions(folder: Path) -> list[QamrQuestion]:
    return [q for q in load_qamr(folder) if held_out(q.article)]


def evaluate(reader: Reader, questions: list[QamrQuestion]) -> dict[str, float]:
    em = f1 = answerable = 0.0
    for q in questions:
        [reading] = reader.read(q.question, [q.sentence])
        span = q.sentence[reading.start : reading.end]
        em += exact_match(span, [q.answer])
        f1 += f1_score(span, [q.answer])
        answerable += reading.logit > 0
    n = len(questions)
    return {"questions": n, "articles": len({q.article for q in questions}), "em": em / n, "f1": f1 / n,
            "answerable": answerable / n}


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval.quality.qamr", description=__doc__.split("\n")[0])
    p.add_argument("--qamr", type=Path, required=True, help="the QAMR folder (dev.tsv, wiki-sentences.tsv)")
    p.add_argument("--graph", type=Path, nargs="+", default=[None])
    p.add_argument("--out", type=Path, default=None, help="also write report.json and report.md here")
    args = p.parse_args(argv)
    questions = held_out_questions(args.qamr)
    results = {}
    for graph in args.graph:
        reader = Reader(graph)
        results[_relative(reader.path.resolve())] = {"version": reader.version, **evaluate(reader, questions)}
    print(json.dumps(results, indent=2))
    if args.out is not None:
        command = "python -m eval.quality.qamr " + " ".join(argv if argv is not None else sys.argv[1:])
        lines = ["# The reader on QAMR's held-out Wikinews articles (gold sentence)", "",
                 f"`{command}` at `{git_commit()}`", "",
                 "| graph | reader | questions | articles | span EM | span F1 | called answerable |",
                 "|---|---|---|---|---|---|---|"]
        lines += [f"| `{g}` | {r['version']} | {r['questions']:,} | {r['articles']} | {r['em']:.3f} | {r['f1']:.3f} | "
                  f"{r['answerable']:.3f} |" for g, r in results.items()]
        save_report(args.out, {"command": command, "commit": git_commit(), "graphs": results}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
