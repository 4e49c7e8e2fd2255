"""Public benchmark: SQuAD v1.1 dev articles as one collection; retrieval and answers per retriever.

`python -m eval.quality.squad` (or `make squad`) writes eval/reports/squad/report.md and report.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from eval.args import count, positive
from eval.quality.dataset import ROOT, SEED_EVAL, load_eval_set
from eval.quality.metrics import contains_answer, hit_at_k, mean, mrr_at_k, overlaps
from eval.quality.report import table
from eval.quality.retrieval import Target, judge_rankings, retriever_names
from eval.quality.span_metrics import exact_match, f1_score
from eval.quality.squad_data import WITHHOLD_EVERY, SquadArticle, SquadQuestion, load_articles, vendor, withhold
from eval.report_files import git_commit, save_report
from index.chunking import ChunkParams
from index.documents import Document
from index.store import IndexStore
from qa.config import AnswerParams, Settings
from qa.models import Answer
from qa.service import QAService

ANSWER_CAP = 400
BATCH = 64
HIT_KS = (1, 5, 20)
TARGETS = {"span_em": 0.50, "span_f1": 0.60, "sentence_containment": 0.80, "passage_hit@1": 0.88}


def open_squad_service(index_dir: Path, docs_path: Path) -> QAService:
    """Open the index at ``index_dir`` and add the SQuAD articles (unchanged ones are not re-embedded)."""
    return open_service(index_dir, [a.doc for a in load_articles(docs_path)])


def open_service(index_dir: Path, docs: Sequence[Document]) -> QAService:
    """Open the index at ``index_dir`` and add ``docs`` (unchanged ones are not re-embedded)."""
    settings = Settings(index_dir=index_dir)
    store = IndexStore.open(index_dir, settings.make_embedder(), ChunkParams(), create=True)
    service = QAService(store, settings)
    service.add_documents(list(docs))
    return service


def open_withheld(index_dir: Path, articles: list[SquadArticle],
                  which: int | None = None) -> tuple[QAService, list[SquadQuestion]]:
    """A service over ``articles`` with paragraphs withheld (``eval.quality.squad_data.withhold``), and the
    questions of those paragraphs it cannot answer."""
    docs, questions = withhold(articles, which=which)
    return open_service(index_dir, docs), questions


def ask_all(service: QAService, questions: Sequence[str], params: AnswerParams | None = None) -> list[Answer]:
    """Every question's answer, asked in batches; ``params`` in place of the service's own."""
    out: list[Answer] = []
    for lo in range(0, len(questions), BATCH):
        out.extend(service.ask_batch(questions[lo : lo + BATCH], params=params))
    return out


def answer_metrics(qs: Sequence[SquadQuestion], answers: Sequence[Answer]) -> dict[str, float]:
    answered = [(q, a) for q, a in zip(qs, answers, strict=True) if a.answer is not None]
    pairs = list(zip(qs, answers, strict=True))
    return {
        "span_em": mean([exact_match(a.answer, q.answers) for q, a in pairs]),
        "span_f1": mean([f1_score(a.answer, q.answers) for q, a in pairs]),
        "sentence_containment": mean([1.0 if a.citations and contains_answer(a.citations[0].quote, q.answers)
                                      else 0.0 for q, a in pairs]),
        "containment": mean([1.0 if contains_answer(a.answer, q.answers, ANSWER_CAP) else 0.0
                             for q, a in zip(qs, answers, strict=True)]),
        "containment_when_answered": mean([1.0 if contains_answer(a.answer, q.answers, ANSWER_CAP) else 0.0
                                           for q, a in answered]),
        "abstention_rate": 1 - len(answered) / len(qs) if qs else 0.0,
        "citation_in_gold_paragraph": mean([
            1.0 if any(c.doc_id == q.doc_id and overlaps(c.start, c.end, q.start, q.end) for c in a.citations)
            else 0.0 for q, a in zip(qs, answers, strict=True)]),
        "passage_hit@1": mean([1.0 if a.passages and a.passages[0].doc_id == q.doc_id
                               and overlaps(a.passages[0].start, a.passages[0].end, q.start, q.end) else 0.0
                               for q, a in pairs]),
        "top1_passage_contains_gold": mean([
            1.0 if a.passages and contains_answer(a.passages[0].text, q.answers) else 0.0
            for q, a in zip(qs, answers, strict=True)]),
    }


def hit1_misses(qs: Sequence[SquadQuestion], answers: Sequence[Answer]) -> dict[str, float | int]:
    """Where the configured retriever's top passage goes when it misses the gold paragraph."""
    misses = [(q, a.passages[0]) for q, a in zip(qs, answers, strict=True)
              if a.passages and not (a.passages[0].doc_id == q.doc_id
                                     and overlaps(a.passages[0].start, a.passages[0].end, q.start, q.end))]
    return {
        "misses": len(misses),
        "same_article": mean([1.0 if p.doc_id == q.doc_id else 0.0 for q, p in misses]),
        "top1_contains_gold_anyway": mean([1.0 if contains_answer(p.text, q.answers) else 0.0 for q, p in misses]),
    }


