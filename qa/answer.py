"""Read candidate sentences with the reader, choose the best-supported span, decide whether to abstain, build Answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.backend import ReadView
from qa.answer_type import KIND_NOUNS, agrees, count_span, expected_kind, may_hold, names_question_subject
from qa.confidence import Features, probability
from qa.config import AnswerParams
from qa.models import Answer, Citation, Highlight, Hit, Passage, ResolvedDate
from qa.question import Query, coverage, known_term
from qa.reader.decode import Reading
from qa.reader.model import Reader
from qa.timeref import resolve as resolve_dates

CLOSEST = 3  # sentences shown as evidence with a null answer


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a top passage, before reading: retrieval signals only."""

    sentence_id: int
    cos: float
    coverage: float
    passage: float
    # the order in which candidates are offered to the reader (retrieval signals, no answer model): cosine + coverage
    # + the passage's fused score weighted by AnswerParams.passage_weight
    prefilter: float


@dataclass(frozen=True, slots=True)
class Scored:
    """A read candidate: what the reader found in it, the confidence model's inputs and its calibrated probability."""

    candidate: Candidate
    reading: Reading
    features: Features
    probability: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """An answer with the candidates read for it, scored, best first (none when nothing was read): what calibration
    fits on and what the abstention sweep thresholds."""

    answer: Answer
    scored: list[Scored]


def oov_share(snap: ReadView, query: Query) -> float:
    """IDF-weighted share of question terms that no article contains."""
    default = snap.default_idf()
    total = sum(snap.idf.get(t, default) for t in set(query.terms))
    unknown = sum(default for t in set(query.terms) if not known_term(t, snap.vocab))
    return unknown / total if total else 0.0


def candidates(snap: ReadView, query: Query, hits: list[Hit], params: AnswerParams) -> list[Candidate]:
    """The ``params.candidates`` sentences of the top ``params.passages`` passages that retrieval signals rate highest,
    best first."""
    best_passage: dict[int, float] = {}
    top = max((h.score for h in hits), default=1.0) or 1.0
    for hit in hits[:params.passages]:
        for row in snap.passage_sentences[hit.passage_id]:
            sid = original_sentence(snap, row)
            if sid is None:
                continue  # a copy's own wording: the original answers, and an outdated copy never does
            span = snap.sentences[sid]
            if span.text == snap.entries[span.doc_id].doc.title:
                continue  # a headline names the topic; it does not answer questions about it
            best_passage[sid] = max(best_passage.get(sid, 0.0), hit.score / top)
    if not best_passage:
        return []
    sids = np.fromiter(best_passage, dtype=np.int64)
    cosines = snap.sentence_vectors[sids] @ query.vector
    default_idf = snap.default_idf()
    out = []
    for sid, cos in zip(sids.tolist(), cosines.tolist(), strict=True):
        cov = coverage(query.terms, set(snap.sentence_terms[sid]), snap.idf, default_idf)
        cos = max(0.0, cos)
        out.append(Candidate(sid, cos, cov, best_passage[sid],
                             cos + cov + params.passage_weight * best_passage[sid]))
    # a sentence that cannot hold an answer of the kind asked ("how long": no number with a time unit) is read last
    kind = expected_kind(query.text)
    holds = {c.sentence_id: may_hold(kind, snap.sentences[c.sentence_id].text) for c in out}
    out.sort(key=lambda c: (not holds[c.sentence_id], -c.prefilter))
    return out[:params.candidates]


def unknown_entities(snap: ReadView, query: Query) -> list[str]:
    """Names or numbers in the question that no indexed article contains, as the question wrote them."""
    return [query.written(e) for e in query.entities if not known_term(e, snap.vocab)]


def score(snap: ReadView, query: Query, cands: Sequence[Candidate], readings: Sequence[Reading]) -> list[Scored]:
    """Calibrated probability for each read candidate, best first."""
    oov = oov_share(snap, query)
    out = []
    for c, r in zip(cands, readings, strict=True):
        doc_terms = snap.terms_of_document(snap.sentences[c.sentence_id].doc_id)
        ent = (sum(1 for e in query.entities if e in doc_terms) / len(query.entities)) if query.entities else 1.0
        f = Features(reader=r.answerable, reader_logit=max(-10.0, min(10.0, r.logit)), span=r.span_prob, cos=c.cos,
                     coverage=c.coverage, passage=c.passage, entity_coverage=ent, oov=oov)
        out.append(Scored(c, r, f, probability(f)))
    out.sort(key=lambda s: -s.probability)
    return out


