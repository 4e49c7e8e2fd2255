"""How many candidate sentences should the reader read? Span EM / F1 and ask latency for each candidate count.

    python -m eval.tuning.reader_budget [--index-dir DIR] [--limit N] [--counts 2,3,4,6,8] [--early-exits 1.01,0.7,0.6]

SQuAD dev part A as an open collection (all articles indexed). For each count N (``QA_READER_CANDIDATES``), the same
questions are asked one at a time through ``QAService.ask`` (question encode, retrieval, the reader over N sentences,
calibrated choice): span EM / F1 against the gold answers (official normalisation; an abstention scores 0), the share
answered, and the p50 / p95 of the whole ask in milliseconds (question vectors come from the encoder's cache, filled
once before the first row, so rows differ by the reader's work), so the cost per extra candidate is the difference
between rows. Each count is measured at each early exit (``QA_READER_EARLY_EXIT``: the first candidate read alone
and the rest only when its probability is under it; the default 1.01 reads all N in one call). Prints JSON; writes
nothing. Take the timings on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from eval.args import positive
from eval.quality.metrics import mean
from eval.quality.span_metrics import exact_match, f1_score
from eval.quality.squad import open_squad_service, sample
from eval.quality.squad_data import load_articles, vendor
from qa.service import QAService


def _pct(ms: list[float], p: float) -> float:
    ordered = sorted(ms)
    return round(ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1)))], 2)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval.tuning.reader_budget", description=__doc__.split("\n")[0])
    p.add_argument("--index-dir", type=Path, default=None)
    p.add_argument("--limit", type=positive, default=400)
    p.add_argument("--counts", default="2,3,4,6,8")
    p.add_argument("--early-exits", default="1.01")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-budget-") as tmp:
        base = open_squad_service(args.index_dir or Path(tmp) / "squad", vendor())
        qs = sample([q for a in load_articles(vendor()) for q in a.questions], args.limit, 0)
        base.encoder.encode([q.question for q in qs])  # every row then reads question vectors from the cache
        rows = []
        settings = [{"reader_candidates": int(n), "reader_early_exit": float(e)}
                    for n in args.counts.split(",") for e in args.early_exits.split(",")]
        for update in settings:
            service = QAService(base.store, base.settings.model_copy(update=update), base.reader)
            for q in qs[:10]:  # warm-up: caches and ONNX Runtime's first-run allocations
                service.ask(q.question)
            ems, f1s, answered, times = [], [], 0, []
            for q in qs:
                t = time.perf_counter()
                ans = service.ask(q.question)
                times.append(1e3 * (time.perf_counter() - t))
                answered += ans.answer is not None
                ems.append(exact_match(ans.answer, q.answers) if ans.answer else 0.0)
                f1s.append(f1_score(ans.answer, q.answers) if ans.answer else 0.0)
            rows.append({"candidates": update["reader_candidates"], "early_exit": update["reader_early_exit"],
                         "span_em": round(mean(ems), 4), "span_f1": round(mean(f1s), 4),
                         "answered": round(answered / len(qs), 4), "ask_ms_p50": _pct(times, 0.5),
                         "ask_ms_p95": _pct(times, 0.95)})
            print(json.dumps(rows[-1]), flush=True)
    print(json.dumps({"questions": len(qs), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
