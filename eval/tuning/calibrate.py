"""Fit qa/confidence.py's logistic WEIGHTS on SQuAD dev part A questions; print them and the ECE.

`python -m eval.tuning.calibrate [--index-dir DIR] [--limit N]`. For every question that reaches the confidence model,
the Features of the candidate the answer was chosen from are taken from ``QAService.ask_scored``, asked with
abstention off (``abstain_below`` 0, so the chosen span always comes back and can be labelled). Questions answered
null before the model runs (names no article mentions) do not use it and are left out.
Labels: SQuAD on the SQuAD index -> the answer span contains a gold answer; SQuAD questions on the seed index and the
questions of paragraphs withheld from a second SQuAD index (``eval.quality.squad_data.withhold`` with
CALIBRATION_WITHHELD, other paragraphs than the ones eval.quality.squad and eval.tuning.abstention_sweep withhold) -> 0.
No question of the seed, hard-seed or follow-up eval sets is used, so their reports measure the model on questions it
was not fit on. Nothing is written to qa/; paste the printed dict into qa/confidence.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.args import count, positive
from eval.quality.dataset import ROOT
from eval.quality.metrics import contains_answer, expected_calibration_error
from eval.quality.squad import ANSWER_CAP, open_squad_service, open_withheld, sample
from eval.quality.squad_data import CALIBRATION_WITHHELD, SquadQuestion, load_articles, vendor
from qa.confidence import WEIGHTS, Features, probability
from qa.config import Settings
from qa.models import Answer
from qa.service import QAService

Row = tuple[Features, bool, str]  # features of the chosen sentence, label, source


def collect(service: QAService, questions: Sequence[str], label: Callable[[int, Answer], bool], source: str,
            batch: int = 64) -> list[Row]:
    """The Features of the candidate each answer was chosen from, with its label; never abstaining on the score."""
    rows: list[Row] = []
    never_abstain = replace(service.params, abstain_below=0.0)  # a calibrated probability is always above 0
    for lo in range(0, len(questions), batch):
        chunk = [service.clean_question(q) for q in questions[lo : lo + batch]]
        service.encoder.encode(chunk)  # one forward pass per batch; each question below hits the cache
        for i, q in enumerate(chunk, lo):
            outcome = service.ask_scored([q], params=never_abstain)[0]
            if outcome.scored and outcome.answer.answer is not None:
                rows.append((outcome.scored[0].features, label(i, outcome.answer), source))
    return rows


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 50) -> np.ndarray:
    """Newton's method for L2-regularized logistic regression; column 0 of ``x`` is the intercept."""
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[0] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + reg * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(reg) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def design(rows: Sequence[Row], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[1.0] + [f.as_dict()[n] for n in names] for f, _, _ in rows])
    y = np.array([1.0 if label else 0.0 for _, label, _ in rows])
    return x, y


def weights_dict(w: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    return {"bias": round(float(w[0]), 3), **{n: round(float(v), 3) for n, v in zip(names, w[1:], strict=True)}}


def gather(squad: QAService, seed: QAService, withheld: tuple[QAService, Sequence[SquadQuestion]], limit: int | None,
           cross: int) -> list[Row]:
    articles = load_articles(vendor())
    squad_qs = sample([q for a in articles for q in a.questions], limit, 0)
    cross_qs = sample([q for a in articles for q in a.questions], cross, 1)
    return (
        collect(squad, [q.question for q in squad_qs],
                lambda i, a: contains_answer(a.answer, squad_qs[i].answers, ANSWER_CAP), "squad")
        + collect(seed, [q.question for q in cross_qs], lambda i, a: False, "squad-on-seed")
        + collect(withheld[0], [q.question for q in withheld[1]], lambda i, a: False, "squad-withheld")
    )


def report(rows: list[Row], names: list[str], seed: int = 0) -> str:
    order = np.random.default_rng(seed).permutation(len(rows))
    train = [rows[i] for i in order[: len(rows) // 2]]
    test = [rows[i] for i in order[len(rows) // 2 :]]
    w_half = fit_logistic(*design(train, names))
    w_all = fit_logistic(*design(rows, names))
    x_test, y_test = design(test, names)
    before = [probability(f) for f, _, _ in test]
    after = list(1.0 / (1.0 + np.exp(-(x_test @ w_half))))
    outcome = [bool(v) for v in y_test]
    lines = [f"rows: {len(rows)} (" + ", ".join(
        f"{s}: {sum(1 for r in rows if r[2] == s)} with {sum(1 for r in rows if r[2] == s and r[1])} positive"
        for s in dict.fromkeys(r[2] for r in rows)) + ")",
        f"held-out half: {len(test)} rows; ECE before (current WEIGHTS) "
        f"{expected_calibration_error(before, outcome):.4f}, after (fitted on the other half) "
        f"{expected_calibration_error(after, outcome):.4f}",
        f"current WEIGHTS: {WEIGHTS}",
        f"fitted on the train half: {weights_dict(w_half, names)}",
        "", "abstention threshold on the held-out half with the half fit (answered share / precision of answers / "
        "share of label-0 rows abstained):"]
    for t in (0.2, 0.3, 0.35, 0.4, 0.5, 0.6):
        ans = [a >= t for a in after]
        n_ans = sum(ans)
        prec = sum(1 for a, o in zip(ans, outcome, strict=True) if a and o) / n_ans if n_ans else 0.0
        neg = [a for a, o in zip(ans, outcome, strict=True) if not o]
        lines.append(f"  ABSTAIN_BELOW={t:.2f}: answered {n_ans / len(test):.3f}, precision {prec:.3f}, "
                     f"label-0 abstained {sum(1 for a in neg if not a) / max(1, len(neg)):.3f}")
    lines += ["", "WEIGHTS to paste into qa/confidence.py (fitted on all rows):",
              "WEIGHTS: dict[str, float] = {"]
    lines += [f'    "{k}": {v},' for k, v in weights_dict(w_all, names).items()]
    lines.append("}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.tuning.calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", type=Path, default=None, help="reuse this SQuAD index (default: a temporary one)")
    p.add_argument("--limit", type=positive, default=None, help="use a random subset of N SQuAD questions")
    p.add_argument("--cross", type=count, default=300, help="SQuAD questions to ask the seed-only index")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-calibrate-") as tmp:
        squad = open_squad_service(args.index_dir or Path(tmp) / "squad", vendor())
        seed = QAService.from_settings(Settings(index_dir=Path(tmp) / "seed", seeds_dir=ROOT / "seeds"),
                                       build_from_seeds=True)
        withheld = open_withheld(Path(tmp) / "withheld", load_articles(vendor()), which=CALIBRATION_WITHHELD)
        rows = gather(squad, seed, withheld, args.limit, args.cross)
    names = [n for n in WEIGHTS if n != "bias"]
    print(report(rows, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
