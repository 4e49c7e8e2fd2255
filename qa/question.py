"""One question on its way through retrieval, the reader and the answer (Query), what it asks for (its terms and the
names it is about), and how far a sentence or the collection covers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.text import QUESTION_WORDS, STOPWORDS, WORD, fold, normalize, terms, words


@dataclass(frozen=True, slots=True, eq=False)
class Query:
    """One question, computed once and carried from retrieval to the answer."""

    text: str  # what retrieval searches with and the answer carries
    reader_text: str  # what the reader reads the candidate sentences with (a chat follow-up: the turn as written)
    terms: tuple[str, ...]  # index.text.terms of ``text``: BM25 ranks with them, coverage counts them
    entities: tuple[str, ...]  # the names and numbers ``text`` is about, normalized (``index.text.normalize``)
    vector: np.ndarray  # the embedding of ``text``
    entity_words: tuple[str, ...] = ()  # ``entities`` as the question wrote them, for messages

    @classmethod
    def of(cls, text: str, vector: np.ndarray, reader_text: str | None = None) -> Query:
        names = question_names(text)
        return cls(text, text if reader_text is None else reader_text, tuple(terms(text)), tuple(names), vector,
                   tuple(names.values()))

    def written(self, entity: str) -> str:
        """How the question wrote a normalized entity (``secretari`` -> ``Secretary``)."""
        return dict(zip(self.entities, self.entity_words, strict=False)).get(entity, entity)


def question_names(question: str) -> dict[str, str]:
    """The names and numbers the question is about, normalized, each with the word as written (its first
    occurrence): capitalized words past the first, and anything with a digit."""
    out: dict[str, str] = {}
    for i, (w, written) in enumerate(zip(words(question), WORD.findall(question), strict=True)):
        low = fold(w)
        if low in QUESTION_WORDS or low in STOPWORDS:
            continue
        if any(c.isdigit() for c in w) or (i > 0 and w[:1].isupper()):
            out.setdefault(normalize(w), written)
    return out


class Vocabulary(Protocol):
    """The terms of a collection (index.lexicon.Vocabulary): membership and "some term starts with"."""

    def __contains__(self, term: object) -> bool: ...

    def has_prefix(self, prefix: str) -> bool: ...


class IdfTable(Protocol):
    def get(self, term: str, default: float, /) -> float: ...


def known_term(term: str, vocab: Vocabulary) -> bool:
    """A term the collection contains, exactly or as a shared stem of 5+ letters (Kyrgyz ~ Kyrgyzstan)."""
    if term in vocab:
        return True
    if len(term) < 5 or term.isdigit():
        return False
    return vocab.has_prefix(term[:5] if len(term) < 7 else term[: len(term) - 2])


def coverage(question_terms: tuple[str, ...], sentence_terms: set[str], idf: IdfTable,
             default_idf: float) -> float:
    """IDF-weighted share of question terms present in the sentence, in [0, 1]."""
    total = sum(idf.get(t, default_idf) for t in set(question_terms))
    if total == 0:
        return 0.0
    return sum(idf.get(t, default_idf) for t in set(question_terms) if t in sentence_terms) / total
