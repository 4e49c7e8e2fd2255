"""Event questions ("What happened on Tuesday?"): questions that name only a time, answered with the sentences of the
retrieved passages whose relative dates fall on that time, instead of by the reader (it has nothing to extract).

The answer is the first such sentence (article order) on the most recent matching date, quoted whole, with every
matching sentence of that date cited. Its ``confidence`` is not the reader's calibrated probability: it is the share
of the matching sentences that fall on the chosen date (1.0 when they all report the same day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from index.backend import ReadView
from index.text import QUESTION_WORDS, normalize, terms
from qa.answer import cite, null_answer, passage_of
from qa.models import Answer, Citation, Hit, Passage
from qa.timeref import WEEKDAYS, bounds, resolve, weekday_named

EVENT_PASSAGES = 20  # passages retrieved for an event question and scanned: bounded whatever the collection's size
MAX_CITATIONS = 5
# Besides stop words and its one time phrase, an event question says only that something happened.
_EVENT_WORDS = ("happen", "happened", "happening", "happens", "occur", "occurred", "occurring", "occurs", "take",
                "takes", "took", "taken", "taking", "place", "go", "goes", "going", "went", "gone", "new", "news",
                "anything", "event", "events")


@cache
def _filler() -> frozenset[str]:
    """The terms (``index.text.terms``: stemmed, stop words gone) an event question may hold besides its time."""
    return frozenset(normalize(w) for w in (*_EVENT_WORDS, *QUESTION_WORDS))


@dataclass(frozen=True, slots=True)
class EventQuestion:
    """A question naming only a time. A weekday phrase ("on Tuesday", "Tuesday", "last Tuesday") means any such
    day; any other phrase means ``period``, the day, week, month or year it resolves to against today's date."""

    text: str
    phrase: str
    weekday: int | None
    period: str | None

    @property
    def when(self) -> str:
        """The time for a message: ``on Tuesday``, ``yesterday (2021-11-23)``."""
        if self.weekday is not None:
            return f"on {WEEKDAYS[self.weekday].capitalize()}"
        return f"{self.phrase.lower()} ({self.period})"

    def matches(self, resolved: str) -> bool:
        """Whether a sentence's resolved relative date (``TimeRef.resolved``) falls on this question's time."""
        first, last = bounds(resolved)
        if self.weekday is not None:
            return first == last and first.weekday() == self.weekday
        assert self.period is not None
        start, end = bounds(self.period)
        return start <= first and last <= end


def event_question(question: str, today: date) -> EventQuestion | None:
    """The event question ``question`` is, with relative phrases meant against ``today``; None when it holds no time
    phrase, more than one, or anything else than wh-words, stop words and verbs of happening ("Who spoke on
    Tuesday?", "What happened to the patrol boats on Tuesday?")."""
    refs = resolve(question, today.isoformat())
    if len(refs) != 1:
        return None
    ref = refs[0]
    if any(t not in _filler() for t in terms(f"{question[:ref.start]} {question[ref.end:]}")):
        return None
    weekday = weekday_named(ref)
    return EventQuestion(question, ref.text, weekday, None if weekday is not None else ref.resolved)


@dataclass(frozen=True, slots=True)
class Match:
    """A sentence reporting something on the question's time: its row and its resolved dates that fall on it."""

    sentence_id: int
    dates: tuple[str, ...]


def find_matches(snap: ReadView, event: EventQuestion, hits: list[Hit]) -> list[Match]:
    """The sentences of the passages ``hits`` with a relative date (resolved against their article's publication
    date) on the question's time, in article order: documents by their best passage, sentences by position."""
    doc_rank: dict[str, int] = {}
    sids: set[int] = set()
    for hit in hits:
        doc_rank.setdefault(snap.passages[hit.passage_id].doc_id, len(doc_rank))
        sids.update(snap.passage_sentences[hit.passage_id])
    out = []
    for sid in sorted(sids, key=lambda i: (doc_rank[snap.sentences[i].doc_id], snap.sentences[i].start)):
        span = snap.sentences[sid]
        published = snap.entries[span.doc_id].doc.published
        dates = tuple(dict.fromkeys(r.resolved for r in resolve(span.text, published) if event.matches(r.resolved)))
        if dates:
            out.append(Match(sid, dates))
    return out


def answer_event(snap: ReadView, event: EventQuestion, hits: list[Hit], allowed_passages: int) -> Answer:
    """The answer to an event question from the sentences of ``hits``. Null when nothing matches (confidence: the
    share of the ``allowed_passages`` that were scanned) or when a weekday matches several dates (confidence
    ``1 - 1/dates``); else the first sentence of the most recent date, quoted whole."""
    passages = [passage_of(snap, h) for h in hits]
    matches = find_matches(snap, event, hits)
    if not matches:
        scanned = len(hits) / allowed_passages if allowed_passages > len(hits) else 1.0
        return null_answer(event.text, passages, scanned, f"no article reports anything {event.when}")
    dates = sorted({d for m in matches for d in m.dates}, key=_recency, reverse=True)
    if event.weekday is not None and len(dates) > 1:
        return null_answer(event.text, passages, 1 - 1 / len(dates), f"'{event.when}' matches several dates in the "
                           f"articles: {', '.join(dates)}; narrow it with since/until")
    on_date = [m for m in matches if dates[0] in m.dates]
    confidence = round(len(on_date) / len(matches), 4)
    citations = [cite(snap, m.sentence_id, 0, len(snap.sentences[m.sentence_id].text), confidence)
                 for m in on_date[:MAX_CITATIONS]]
    return Answer(question=event.text, answer=citations[0].quote, confidence=confidence, citations=citations,
                  passages=_cited_first(passages, citations))


def _recency(resolved: str) -> tuple[date, date]:
    """Later end first; of two ending the same day, the narrower one (a day before the week it closes)."""
    first, last = bounds(resolved)
    return last, first


def _cited_first(passages: list[Passage], citations: list[Citation]) -> list[Passage]:
    """Passages holding a cited sentence first; each group keeps retrieval order."""
    def cited(p: Passage) -> bool:
        return any(c.doc_id == p.doc_id and p.start <= c.start and c.end <= p.end for c in citations)

    return sorted(passages, key=lambda p: not cited(p))
