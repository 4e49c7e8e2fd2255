"""Choose the answer sentence among retrieved passages, decide whether to abstain, and build the Answer."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.documents import Span
from index.snapshot import IndexSnapshot
from qa.confidence import ABSTAIN_BELOW, Features, probability
from qa.features import TYPE_PATTERNS, QuestionInfo, coverage, known_term, novelty, type_match
from qa.highlight import highlight
from qa.models import Answer, Citation, Hit, Passage

ANSWER_PASSAGES = 5
# Answer types precise enough that no sentence of that type among the candidates means "not in the articles".
STRICT_TYPES = frozenset(TYPE_PATTERNS) - {"reason", "date", "weekday"}
# Answer types whose matching sentences are preferred over non-matching ones when any exist.
PREFERRED_TYPES = (frozenset(TYPE_PATTERNS) | {"person", "place"}) - {"reason"}


@dataclass(frozen=True, slots=True)
class Candidate:
    sentence_id: int
    score: float
    features: Features


def sentence_score(f: Features) -> float:
    """Ranking score of a candidate sentence (not a probability)."""
    return 0.7 * f.cos + 0.45 * f.coverage + 0.1 * f.type


def oov_share(snap: IndexSnapshot, info: QuestionInfo) -> float:
    """IDF-weighted share of question terms that no article contains."""
    default = snap.default_idf()
    total = sum(snap.idf.get(t, default) for t in set(info.terms))
    unknown = sum(default for t in set(info.terms) if not known_term(t, snap.vocab_sorted, snap.idf))
    return unknown / total if total else 0.0


def candidates(snap: IndexSnapshot, info: QuestionInfo, qvec: np.ndarray, hits: list[Hit]) -> list[Candidate]:
    """Every sentence of the top passages with its features, best first."""
    best_passage: dict[int, float] = {}
    top = max((h.score for h in hits), default=1.0) or 1.0
    for hit in hits[:ANSWER_PASSAGES]:
        for sid in snap.passage_sentences[hit.passage_id]:
            span = snap.sentences[sid]
            if span.text == snap.entries[span.doc_id].doc.title:
                continue  # a headline names the topic; it does not answer questions about it
            best_passage[sid] = max(best_passage.get(sid, 0.0), hit.score / top)
    if not best_passage:
        return []
    sids = np.fromiter(best_passage, dtype=np.int64)
    cosines = snap.sentence_vectors[sids] @ qvec
    default_idf = snap.default_idf()
    oov = oov_share(snap, info)
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
            type=(type_match(info.answer_type, span.text, info.text, info.asked)
                  if novelty(info.terms, sterms) > 0 else 0.0),
            margin=0.0,
            entity_coverage=ent_cov,
            oov=oov,
        )
        out.append(Candidate(sid, sentence_score(f), f))
    out.sort(key=lambda c: -c.score)
    if len(out) > 1:
        best = out[0]
        margin = min(1.0, (best.score - out[1].score) * 5)
        out[0] = replace(best, features=replace(best.features, margin=margin))
    return out


def unknown_entities(snap: IndexSnapshot, info: QuestionInfo) -> list[str]:
    """Names or numbers in the question that no indexed article contains."""
    return [e for e in info.entities if not known_term(e, snap.vocab_sorted, snap.idf)]


def _null(info: QuestionInfo, passages: list[Passage], confidence: float, reason: str) -> Answer:
    return Answer(question=info.text, answer=None, confidence=round(confidence, 4), citations=[],
                  passages=passages, abstain_reason=reason)


def build_answer(snap: IndexSnapshot, info: QuestionInfo, qvec: np.ndarray, hits: list[Hit]) -> Answer:
    """The extractive answer with its citation, or a null answer with the reason."""
    passages = [passage_of(snap, h) for h in hits]
    missing = unknown_entities(snap, info)
    if missing:
        return _null(info, passages, 0.95, f"the articles never mention: {', '.join(missing)}")
    ranked = candidates(snap, info, qvec, hits)
    if not ranked:
        return _null(info, passages, 1.0, "no articles are indexed")
    typed = [c for c in ranked if c.features.type == 1.0]
    if info.answer_type in STRICT_TYPES and not typed:
        return _null(info, passages, 0.9, f"no retrieved sentence states a {info.answer_type}")
    if info.answer_type in PREFERRED_TYPES and typed:
        ranked = typed
    best = ranked[0]
    p = probability(best.features)
    if p < ABSTAIN_BELOW:
        return _null(info, passages, 1 - p, "no sentence in the articles supports an answer")
    span = snap.sentences[best.sentence_id]
    citation = _citation(snap, span, round(best.score, 4), info)
    return Answer(question=info.text, answer=span.text, confidence=round(p, 4), citations=[citation],
                  passages=passages)


def _citation(snap: IndexSnapshot, span: Span, score: float, info: QuestionInfo) -> Citation:
    doc = snap.entries[span.doc_id].doc
    return Citation(doc_id=doc.doc_id, title=doc.title, url=doc.url, start=span.start, end=span.end,
                    quote=span.text, score=min(1.0, max(0.0, score)),
                    highlight=highlight(span, info.answer_type, info.text))


def passage_of(snap: IndexSnapshot, hit: Hit) -> Passage:
    """The retrieved passage of ``hit`` with its document title, exact offsets and a score clipped to [0, 1]."""
    chunk = snap.passages[hit.passage_id]
    doc = snap.entries[chunk.doc_id].doc
    return Passage(doc_id=chunk.doc_id, title=doc.title, start=chunk.start, end=chunk.end, text=chunk.text,
                   score=round(min(1.0, max(0.0, hit.score)), 4))