def null_answer(question: str, passages: list[Passage], confidence: float, reason: str,
                closest: Sequence[Citation] = ()) -> Answer:
    """"Not found in the articles", with why, ``confidence`` the probability that the articles lack the answer, and
    the ``closest`` sentences read as evidence."""
    return Answer(question=question, answer=None, confidence=round(confidence, 4), citations=[],
                  passages=passages, abstain_reason=reason, closest=list(closest))


def closest(snap: ReadView, scored: Sequence[Scored]) -> list[Citation]:
    """The best ``CLOSEST`` read sentences of a null answer, with the probabilities it was decided on and the spans
    the reader read (no highlight where it found none); a sentence quoted word for word by another article shows
    once."""
    out: list[Citation] = []
    quotes: set[str] = set()
    for s in scored:
        quote = snap.sentences[s.candidate.sentence_id].text
        if quote in quotes:
            continue
        quotes.add(quote)
        out.append(cite(snap, s.candidate.sentence_id, s.reading.start, s.reading.end, s.probability))
        if len(out) == CLOSEST:
            break
    return out


def answer_batch(snap: ReadView, reader: Reader, queries: Sequence[Query], hits: Sequence[list[Hit]],
                 params: AnswerParams) -> list[Outcome]:
    """Answers for several questions, from their retrieved passages ``hits``, with the candidates read for each (read
    with each query's ``reader_text``). The reader reads each question's first candidate alone; when its calibrated
    probability reaches ``params.early_exit`` that is the answer, else the other candidates are read (one more call)
    and the best of all wins."""
    blocked = [unknown_entities(snap, query) for query in queries]
    # a question naming something no article mentions is still read: its null answer shows the closest sentences
    cands = [candidates(snap, query, h, params) for query, h in zip(queries, hits, strict=True)]
    scored = _read(snap, reader, queries, cands, params.early_exit)
    outcomes = []
    for query, h, missing, cs, sc in zip(queries, hits, blocked, cands, scored, strict=True):
        passages = [passage_of(snap, hit) for hit in h]
        if missing:
            answer = null_answer(query.text, passages, 0.95, f"the articles never mention: {', '.join(missing)}",
                                 closest(snap, sc))
        elif not cs:
            answer = null_answer(query.text, passages, 1.0, "no articles are indexed")
        else:
            answer = build_answer(snap, query, passages, sc, params.abstain_below)
        outcomes.append(Outcome(answer, sc))
    return outcomes


def _read(snap: ReadView, reader: Reader, queries: Sequence[Query], cands: Sequence[list[Candidate]],
          early_exit: float) -> list[list[Scored]]:
    """Each question's read candidates, scored, best first: the first alone, the rest only when the first's calibrated
    probability stays under ``early_exit`` (so only the first may come back); above 1, all of them in one call."""
    def sentences(cs: Sequence[Candidate]) -> list[str]:
        return [snap.sentences[c.sentence_id].text for c in cs]

    first = cands if early_exit > 1.0 else [cs[:1] for cs in cands]
    readings = reader.read_batch([(q.reader_text, sentences(cs)) for q, cs in zip(queries, first, strict=True)])
    scored = [score(snap, q, cs, rs) for q, cs, rs in zip(queries, first, readings, strict=True)]
    # a confident first span of the wrong kind ("Kabul" for "In which country ...?") is no reason to stop reading
    more = [i for i, (cs, sc) in enumerate(zip(cands, scored, strict=True))
            if len(cs) > len(sc)
            and (sc[0].probability < early_exit or not of_asked_kind(snap, queries[i].text, sc[0]))]
    rest_read = reader.read_batch([(queries[i].reader_text, sentences(cands[i][1:])) for i in more])
    for i, rest in zip(more, rest_read, strict=True):
        # stable: of equals, the earlier candidate stays first, as when all are scored together
        scored[i] = sorted(scored[i] + score(snap, queries[i], cands[i][1:], rest), key=lambda s: -s.probability)
    return scored


