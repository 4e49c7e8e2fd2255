"""Evaluate a QAService on an eval set: retrieval per retriever, answers, abstention, calibration, conversations.

Definitions (also printed in the report):
- a passage is relevant when it is from the gold document and overlaps the gold evidence span;
- an answer is *correct* when it is not null, contains a gold answer string (case-insensitive) and cites the gold
  document; its citation is *right* when it cites the gold document with a span overlapping the gold evidence;
- calibration event: for an answer, "answered and correct"; for a null answer (whose confidence is the probability
  that the articles lack the answer), "the question is unanswerable".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from eval.quality.dataset import EvalSet, Gold, Question
from eval.quality.metrics import (
    contains_answer,
    expected_calibration_error,
    first_relevant_rank,
    mean,
    overlaps,
    precision_recall,
    ranking_summary,
    recall_at_k,
    reliability_table,
)
from eval.quality.retrieval import Target, judge_rankings, n_relevant, retriever_names
from eval.quality.span_metrics import exact_match, f1_score
from qa.models import Answer
from qa.service import QAService

KS = (1, 3, 5, 10)
SHORT_WORDS = 8
DEPTH = 10


def short_words(answers: Sequence[str]) -> int:
    """The most words a short span may have: SHORT_WORDS, or the longest gold answer's words when that is longer (an
    answer that quotes a long gold answer exactly is as short as it can be)."""
    return max([SHORT_WORDS, *(len(a.split()) for a in answers)])


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came back for one question or conversation turn, and how it was judged."""

    id: str
    kind: str  # "answerable", "unanswerable" or "turn"
    question: str
    resolved: str
    gold: Gold | None
    answer: str | None
    confidence: float
    abstain_reason: str | None
    cited: tuple[tuple[str, int, int], ...]
    contains: bool
    citation_right: bool
    correct: bool
    quotes_exact: int
    quotes_total: int
    short_span: bool = False  # answered with a gold answer in at most SHORT_WORDS words (or the longest gold's words)
    em: float = 0.0
    f1: float = 0.0

    @property
    def abstained(self) -> bool:
        return self.answer is None

    @property
    def ok(self) -> bool:
        return self.correct if self.gold is not None else self.abstained

    @property
    def calibration_event(self) -> bool:
        return self.gold is None if self.abstained else self.correct


def judge(service: QAService, q: Question, ans: Answer, kind: str) -> Outcome:
    """Score one Answer against the question's gold record."""
    gold = q.gold
    exact = sum(1 for c in ans.citations if service.document(c.doc_id).doc.text[c.start : c.end] == c.quote)
    contains = gold is not None and contains_answer(ans.answer, gold.answers)
    right_doc = gold is not None and any(c.doc_id == gold.doc_id for c in ans.citations)
    right_span = gold is not None and any(
        c.doc_id == gold.doc_id and overlaps(c.start, c.end, gold.start, gold.end) for c in ans.citations)
    return Outcome(
        id=q.id, kind=kind, question=q.question, resolved=ans.question, gold=gold, answer=ans.answer,
        confidence=ans.confidence, abstain_reason=ans.abstain_reason,
        cited=tuple((c.doc_id, c.start, c.end) for c in ans.citations),
        contains=contains, citation_right=right_span, correct=ans.answer is not None and contains and right_doc,
        quotes_exact=exact, quotes_total=len(ans.citations),
        short_span=(contains and gold is not None and ans.answer is not None
                    and len(ans.answer.split()) <= short_words(gold.answers)),
        em=exact_match(ans.answer, gold.answers) if gold else 0.0,
        f1=f1_score(ans.answer, gold.answers) if gold else 0.0,
    )


def run_conversations(service: QAService, evalset: EvalSet) -> list[Outcome]:
    """Each turn asked through chat() with earlier user turns and the service's own earlier answers."""
    out = []
    for conv in evalset.conversations:
        messages: list[tuple[str, str]] = []
        for turn in conv.turns:
            messages.append(("user", turn.question))
            ans = service.chat(messages)
            out.append(judge(service, turn, ans, "turn"))
            messages.append(("assistant", ans.answer or "Not found in the articles."))
    return out


def retrieval_metrics(service: QAService, questions: Sequence[Question]) -> tuple[dict, dict, dict]:
    """Summary per retriever, the recall@k curve per retriever, and the fused gold rank per question id."""
    names = retriever_names(service)
    snap = service.store.snapshot
    targets = [Target(q.gold.doc_id, q.gold.start, q.gold.end) for q in questions if q.gold]
    texts = [q.question for q in questions if q.gold]
    counts = [n_relevant(snap, t) for t in targets]
    judged = judge_rankings(service, texts, targets, DEPTH, names)
    summary, curves = {}, {}
    for name, rels in judged.items():
        summary[name] = ranking_summary(list(zip(rels, counts, strict=True)), KS, DEPTH)
        curves[name] = [mean([recall_at_k(r, k, n) for r, n in zip(rels, counts, strict=True)])
                        for k in range(1, DEPTH + 1)]
    fused = judged[service.settings.fusion]
    ranks = {q.id: first_relevant_rank(r) for q, r in zip([q for q in questions if q.gold], fused, strict=True)}
    return summary, curves, ranks


