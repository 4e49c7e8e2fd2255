"""Figures quoted in the README and the model card, read from the committed reports under eval/reports/.

The documents hold them in cog blocks (https://cog.readthedocs.io): ``make docs`` rewrites the blocks from the
reports, and ``tests/test_docs_figures.py`` fails when a block differs from what the reports say (``cog --check``) or
when a three-decimal figure is typed outside a block. A new report is a regenerate, never a hand edit.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from eval.report_files import REPORTS

SHIPPED_GRAPH = "qa/reader/weights/reader.int8.onnx"


@cache
def report(name: str) -> dict[str, Any]:
    """eval/reports/NAME/report.json."""
    return json.loads((REPORTS / name / "report.json").read_text(encoding="utf-8"))


def f3(x: float) -> str:
    return f"{x:.3f}"


def ms(x: float) -> str:
    return f"{x:.0f} ms"


def _squad() -> tuple[dict, dict, dict]:
    r = report("squad")
    fusion = r["meta"]["fusion"]
    return r["meta"], r["answers"][fusion], r["retrieval"][fusion]


def _reader_gold() -> dict[str, float]:
    return report("reader_gold")["graphs"][SHIPPED_GRAPH]


def _table(rows: list[tuple[str, str, str]], *reports: str) -> str:
    """A Markdown table of (what, figure, report) rows, then the commit each report was made at."""
    lines = ["| measured | figure | report |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    return "\n".join([*lines, "", stamp(*reports)]) + "\n"


def readme() -> str:
    """The README's table of headline figures: answers, retrieval, abstention, the reader alone, speed."""
    meta, answers, retrieval = _squad()
    seed = report("seed")
    gold = _reader_gold()
    cross = report("squad")["cross_set"]["squad_withheld_paragraphs"]
    perf = report("perf")["collections"]["squad"]
    peers = perf.get("peers", {})
    latency = perf["http"]["sequential"]["latency_ms"]
    rows = [
        (f"SQuAD v1.1 dev part A, {meta['questions']:,} questions over its {meta['documents']} articles as one "
         "collection: span EM / F1", f"{f3(answers['span_em'])} / {f3(answers['span_f1'])}", "`eval/reports/squad/`"),
        ("the same: answer sentence holds a gold answer (sentence containment)", f3(answers["sentence_containment"]),
         "`eval/reports/squad/`"),
        ("the same: a gold-paragraph passage in the top 5 (hit@5)", f3(retrieval["hit@5"]), "`eval/reports/squad/`"),
        (f"{cross['questions']} SQuAD questions whose paragraph is withheld from the index: abstained",
         f3(1 - cross["false_answer_rate"]), "`eval/reports/squad/`"),
        (f"seed eval set ({seed['meta']['questions']} questions on `seeds/`): citation right / short span",
         f"{f3(seed['answers']['citation_right'])} / {f3(seed['answers']['short_span'])}", "`eval/reports/seed/`"),
        ("seed eval set: unanswerable questions abstained (recall) / quotes exact",
         f"{f3(seed['abstention']['recall'])} / {f3(seed['answers']['quote_exact'])}", "`eval/reports/seed/`"),
        ("the reader alone on the gold paragraphs: right sentence / span EM / F1",
         f"{f3(gold['top_sentence'])} / {f3(gold['em'])} / {f3(gold['f1'])}", "`eval/reports/reader_gold/`"),
        ("`POST /ask` over HTTP on the SQuAD collection, one client: p50 / p95",
         f"{ms(latency['p50'])} / {ms(latency['p95'])}",
         "`eval/reports/perf/`"),
    ]
    for name, timing, label in (("txtai", "search_ms", "txtai hybrid search (no reader)"),
                                ("haystack_reader", "ask_ms", "Haystack retrieval + ExtractiveReader, our weights")):
        peer = peers.get(name, {})
        if peer.get("measured"):
            ratio = peer[timing]["p50"] / peer["ours_ms"]["p50"]
            rows.append((f"{label}: its p50 ÷ our `/ask` p50, timed side by side", f"{ratio:.2f}×",
                         "`eval/reports/perf/`"))
    return _table(rows, "squad", "seed", "reader_gold", "perf")


def model_card() -> str:
    """The model card's summary: the shipped reader alone, and the whole service with it."""
    gold = _reader_gold()
    meta, answers, retrieval = _squad()
    seed = report("seed")
    cross = report("squad")["cross_set"]["squad_withheld_paragraphs"]
    rows = [
        (f"gold paragraph ({gold['questions']:,} SQuAD dev part A questions): right sentence / span EM / span F1",
         f"{f3(gold['top_sentence'])} / {f3(gold['em'])} / {f3(gold['f1'])}", "`eval/reports/reader_gold/`"),
        (f"open collection ({meta['questions']:,} questions, {meta['documents']} articles): span EM / F1 / sentence "
         "containment", f"{f3(answers['span_em'])} / {f3(answers['span_f1'])} / "
         f"{f3(answers['sentence_containment'])}", "`eval/reports/squad/`"),
        ("open collection: passage hit@1", f3(answers["passage_hit@1"]), "`eval/reports/squad/`"),
        (f"{cross['questions']} in-domain unanswerable questions (withheld paragraphs): abstained",
         f3(1 - cross["false_answer_rate"]), "`eval/reports/squad/`"),
        ("seed eval set: short span / unanswerable abstained",
         f"{f3(seed['answers']['short_span'])} / {f3(seed['abstention']['recall'])}", "`eval/reports/seed/`"),
    ]
    qamr = report("qamr")["graphs"]
    ours = qamr[SHIPPED_GRAPH]
    # the readers it replaced, measured in the same run (none when the report names the shipped graph alone)
    before = [g for name, g in qamr.items() if name != SHIPPED_GRAPH]
    rows.append((f"QAMR held-out news ({ours['questions']:,} questions, {ours['articles']} Wikinews articles never "
                 "trained on, gold sentence): span EM / F1" + "".join(
                     f"; `{g['version'][-12:]}`, the reader it replaced" for g in before),
                 "; ".join(f"{f3(g['em'])} / {f3(g['f1'])}" for g in [ours, *before]), "`eval/reports/qamr/`"))
    return _table(rows, "reader_gold", "squad", "seed", "qamr")


def stamp(*names: str) -> str:
    """Which commit each report was made at, for the line under a table."""
    parts = []
    for name in names:
        r = report(name)
        commit = r.get("commit") or r.get("meta", {}).get("commit", "?")
        parts.append(f"`{name}` at `{commit}`")
    return "Reports: " + ", ".join(parts) + "."
