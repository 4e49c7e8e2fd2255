"""What the abstention threshold trades: SQuAD sentence containment against abstaining when the answer is absent.

    python -m eval.tuning.abstention_sweep [--index-dir DIR] [--thresholds 0.5,0.45,0.4,0.35,0.3]

Every question is asked once with abstention off (the chosen span comes back with its calibrated probability); each
threshold (``Settings.abstain_below``, ``QA_ABSTAIN_BELOW``) is then applied to those probabilities:
- SQuAD part A, all questions on its own index: sentence containment (answered, and the cited sentence holds a gold
  answer string; as in ``eval.quality.squad``);
- seed eval set on the seed index: answerable questions answered with a span holding a gold answer, and unanswerable
  questions abstained (abstention recall, as in ``eval.quality.seed``);
- the cross sets of ``eval.quality.squad`` (SQuAD questions on the seed index, seed unanswerable questions on the
  SQuAD index): the share answered, all of them false answers;
- ``eval.quality.squad``'s in-domain unanswerable set (questions of the paragraphs withheld from a second SQuAD index,
  whose answers occur nowhere in it): the share abstained.
A question answered null before the confidence model runs (it names something no article mentions) stays null at
every threshold. Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from eval.args import count
from eval.quality.dataset import ROOT, SEED_EVAL, load_eval_set
from eval.quality.metrics import contains_answer, mean
from eval.quality.squad import ask_all, open_squad_service, open_withheld, sample
from eval.quality.squad_data import load_articles, vendor
from qa.config import Settings
from qa.models import Answer
from qa.service import QAService

Row = tuple[float | None, bool]  # (calibrated probability, None when null anyway; whether the answer is right)


def rows(answers: Sequence[Answer], right: Sequence[bool]) -> list[Row]:
    return [(a.confidence if a.answer is not None else None, ok) for a, ok in zip(answers, right, strict=True)]


def answered_right(rs: Sequence[Row], threshold: float) -> float:
    """Share of rows answered at ``threshold`` and right."""
    return mean([1.0 if p is not None and p >= threshold and ok else 0.0 for p, ok in rs])


def answered(rs: Sequence[Row], threshold: float) -> float:
    """Share of rows answered at ``threshold``."""
    return mean([1.0 if p is not None and p >= threshold else 0.0 for p, _ in rs])


def table(squad: Sequence[Row], seed_answerable: Sequence[Row], seed_unanswerable: Sequence[Row],
          withheld: Sequence[Row], cross_seed: Sequence[Row], cross_squad: Sequence[Row],
          thresholds: Sequence[float], shipped: float) -> str:
    lines = ["| ABSTAIN_BELOW | SQuAD sentence containment | seed answerable right | seed unanswerable abstained "
             "| SQuAD withheld-paragraph questions abstained | SQuAD questions on seed index answered "
             "| seed unanswerable on SQuAD index answered |",
             "|---|---|---|---|---|---|---|"]
    for t in thresholds:
        mark = " (shipped)" if t == shipped else ""
        lines.append(f"| {t:.2f}{mark} | {answered_right(squad, t):.3f} | {answered_right(seed_answerable, t):.3f} "
                     f"| {1 - answered(seed_unanswerable, t):.3f} | {1 - answered(withheld, t):.3f} "
                     f"| {answered(cross_seed, t):.3f} "
                     f"| {answered(cross_squad, t):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.tuning.abstention_sweep", description=__doc__.split("\n")[0])
    p.add_argument("--index-dir", type=Path, default=None, help="reuse this SQuAD index (default: a temporary one)")
    p.add_argument("--thresholds", default="0.5,0.45,0.4,0.35,0.3",
                   help="comma-separated abstention thresholds (QA_ABSTAIN_BELOW) to try, besides the shipped one "
                        "(default: %(default)s)")
    p.add_argument("--cross", type=count, default=300, help="SQuAD questions to ask the seed-only index")
    args = p.parse_args(argv)
    shipped = Settings.model_fields["abstain_below"].default
    try:
        tried = {float(x) for x in args.thresholds.split(",")}
    except ValueError:
        p.error(f"--thresholds takes numbers separated by commas, not {args.thresholds!r}")
    if not all(0.0 <= t <= 1.0 for t in tried):
        p.error("--thresholds must lie between 0 and 1")
    thresholds = sorted(tried | {shipped}, reverse=True)
    data = vendor()
    articles = load_articles(data)
    questions = [q for art in articles for q in art.questions]
    cross = sample(questions, args.cross, 1)
    evalset = load_eval_set(SEED_EVAL)
    with tempfile.TemporaryDirectory(prefix="qa-sweep-") as tmp:
        squad = open_squad_service(args.index_dir or Path(tmp) / "squad", data)
        seed = QAService.from_settings(Settings(index_dir=Path(tmp) / "seed", seeds_dir=ROOT / "seeds"),
                                       build_from_seeds=True)
        off = replace(squad.params, abstain_below=0.0)  # abstention off: a calibrated probability is always above 0
        on_squad = ask_all(squad, [q.question for q in questions], off)
        squad_rows = rows(on_squad, [bool(a.citations and contains_answer(a.citations[0].quote, q.answers))
                                     for q, a in zip(questions, on_squad, strict=True)])
        answerable = [(q.question, q.gold.answers) for q in evalset.answerable if q.gold is not None]
        on_seed = ask_all(seed, [q for q, _ in answerable], off)
        seed_rows = rows(on_seed, [contains_answer(a.answer, golds)
                                   for (_, golds), a in zip(answerable, on_seed, strict=True)])
        unanswerable = [q.question for q in evalset.unanswerable]
        unanswerable_rows = rows(ask_all(seed, unanswerable, off), [False] * len(unanswerable))
        withheld, withheld_qs = open_withheld(Path(tmp) / "withheld", articles)
        withheld_rows = rows(ask_all(withheld, [q.question for q in withheld_qs], off), [False] * len(withheld_qs))
        cross_seed = rows(ask_all(seed, [q.question for q in cross], off), [False] * len(cross))
        cross_squad = rows(ask_all(squad, unanswerable, off), [False] * len(unanswerable))
    print(f"{len(questions)} SQuAD questions, {len(answerable)} answerable and {len(unanswerable)} unanswerable seed "
          f"questions, {len(withheld_qs)} SQuAD questions of withheld paragraphs, {len(cross)} SQuAD questions on the "
          "seed index\n")
    print(table(squad_rows, seed_rows, unanswerable_rows, withheld_rows, cross_seed, cross_squad, thresholds, shipped))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