def _rate(outcomes: Sequence[Outcome], attr: str) -> float:
    return mean([1.0 if getattr(o, attr) else 0.0 for o in outcomes])


def answer_metrics(singles: Sequence[Outcome], turns: Sequence[Outcome]) -> dict:
    answerable = [o for o in singles if o.gold is not None]
    everything = list(singles) + list(turns)
    total_quotes = sum(o.quotes_total for o in everything)
    return {
        "answerable": len(answerable),
        "answered": sum(1 for o in answerable if not o.abstained),
        "contains_gold": _rate(answerable, "contains"),
        "citation_right": _rate(answerable, "citation_right"),
        "correct": _rate(answerable, "correct"),
        "short_span": _rate(answerable, "short_span"),
        "span_em": mean([o.em for o in answerable]),
        "span_f1": mean([o.f1 for o in answerable]),
        "abstained_on_answerable": _rate(answerable, "abstained"),
        "citations": total_quotes,
        "quote_exact": sum(o.quotes_exact for o in everything) / total_quotes if total_quotes else 1.0,
    }


def abstention_metrics(singles: Sequence[Outcome]) -> dict:
    predicted = [o.abstained for o in singles]
    actual = [o.gold is None for o in singles]
    precision, recall = precision_recall(predicted, actual)
    return {"unanswerable": sum(actual), "abstained": sum(predicted), "precision": precision, "recall": recall,
            "false_answers": sum(1 for o in singles if o.gold is None and not o.abstained)}


def calibration_metrics(outcomes: Sequence[Outcome], n_bins: int = 10) -> dict:
    conf = [o.confidence for o in outcomes]
    event = [o.calibration_event for o in outcomes]
    answered = [o for o in outcomes if not o.abstained]
    return {
        "n": len(outcomes),
        "ece": expected_calibration_error(conf, event, n_bins),
        "ece_answered": expected_calibration_error([o.confidence for o in answered],
                                                   [o.calibration_event for o in answered], n_bins),
        "table": [asdict(b) for b in reliability_table(conf, event, n_bins)],
    }


def conversation_metrics(turns: Sequence[Outcome], n_conversations: int) -> dict:
    first = [o for o in turns if o.id.endswith(".1")]
    follow = [o for o in turns if not o.id.endswith(".1")]
    by_conv: dict[str, list[bool]] = {}
    for o in turns:
        by_conv.setdefault(o.id.split(".")[0], []).append(o.correct)
    return {"conversations": n_conversations, "turns": len(turns), "turn_accuracy": _rate(turns, "correct"),
            "first_turn_accuracy": _rate(first, "correct"), "follow_up_accuracy": _rate(follow, "correct"),
            "final_turn_accuracy": mean([1.0 if v[-1] else 0.0 for v in by_conv.values()]),
            "all_turns_correct": mean([1.0 if all(v) else 0.0 for v in by_conv.values()])}


def failure_record(o: Outcome, fused_rank: int | None = None) -> dict:
    rec: dict[str, object] = {"id": o.id, "kind": o.kind, "question": o.question, "answer": o.answer,
           "confidence": o.confidence, "abstain_reason": o.abstain_reason,
           "cited": [list(c) for c in o.cited], "contains_gold": o.contains, "citation_right": o.citation_right}
    if o.resolved != o.question:
        rec["resolved_question"] = o.resolved
    if o.gold is not None:
        rec["gold"] = {"doc_id": o.gold.doc_id, "answers": list(o.gold.answers),
                       "evidence": [o.gold.start, o.gold.end]}
    if o.kind == "answerable":
        rec["fused_gold_rank"] = fused_rank  # None: not in the top 10 passages
    return rec


def run_eval(service: QAService, evalset: EvalSet) -> dict:
    """All seed-eval measurements as one JSON-able dict."""
    # a set of conversations only (eval/data/followup/) has no single questions to retrieve for
    summary, curves, ranks = retrieval_metrics(service, evalset.answerable) if evalset.answerable else ({}, {}, {})
    answers = service.ask_batch([q.question for q in evalset.questions]) if evalset.questions else []
    singles = [judge(service, q, a, "answerable" if q.answerable else "unanswerable")
               for q, a in zip(evalset.questions, answers, strict=True)]
    turns = run_conversations(service, evalset)
    failures = [failure_record(o, ranks.get(o.id)) for o in singles + turns if not o.ok]
    return {
        "retrieval": summary,
        "recall_curve": curves,
        "answers": answer_metrics(singles, turns),
        "abstention": abstention_metrics(singles),
        "calibration": calibration_metrics(singles + turns),
        "conversations": conversation_metrics(turns, len(evalset.conversations)),
        "failures": failures,
    }
