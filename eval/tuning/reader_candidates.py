"""How many candidate sentences must the reader read? Recall of the answer sentence among the first N candidates.

    python -m eval.tuning.reader_candidates [--index-dir DIR] [--limit N]

SQuAD dev part A as an open collection: for each question, the sentences of the top retrieved passages in the order
``qa.answer.candidates`` offers them, and the share of questions whose gold-answer sentence (in the gold paragraph,
holding a gold answer string) is among the first N — the ceiling on what a reader limited to N candidates can find.
Prints JSON; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from eval.args import positive
from eval.quality.metrics import contains_answer, mean
from eval.quality.squad import open_squad_service, sample
from eval.quality.squad_data import load_articles, vendor
from qa.answer import candidates

NS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval.tuning.reader_candidates", description=__doc__.split("\n")[0])
    p.add_argument("--index-dir", type=Path, default=None)
    p.add_argument("--limit", type=positive, default=600)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-cands-") as tmp:
        service = open_squad_service(args.index_dir or Path(tmp) / "squad", vendor())
        qs = sample([q for a in load_articles(vendor()) for q in a.questions], args.limit, 0)
        snap = service.store.snapshot
        queries = service.retriever.queries([q.question for q in qs])
        every = replace(service.params, candidates=1000)  # every sentence of the top passages, to rank them here
        hits = service.retriever.search_batch(snap, queries, every.passages)
        orders = {
            "configured (qa.answer.Candidate.prefilter)": lambda c: -c.prefilter,
            "cos+coverage": lambda c: -(c.cos + c.coverage),
            "cos": lambda c: -c.cos,
            "passage, then cos": lambda c: (-c.passage, -c.cos),
        }
        ranks: dict[str, list[int | None]] = {name: [] for name in orders}
        for q, query, h in zip(qs, queries, hits, strict=True):
            cands = candidates(snap, query, h, every)
            for name, key in orders.items():
                ordered = sorted(cands, key=key)
                gold = [i for i, c in enumerate(ordered)
                        if (s := snap.sentences[c.sentence_id]).doc_id == q.doc_id and q.start <= s.start < q.end
                        and contains_answer(s.text, q.answers)]
                ranks[name].append(gold[0] if gold else None)
    result = {name: {f"recall@{n}": round(mean([1.0 if r is not None and r < n else 0.0 for r in rs]), 4)
                     for n in NS} for name, rs in ranks.items()}
    result["meta"] = {"questions": len(qs)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