def false_answers(service: QAService, questions: Sequence[str], examples: int | None = 10) -> dict:
    """Ask questions ``service``'s index cannot answer: every answer given is a false one. Their count, the share
    answered and (up to ``examples``) what was answered."""
    answers = ask_all(service, questions)
    false = [(q, a.answer) for q, a in zip(questions, answers, strict=True) if a.answer is not None]
    return {"questions": len(questions), "false_answer_rate": len(false) / max(1, len(questions)),  # --cross 0: none
            "examples": [{"question": q, "answer": a} for q, a in false[:examples]]}


def cross_set(seed_service: QAService, squad_service: QAService, squad_qs: Sequence[SquadQuestion]) -> dict:
    """Questions whose answers cannot be in the index: every one should come back null."""
    return {
        "squad_on_seed_index": false_answers(seed_service, [q.question for q in squad_qs]),
        "seed_unanswerable_on_squad_index": false_answers(
            squad_service, [q.question for q in load_eval_set(SEED_EVAL).unanswerable], examples=None),
    }


def run(squad: QAService, seed: QAService, qs: Sequence[SquadQuestion], cross: Sequence[SquadQuestion],
        withheld: tuple[QAService, Sequence[SquadQuestion]], fp32: QAService | None = None) -> dict:
    names = retriever_names(squad)
    texts = [q.question for q in qs]
    judged = judge_rankings(squad, texts, [Target(q.doc_id, q.start, q.end) for q in qs], max(HIT_KS), names)
    retrieval = {name: {**{f"hit@{k}": mean([hit_at_k(r, k) for r in rels]) for k in HIT_KS},
                        "mrr@20": mean([mrr_at_k(r, 20) for r in rels])} for name, rels in judged.items()}
    # The reader makes answering cost ~40 ms a question, so answers are measured with the configured fusion only
    # (every retriever's ranking is still compared above).
    fusion = squad.settings.fusion
    per_name = {fusion: ask_all(squad, texts)}
    answers = {fusion: answer_metrics(qs, per_name[fusion])}
    if fp32 is not None:
        answers["reader fp32"] = answer_metrics(qs, ask_all(fp32, texts))
    snap = squad.store.snapshot
    return {
        "meta": {"documents": len(snap.entries), "passages": len(snap.passages), "sentences": len(snap.sentences),
                 "questions": len(qs), "fusion": squad.settings.fusion, "dense_weight": squad.settings.dense_weight,
                 "answer_cap": ANSWER_CAP, "commit": git_commit(), "date": datetime.date.today().isoformat()},
        "retrieval": retrieval,
        "answers": answers,
        "hit1_misses": hit1_misses(qs, per_name[squad.settings.fusion]),
        # questions of the paragraphs withheld from ``withheld[0]``: their articles are there, their answers are not
        "cross_set": {**cross_set(seed, squad, cross),
                      "squad_withheld_paragraphs": false_answers(withheld[0], [q.question for q in withheld[1]])},
        "targets": TARGETS,
    }


def markdown(result: dict) -> str:
    meta, fusion = result["meta"], result["meta"]["fusion"]
    label = {n: n + (" (configured)" if n == fusion else "") for n in result["retrieval"]}
    cross, miss = result["cross_set"], result["hit1_misses"]
    rows = [[label[n], *m.values()] for n, m in result["retrieval"].items()]
    arows = [[label.get(n, n), *m.values()] for n, m in result["answers"].items()]
    r, a = result["retrieval"][fusion], result["answers"][fusion]
    lines = [
        "# SQuAD v1.1 dev (part a) benchmark", "",
        f"{meta['documents']} Wikipedia articles as documents ({meta['passages']} passages, {meta['sentences']} "
        f"sentences), {meta['questions']} questions asked against the whole collection. Configured fusion "
        f"`{fusion}` (dense weight {meta['dense_weight']}); commit `{meta['commit']}`, {meta['date']}. "
        "Regenerate with `python -m eval.quality.squad` (data: eval/data/squad/, CC BY-SA 4.0, see "
        "ATTRIBUTION.md).", "",
        "A retrieved passage is a hit when it overlaps the gold paragraph's span. Span EM / F1: the answer (the "
        "reader's exact span) against the gold answers with the official SQuAD normalisation; a null answer scores 0. "
        "Sentence containment: a gold answer string occurs (case-insensitive) in the cited sentence. Containment: in "
        f"the answer itself (capped at {meta['answer_cap']} characters). passage_hit@1: the answer's first passage "
        "(re-ranked by the reader) overlaps the gold paragraph. Top-1 passage contains gold: that passage holds a gold "
        "answer string.",
        "", "## Retrieval", "", table(["retriever", *next(iter(result["retrieval"].values()))], rows), "",
        "## Answers (the full service; `reader fp32`: the same with the unquantized reader graph)", "",
        table(["configuration", *next(iter(result["answers"].values()))], arows), "",
        *ablation(result),
        "## Against the targets (configured fusion)", "",
        table(["metric", "target", "reached"], [[k, t, a[k]] for k, t in TARGETS.items()]), "",
        f"Retrieval alone (before the reader re-ranks passages): hit@1 {r['hit@1']:.4f}, hit@5 {r['hit@5']:.4f}.",
        "",
        f"Of the {miss['misses']} questions whose top passage (configured fusion) misses the gold paragraph, "
        f"{miss['same_article']:.1%} rank another passage of the same article first and "
        f"{miss['top1_contains_gold_anyway']:.1%} of those top passages contain a gold answer string anyway.", "",
        "## Abstention: questions the index cannot answer (every one should get a null answer)", "",
        table(["questions", "index", "count", "false-answer rate"], [
            ["SQuAD questions (random sample)", "seed articles", cross["squad_on_seed_index"]["questions"],
             cross["squad_on_seed_index"]["false_answer_rate"]],
            ["seed unanswerable questions", "SQuAD articles", cross["seed_unanswerable_on_squad_index"]["questions"],
             cross["seed_unanswerable_on_squad_index"]["false_answer_rate"]],
            ["SQuAD questions of withheld paragraphs (in-domain: their article is indexed, no gold answer string is)",
             f"SQuAD articles without every {WITHHOLD_EVERY}th paragraph",
             cross["squad_withheld_paragraphs"]["questions"],
             cross["squad_withheld_paragraphs"]["false_answer_rate"]]]), "",
    ]
    for key in ("squad_on_seed_index", "seed_unanswerable_on_squad_index", "squad_withheld_paragraphs"):
        for ex in cross[key]["examples"]:
            lines.append(f"- {key}: \"{ex['question']}\" -> \"{ex['answer']}\"")
    return "\n".join(lines) + "\n"


