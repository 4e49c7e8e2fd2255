"""Pure features of a (question, sentence) pair: lexical coverage, answer type, entity checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import QUESTION_WORDS, STOPWORDS, normalize, terms, words

_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                     r"forty|fifty|hundred|thousand|million|billion|dozen)\b", re.I)
_MONTH = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
                    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|"
                    r"week|month|year|century|decade)\b|\b\d{3,4}s?\b", re.I)
_CAPITALIZED = re.compile(r"\b[A-Z][\w’'.-]*")


@dataclass(frozen=True, slots=True)
class QuestionInfo:
    """What a question asks for, computed once per question."""

    text: str
    terms: tuple[str, ...]
    answer_type: str
    entities: tuple[str, ...]


def answer_type(question: str) -> str:
    """Coarse expected answer type from the question's wording."""
    q = question.lower()
    if re.search(r"\bhow (many|much|long|far|old|often)\b|\bwhat (number|percentage|amount)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|date|day|month)\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b", q):
        return "person"
    if re.search(r"\bwhere\b|\bwhich (city|country|port|town|place)\b", q):
        return "place"
    if re.search(r"\bwhy\b", q):
        return "reason"
    return "other"


def question_entities(question: str) -> tuple[str, ...]:
    """Normalized names and numbers the question is about: capitalized words past the first, and digits."""
    out = []
    for i, w in enumerate(words(question)):
        low = w.lower()
        if low in QUESTION_WORDS or low in STOPWORDS:
            continue
        if any(c.isdigit() for c in w) or (i > 0 and w[:1].isupper()):
            out.append(normalize(w))
    return tuple(dict.fromkeys(out))


def analyze(question: str) -> QuestionInfo:
    return QuestionInfo(question, tuple(terms(question)), answer_type(question), question_entities(question))


def coverage(question_terms: tuple[str, ...], sentence_terms: set[str], idf: dict[str, float],
             default_idf: float) -> float:
    """IDF-weighted share of question terms present in the sentence, in [0, 1]."""
    total = sum(idf.get(t, default_idf) for t in set(question_terms))
    if total == 0:
        return 0.0
    return sum(idf.get(t, default_idf) for t in set(question_terms) if t in sentence_terms) / total


def type_match(kind: str, sentence: str, question: str) -> float:
    """1 when the sentence contains something of the expected answer type not already in the question."""
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "date":
        return 1.0 if _MONTH.search(sentence) else 0.0
    if kind in ("person", "place"):
        asked = {normalize(w) for w in words(question)}
        names = [m.group(0) for m in _CAPITALIZED.finditer(sentence) if m.start() > 0]
        return 1.0 if any(normalize(n.strip(".’'")) not in asked for n in names) else 0.0
    return 0.5


def novelty(question_terms: tuple[str, ...], sentence_terms: list[str]) -> float:
    """Share of the sentence's content terms that the question does not already contain."""
    if not sentence_terms:
        return 0.0
    asked = set(question_terms)
    return sum(1 for t in sentence_terms if t not in asked) / len(sentence_terms)