def build_answer(snap: ReadView, query: Query, passages: list[Passage], scored: list[Scored],
                 abstain_below: float) -> Answer:
    """The best-supported span with its sentence cited and passages re-ranked by support, or a null answer (under
    ``abstain_below``, or when the best sentence holds no span)."""
    passages = rerank(snap, passages, scored)
    typed = [s for s in scored if of_asked_kind(snap, query.text, s)]
    best = typed[0] if typed else scored[0]
    if not typed or best.probability < abstain_below or best.reading.start >= best.reading.end:
        top = scored[0]
        refused = (kind_mismatch(snap, query.text, top)
                   if top.probability >= abstain_below and top.reading.start < top.reading.end else None)
        # the probability that the articles lack the answer is no higher for refusing a span of the wrong kind
        reason = refused or "no sentence in the articles supports an answer"
        return null_answer(query.text, passages, 1 - top.probability, reason, closest(snap, scored))
    start, end = count_span(query.text, snap.sentences[best.candidate.sentence_id].text, best.reading.start,
                            best.reading.end)
    citation = cite(snap, best.candidate.sentence_id, start, end, best.probability)
    assert citation.highlight is not None
    return Answer(question=query.text, answer=citation.highlight.text, confidence=round(best.probability, 4),
                  citations=[citation], passages=passages)


def kind_mismatch(snap: ReadView, question: str, scored: Scored) -> str | None:
    """Why the span read from this candidate is not of the kind the question asks for (qa.answer_type): no city for
    "which country", no year for "how long", not the question's own subject for "who"; None when it is."""
    sentence = snap.sentences[scored.candidate.sentence_id].text
    start, end = scored.reading.start, scored.reading.end
    span = sentence[start:end]
    kind = expected_kind(question)
    if kind == "person" and names_question_subject(question, sentence, start, end):
        return f'the best-supported span, "{span}", names whom the question is about'
    if kind is None or agrees(kind, span):
        return None
    return f'the best-supported span, "{span}", is not {KIND_NOUNS[kind]}'


def of_asked_kind(snap: ReadView, question: str, scored: Scored) -> bool:
    """Whether the span read from this candidate is of the kind the question asks for."""
    return kind_mismatch(snap, question, scored) is None


def original_sentence(snap: ReadView, sentence_id: int) -> int | None:
    """A copy's sentence (``Document.duplicate_of``) as the same sentence of the article it copies, so one copy is
    cited; None when that article does not hold it (edited since, or the copy's own words). Any other sentence is
    itself."""
    doc_id = snap.sentences[sentence_id].doc_id
    original = snap.original(doc_id)
    if original == doc_id:
        return sentence_id
    text = snap.sentences[sentence_id].text
    held = snap.entries[original].sentences
    return next((snap.sentence_row(original, i) for i, s in enumerate(held) if s.text == text), None)


def cite(snap: ReadView, sentence_id: int, start: int, end: int, score: float) -> Citation:
    """The citation of a sentence with the span at ``start:end`` of it highlighted (document offsets; none for an
    empty span) and its relative dates resolved against the article's publication date."""
    span = snap.sentences[sentence_id]
    doc = snap.entries[span.doc_id].doc
    start, end = span.start + start, span.start + end
    dates = [ResolvedDate(start=span.start + r.start, end=span.start + r.end, text=r.text, date=r.resolved)
             for r in resolve_dates(span.text, doc.published)]
    highlight = Highlight(start=start, end=end, text=doc.text[start:end]) if start < end else None
    return Citation(doc_id=doc.doc_id, title=doc.title, url=doc.url, start=span.start, end=span.end, quote=span.text,
                    score=round(score, 4), highlight=highlight, published=doc.published, dates=dates,
                    copies=list(snap.copies.get(doc.doc_id, ())))


def rerank(snap: ReadView, passages: list[Passage], scored: list[Scored]) -> list[Passage]:
    """Passages holding a read sentence first, by that sentence's probability; the others keep retrieval order."""
    support: dict[int, float] = {}
    for s in scored:
        span = snap.sentences[s.candidate.sentence_id]
        for i, p in enumerate(passages):
            if p.doc_id == span.doc_id and p.start <= span.start and span.end <= p.end:
                support[i] = max(support.get(i, 0.0), s.probability)
    order = sorted(range(len(passages)), key=lambda i: (-support.get(i, -1.0), i))
    return [passages[i] for i in order]


def passage_of(snap: ReadView, hit: Hit) -> Passage:
    """The retrieved passage of ``hit`` with its document title, exact offsets and a score clipped to [0, 1]."""
    chunk = snap.passages[hit.passage_id]
    doc = snap.entries[chunk.doc_id].doc
    return Passage(doc_id=chunk.doc_id, title=doc.title, start=chunk.start, end=chunk.end, text=chunk.text,
                   score=round(min(1.0, max(0.0, hit.score)), 4))
