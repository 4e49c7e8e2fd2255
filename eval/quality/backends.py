"""Backend parity: the same questions through the embedded backend and through Milvus (milvus-lite), on the same
documents and vectors (copied with ``index.migrate``, not re-embedded): SQuAD part A (passage hit@1/hit@5, span
EM/F1, ...) and the seed eval (`qa eval`), side by side, plus how close Milvus' BM25 ranks to ours.

`python -m eval.quality.backends --out eval/reports/backends` writes report.md and report.json.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eval.args import positive
from eval.quality.dataset import SEED_EVAL, load_eval_set
from eval.quality.metrics import mean, overlaps
from eval.quality.report import table
from eval.quality.squad import answer_metrics, ask_all, open_service, sample
from eval.quality.squad_data import SquadQuestion, load_articles, vendor
from eval.report_files import ROOT, git_commit, save_report
from index import migrate
from index.embedded_search import bm25_passage_scores
from index.milvus import MilvusStore
from index.text import terms
from qa.config import Settings
from qa.models import Answer
from qa.service import QAService

PARITY = 0.01  # the largest difference the issue allows per metric
SQUAD_METRICS = ("passage_hit@1", "passage_hit@5", "span_em", "span_f1", "sentence_containment", "abstention_rate")
SEED_SECTIONS = ("retrieval", "answers", "abstention", "conversations")


def milvus_copy(service: QAService, path: Path, prefix: str) -> QAService:
    """A service over a milvus-lite copy of ``service``'s embedded index (vectors copied)."""
    store = MilvusStore.open(str(path), service.store.embedder, prefix=prefix, create=True)
    migrate.to_milvus(service.store, store)  # type: ignore[arg-type]
    return QAService(store, service.settings, reader=service.reader)


def hit_at(qs: Sequence[SquadQuestion], answers: Sequence[Answer], k: int) -> float:
    return mean([1.0 if any(p.doc_id == q.doc_id and overlaps(p.start, p.end, q.start, q.end)
                            for p in a.passages[:k]) else 0.0 for q, a in zip(qs, answers, strict=True)])


def squad_metrics(qs: Sequence[SquadQuestion], answers: Sequence[Answer]) -> dict[str, float]:
    return {**answer_metrics(qs, answers), "passage_hit@5": hit_at(qs, answers, 5)}


def agreement(a: Sequence[Answer], b: Sequence[Answer]) -> dict[str, float]:
    """Shares of questions answered identically (answer, citation offsets) and with identical top-5 passages."""
    def cited(x: Answer) -> tuple:
        return x.answer, [(c.doc_id, c.start, c.end) for c in x.citations]

    return {"same_answer_and_offsets": mean([1.0 if cited(x) == cited(y) else 0.0 for x, y in zip(a, b, strict=True)]),
            "same_top5_passages": mean([1.0 if [(p.doc_id, p.start, p.end) for p in x.passages[:5]]
                                        == [(p.doc_id, p.start, p.end) for p in y.passages[:5]] else 0.0
                                        for x, y in zip(a, b, strict=True)])}


def bm25_closeness(embedded: QAService, milvus: QAService, questions: Sequence[str], k: int = 10) -> dict:
    """Top-``k`` overlap of Milvus' BM25 ranking with ours, and the ratio of their top scores."""
    snap = embedded.store.snapshot
    view = milvus.store.snapshot
    overlap, ratio = [], []
    for q in questions:
        qterms = terms(q)
        if not qterms:
            continue
        ours = bm25_passage_scores(snap, qterms)
        top = [i for i in np.argsort(-ours, kind="stable")[:k] if ours[i] > 0]
        mine = {(snap.passages[i].doc_id, snap.passages[i].start) for i in top}
        [hits] = view._search("passages", [" ".join(qterms)], "sparse", "BM25", k, "", ["doc_id", "idx"])  # type: ignore[attr-defined]
        theirs = {(h["entity"]["doc_id"], view.entries[h["entity"]["doc_id"]].chunks[h["entity"]["idx"]].start)
                  for h in hits}
        if mine:
            overlap.append(len(mine & theirs) / len(mine))
            ratio.append(hits[0]["distance"] / float(ours[top[0]]) if hits else 0.0)
    return {f"top{k}_overlap": mean(overlap), "top1_score_ratio_median": float(np.median(ratio)) if ratio else 0.0,
            "questions": len(overlap)}


def timed(service: QAService, questions: Sequence[str]) -> tuple[list[Answer], float]:
    start = time.perf_counter()
    answers = ask_all(service, questions)
    return answers, time.perf_counter() - start