def ablation(result: dict) -> list[str]:
    """Previous heuristics (eval/reports/squad/ablation_previous.json, `python -m eval.quality.ablation_previous`)
    beside the reader, on the metrics both report."""
    path = ROOT / "eval" / "reports" / "squad" / "ablation_previous.json"
    if not path.exists():
        return []
    prev = json.loads(path.read_text(encoding="utf-8"))
    keys = ["span_em", "span_f1", "sentence_containment", "passage_hit@1", "abstention_rate"]
    rows = [[f"previous heuristics (commit {prev['commit']}: sentence features + regex highlight)",
             *[prev[k] for k in keys]]]
    rows += [[f"reader ({name})", *[m[k] for k in keys]] for name, m in result["answers"].items()]
    return ["## Ablation: the answer layer", "", table(["answer layer", *keys], rows), "",
            f"Previous heuristics measured on {prev['questions']} questions; its span is the regex highlight, or the "
            "whole sentence when it gave none.", ""]


def sample(questions: Sequence[SquadQuestion], n: int | None, seed: int) -> list[SquadQuestion]:
    """A reproducible random subset in the original order (all of them when ``n`` is None or too large)."""
    if n is None or n >= len(questions):
        return list(questions)
    keep = set(random.Random(seed).sample(range(len(questions)), n))
    return [q for i, q in enumerate(questions) if i in keep]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.quality.squad", description=__doc__)
    p.add_argument("--index-dir", type=Path, default=None, help="reuse this index (default: a temporary one)")
    p.add_argument("--limit", type=positive, default=None, help="ask a random subset of N questions")
    p.add_argument("--cross", type=count, default=300, help="SQuAD questions to ask the seed-only index")
    p.add_argument("--out", type=Path, default=None,
                   help="write report.md and report.json here (the committed ones: eval/reports/squad/)")
    p.add_argument("--json", action="store_true", help="print the JSON result instead of the Markdown report")
    p.add_argument("--fp32-graph", type=Path, default=None,
                   help="also answer with this reader graph (the fp32 export) for the int8 vs fp32 ablation")
    args = p.parse_args(argv)
    data = vendor()
    articles = load_articles(data)
    questions = [q for art in articles for q in art.questions]
    with tempfile.TemporaryDirectory(prefix="qa-squad-") as tmp:
        squad = open_squad_service(args.index_dir or Path(tmp) / "squad", data)
        withheld = open_withheld(Path(tmp) / "withheld", articles)
        seed = QAService.from_settings(Settings(index_dir=Path(tmp) / "seed", seeds_dir=ROOT / "seeds"),
                                       build_from_seeds=True)
        fp32 = None
        if args.fp32_graph is not None:
            fp32 = QAService(squad.store, squad.settings.model_copy(update={"reader_graph": args.fp32_graph}))
            fp32.encoder, fp32.retriever = squad.encoder, squad.retriever
        result = run(squad, seed, sample(questions, args.limit, 0), sample(questions, args.cross, 1),
                     withheld, fp32)
    result["meta"]["limit"] = args.limit
    report = markdown(result)
    if args.out is not None:
        save_report(args.out, result, report)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
