"""The reader alone on SQuAD dev part A with each question's gold paragraph: top sentence, span EM / F1.

    python -m eval.quality.reader_gold [--graph qa/reader/weights/reader.fp32.onnx] [--limit N]

Checks a checkpoint or a quantized graph without retrieval in the way (the open-collection numbers are in
`python -m eval.quality.squad`). Prints JSON; ``--out DIR`` also writes it as DIR/report.json (the committed one:
eval/reports/reader_gold/, which the model card's figures are generated from).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from eval.args import positive
from eval.quality.span_metrics import exact_match, f1_score
from eval.quality.squad_data import SHARED_COPY
from eval.report_files import ROOT, git_commit, save_report
from index.chunking import split_sentences
from qa.reader.model import Reader


def gold_items(path: Path, limit: int | None, seed: int = 0) -> list[tuple[str, str, list[str], list[int]]]:
    """(question, paragraph, gold answers, gold answer starts) for every dev question, or a seeded sample."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    items = [(qa["question"], p["context"], [a["text"] for a in qa["answers"]],
              [a["answer_start"] for a in qa["answers"]])
             for art in data for p in art["paragraphs"] for qa in p["qas"]]
    if limit is not None and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    return items


def evaluate(reader: Reader, items: list) -> tuple[dict[str, float], list[int]]:
    """Top sentence / EM / F1 figures, and the sentence chosen for each item (to compare two graphs)."""
    em = f1 = top = 0.0
    choices = []
    started = time.perf_counter()
    for question, context, golds, starts in items:
        spans = split_sentences("p", context)
        readings = reader.read(question, [s.text for s in spans])
        best = max(range(len(spans)), key=lambda i: readings[i].logit)
        choices.append(best)
        r, s = readings[best], spans[best]
        answer = s.text[r.start : r.end]
        em += exact_match(answer, golds)
        f1 += f1_score(answer, golds)
        top += 1.0 if any(s.start <= a < s.end for a in starts) else 0.0
    n = len(items)
    return ({"questions": n, "top_sentence": top / n, "em": em / n, "f1": f1 / n,
             "seconds": time.perf_counter() - started}, choices)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval.quality.reader_gold", description=__doc__.split("\n")[0])
    p.add_argument("--graph", type=Path, nargs="+", default=[None])
    p.add_argument("--limit", type=positive, default=None)
    p.add_argument("--out", type=Path, default=None, help="also write report.json and report.md here")
    args = p.parse_args(argv)
    items = gold_items(SHARED_COPY, args.limit)
    results, choices = {}, []
    for graph in args.graph:
        reader = Reader(graph)
        results[str(graph or reader.path)], chosen = evaluate(reader, items)
        choices.append(chosen)
    if len(choices) == 2:
        a, b = choices
        print(f"top sentence differs in {sum(x != y for x, y in zip(a, b, strict=True))} of {len(a)} questions")
    print(json.dumps(results, indent=2))
    if args.out is not None:
        save_report(args.out, report(results, argv), markdown(results))


def _relative(path: str) -> str:
    return str(Path(path).relative_to(ROOT)) if Path(path).is_relative_to(ROOT) else path


def report(results: dict[str, dict[str, float]], argv: list[str] | None) -> dict:
    """The figures per graph (paths relative to the checkout) with the command and commit that produced them."""
    args = argv if argv is not None else sys.argv[1:]
    return {"command": "python -m eval.quality.reader_gold " + " ".join(args), "commit": git_commit(),
            "graphs": {_relative(graph): figures for graph, figures in results.items()}}


def markdown(results: dict[str, dict[str, float]]) -> str:
    lines = ["# The reader on the gold paragraphs (SQuAD v1.1 dev part A)", "",
             "| graph | questions | top sentence right | span EM | span F1 |", "|---|---|---|---|---|"]
    lines += [f"| `{_relative(g)}` | {r['questions']:,} | {r['top_sentence']:.3f} | {r['em']:.3f} | {r['f1']:.3f} |"
              for g, r in results.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