def run_seed(embedded: QAService, milvus: QAService) -> dict:
    from eval.quality.seed import run_eval

    evalset = load_eval_set(SEED_EVAL)
    return {name: run_eval(service, evalset) for name, service in (("embedded", embedded), ("milvus", milvus))}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.quality.backends", description=__doc__)
    p.add_argument("--limit", type=positive, default=None, help="ask a random subset of N SQuAD questions")
    p.add_argument("--out", type=Path, default=None, help="write report.md and report.json here")
    args = p.parse_args(argv)
    articles = load_articles(vendor())
    questions = sample([q for art in articles for q in art.questions], args.limit, 0)
    texts = [q.question for q in questions]
    with tempfile.TemporaryDirectory(prefix="qa-backends-") as tmp:
        embedded = open_service(Path(tmp) / "squad", [a.doc for a in articles])
        milvus = milvus_copy(embedded, Path(tmp) / "squad.db", "squad")
        seed_e = QAService.from_settings(Settings(index_dir=Path(tmp) / "seed", seeds_dir=ROOT / "seeds"), True)
        seed_m = milvus_copy(seed_e, Path(tmp) / "seed.db", "seed")
        try:
            load_start = os.getloadavg()[0]
            ans_e, secs_e = timed(embedded, texts)
            ans_m, secs_m = timed(milvus, texts)
            result = {
                "squad": {"embedded": squad_metrics(questions, ans_e), "milvus": squad_metrics(questions, ans_m),
                          "agreement": agreement(ans_e, ans_m), "seconds": {"embedded": secs_e, "milvus": secs_m}},
                "bm25": bm25_closeness(embedded, milvus, texts[:300]),
                "seed": run_seed(seed_e, seed_m),
                "meta": {"questions": len(questions), "limit": args.limit, "articles": len(articles),
                         "passages": embedded.store.snapshot.n_passages, "commit": git_commit(),
                         "date": datetime.date.today().isoformat(), "engine": "milvus-lite 2.5.1, FLAT, BM25 Function",
                         "load_average": {"start": load_start, "end": os.getloadavg()[0]},
                         "command": "python -m eval.quality.backends" + "".join(
                             f" {a}" for a in (argv if argv is not None else sys.argv[1:]))},
            }
        finally:
            milvus.store.close()  # type: ignore[attr-defined]
            seed_m.store.close()  # type: ignore[attr-defined]
    report = markdown(result)
    if args.out is not None:
        save_report(args.out, result, report)
    print(report)
    return 0


def markdown(r: dict) -> str:
    sq, meta = r["squad"], r["meta"]
    rows = [[m, f"{sq['embedded'][m]:.3f}", f"{sq['milvus'][m]:.3f}", f"{sq['milvus'][m] - sq['embedded'][m]:+.3f}",
             "yes" if abs(sq["milvus"][m] - sq["embedded"][m]) <= PARITY else "NO"] for m in SQUAD_METRICS]
    seed_e, seed_m = _flat(r["seed"]["embedded"]), _flat(r["seed"]["milvus"])
    seed_rows = [[m, f"{seed_e[m]:.3f}", f"{seed_m[m]:.3f}", f"{seed_m[m] - seed_e[m]:+.3f}",
                  "yes" if abs(seed_m[m] - seed_e[m]) <= PARITY else "NO"] for m in seed_e if m in seed_m]
    return "\n".join([
        "# Backend parity: embedded vs Milvus",
        "",
        f"Same documents and vectors (copied by `index.migrate`, not re-embedded); Milvus is {meta['engine']}. "
        f"Commit {meta['commit']}, {meta['date']}. Command: `{meta['command']}`.",
        "",
        f"## SQuAD v1.1 dev part A ({meta['articles']} articles, {meta['passages']} passages, "
        f"{meta['questions']} questions{'' if meta['limit'] is None else ', a seeded random subset'})",
        "",
        table(["metric", "embedded", "milvus", "difference", f"within {PARITY}"], rows),
        "",
        f"Same answer and citation offsets: {sq['agreement']['same_answer_and_offsets']:.3f} of questions; same top-5 "
        f"passages: {sq['agreement']['same_top5_passages']:.3f}.",
        f"Time to answer them all in-process (2 cores; 1-minute load average {meta['load_average']['start']:.2f} at "
        f"the start of the run, {meta['load_average']['end']:.2f} at its end): embedded "
        f"{sq['seconds']['embedded']:.0f} s, Milvus {sq['seconds']['milvus']:.0f} s.",
        "",
        f"BM25 (Milvus `Function` on our stemmed terms vs our BM25, {r['bm25']['questions']} questions): top-10 "
        f"overlap {r['bm25']['top10_overlap']:.3f}, median ratio of top-1 scores "
        f"{r['bm25']['top1_score_ratio_median']:.3f}.",
        "",
        "## Seed eval (`qa eval`)",
        "",
        table(["metric", "embedded", "milvus", "difference", f"within {PARITY}"], seed_rows),
        "",
    ])


def _flat(result: dict, prefix: str = "") -> dict[str, float]:
    """The seed eval's figures as ``section.name`` -> value (retrieval, answers, abstention, conversations)."""
    out: dict[str, float] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and (prefix or key in SEED_SECTIONS):
            out.update(_flat(value, name + "."))
        elif prefix and isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


if __name__ == "__main__":
    sys.exit(main())
