"""Choose the answer sentence among retrieved passages, decide whether to abstain, and build the Answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.documents import Span
from index.snapshot import IndexSnapshot
from qa.confidence import ABSTAIN_BELOW, Features, probability
from qa.features import QuestionInfo, coverage, novelty, type_match
from qa.highlight import highlight
from qa.models import Answer, Citation, Hit, Passage

ANSWER_PASSAGES = 5


@dataclass(frozen=True, slots=True)
class Candidate:
    sentence_id: int
    score: float
    features: Features


def _sentence_score(f: Features) -> float:
    """Ranking score of a candidate sentence (not a probability)."""
    return 0.5 * f.cos + 0.3 * f.coverage + 0.15 * f.passage + 0.1 * f.type


def candidates(snap: IndexSnapshot, info: QuestionInfo, qvec: np.ndarray, hits: list[Hit]) -> list[Candidate]:
    """Every sentence of the top passages with its features, best first."""
    best_passage: dict[int, float] = {}
    top = max((h.score for h in hits), default=1.0) or 1.0
    for hit in hits[:ANSWER_PASSAGES]:
        for sid in snap.passage_sentences[hit.passage_id]:
            best_passage[sid] = max(best_passage.get(sid, 0.0), hit.score / top)
    if not best_passage:
        return []
    sids = np.fromiter(best_passage, dtype=np.int64)
    cosines = snap.sentence_vectors[sids] @ qvec
    default_idf = snap.default_idf()
    out = []
    for sid, cos in zip(sids.tolist(), cosines.tolist(), strict=True):
        span = snap.sentences[sid]
        sterms = snap.sentence_terms[sid]
        doc_terms = snap.doc_terms.get(span.doc_id, frozenset())
        ent_cov = (sum(1 for e in info.entities if e in doc_terms) / len(info.entities)) if info.entities else 1.0
        f = Features(
            cos=max(0.0, cos),
            coverage=coverage(info.terms, set(sterms), snap.idf, default_idf),
            passage=best_passage[sid],
            type=type_match(info.answer_type, span.text, info.text) if novelty(info.terms, sterms) > 0 else 0.0,
            margin=0.0,
            entity_coverage=ent_cov,
        )
        out.append(Candidate(sid, _sentence_score(f), f))
    out.sort(key=lambda c: -c.score)
    if len(out) > 1:
        best = out[0]
        margin = min(1.0, (best.score - out[1].score) * 5)
        out[0] = Candidate(best.sentence_id, best.score, Features(**{**best.features.as_dict(), "margin": margin}))
    return out


def unknown_entities(snap: IndexSnapshot, info: QuestionInfo) -> list[str]:
    """Names or numbers in the question that no indexed article contains."""
    return [e for e in info.entities if e not in snap.idf]


def build_answer(snap: IndexSnapshot, info: QuestionInfo, qvec: np.ndarray, hits: list[Hit]) -> Answer:
    """The extractive answer with its citation, or a null answer with the reason."""
    passages = [_passage(snap, h) for h in hits]
    missing = unknown_entities(snap, info)
    if missing:
        words = ", ".join(missing)
        return Answer(question=info.text, answer=None, confidence=0.95, citations=[], passages=passages,
                      abstain_reason=f"the articles never mention: {words}")
    ranked = candidates(snap, info, qvec, hits)
    if not ranked:
        return Answer(question=info.text, answer=None, confidence=1.0, citations=[], passages=passages,
                      abstain_reason="no articles are indexed")
    best = ranked[0]
    p = probability(best.features)
    if p < ABSTAIN_BELOW:
        return Answer(question=info.text, answer=None, confidence=round(1 - p, 4), citations=[],
                      passages=passages, abstain_reason="no sentence in the articles supports an answer")
    span = snap.sentences[best.sentence_id]
    citation = _citation(snap, span, round(best.score, 4), info)
    return Answer(question=info.text, answer=span.text, confidence=round(p, 4), citations=[citation],
                  passages=passages)


def _citation(snap: IndexSnapshot, span: Span, score: float, info: QuestionInfo) -> Citation:
    doc = snap.entries[span.doc_id].doc
    return Citation(doc_id=doc.doc_id, title=doc.title, url=doc.url, start=span.start, end=span.end,
                    quote=span.text, score=min(1.0, max(0.0, score)),
                    highlight=highlight(span, info.answer_type, info.text))


def _passage(snap: IndexSnapshot, hit: Hit) -> Passage:
    chunk = snap.passages[hit.passage_id]
    doc = snap.entries[chunk.doc_id].doc
    return Passage(doc_id=chunk.doc_id, title=doc.title, start=chunk.start, end=chunk.end, text=chunk.text,
                   score=round(min(1.0, max(0.0, hit.score)), 4))
