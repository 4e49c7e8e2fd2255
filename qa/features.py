"""Pure features of a (question, sentence) pair: lexical coverage, answer type, entity checks."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from index.text import QUESTION_WORDS, STOPWORDS, normalize, terms, words

_NUM = (r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
        r"forty|fifty|hundred|thousand|dozens?|several|a few)")
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_DAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Answer types: the pattern a sentence must contain to answer a question of that type.
TYPE_PATTERNS: dict[str, re.Pattern[str]] = {
    "age": re.compile(r"\b\d{1,3}[- ]years?[- ]old\b|\baged? \d{1,3}\b|,\s*\d{2},", re.I),
    "year": re.compile(r"\b(?:1[5-9]|20)\d{2}s?\b"),
    "duration": re.compile(rf"\b{_NUM}\s+(?:\w+\s+)?(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|"
                           r"decades?)\b", re.I),
    "distance": re.compile(rf"\b{_NUM}\s*(?:km|kilometres?|kilometers?|miles?|metres?|meters?|feet|ft)\b", re.I),
    "money": re.compile(rf"[$€£¥]\s?\d|\b{_NUM}\s+(?:\w+\s+)?(?:dollars|euros|pounds|rubles|roubles)\b", re.I),
    "number": re.compile(rf"\b{_NUM}\b", re.I),
    "weekday": re.compile(rf"\b(?:{_DAYS})\b"),
    "date": re.compile(rf"\b(?:{_MONTHS}|{_DAYS}|yesterday|today|tomorrow|last (?:week|month|year)|"
                       r"this (?:week|month|year))\b|\b(?:1[5-9]|20)\d{2}\b", re.I),
    "reason": re.compile(r"\b(?:because|due to|amid|after|since|under pressure|so that|in order to|as a result|"
                         r"following|to (?:\w+ ){0,2}(?:defend|protect|ensure|prevent|counter|coordinate|warn))\b",
                         re.I),
}
_TYPE_RULES: list[tuple[str, str]] = [
    ("age", r"\bhow old\b|\bwhat age\b|\b(?:his|her|their) age\b"),
    ("year", r"\b(?:what|which|in what|in which) year\b"),
    ("duration", r"\bhow long\b|\bfor how many (?:hours|days|weeks|months|years)\b"),
    ("distance", r"\bhow (?:far|close|near)\b|\bwhat distance\b"),
    ("money", r"\bhow much (?:money|did .* (?:pay|cost|spend))|\bhow much did\b.*\b(?:pay|cost|spend)\b|\bcost\b"),
    ("number", r"\bhow (?:many|much|often)\b|\bwhat (?:number|percentage|amount)\b"),
    ("weekday", r"\bday of the week\b|\b(?:what|which) day\b"),
    ("date", r"\bwhen\b|\bwhat (?:date|day|month|time)\b|\bwhich (?:date|day|month)\b|\bday of the week\b"),
    ("person", r"\bwho\b|\bwhom\b|\bwhose\b"),
    ("place", r"\bwhere\b|\bwhich (?:city|country|port|town|place|base|airbase|region)\b|"
              r"\bwhat (?:city|country|port|town|place)\b"),
    ("reason", r"\bwhy\b|\bfor what reason\b"),
]
_CAPITALIZED = re.compile(r"\b[A-Z][\w’'.-]*")
_NOT_NAMES = re.compile(rf"^(?:{_MONTHS}|{_DAYS}|The|A|An|But|And|On|In|At|It|He|She|They|This|That)$")


@dataclass(frozen=True, slots=True)
class QuestionInfo:
    """What a question asks for, computed once per question."""

    text: str
    terms: tuple[str, ...]
    answer_type: str
    entities: tuple[str, ...]
    asked: frozenset[str] = frozenset()  # every normalized word of the question, names included


def answer_type(question: str) -> str:
    """Expected answer type from the question's wording; "other" when nothing specific is asked."""
    q = question.lower()
    for kind, rule in _TYPE_RULES:
        if re.search(rule, q):
            return kind
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
    return QuestionInfo(question, tuple(terms(question)), answer_type(question), question_entities(question),
                        frozenset(normalize(w) for w in words(question)))


def known_term(term: str, vocab_sorted: list[str], vocab: dict[str, float] | set[str]) -> bool:
    """A term the collection contains, exactly or as a shared stem of 5+ letters (Kyrgyz ~ Kyrgyzstan)."""
    if term in vocab:
        return True
    if len(term) < 5 or term.isdigit():
        return False
    prefix = term[:5] if len(term) < 7 else term[: len(term) - 2]
    i = bisect.bisect_left(vocab_sorted, prefix)
    return i < len(vocab_sorted) and vocab_sorted[i].startswith(prefix)


def coverage(question_terms: tuple[str, ...], sentence_terms: set[str], idf: dict[str, float],
             default_idf: float) -> float:
    """IDF-weighted share of question terms present in the sentence, in [0, 1]."""
    total = sum(idf.get(t, default_idf) for t in set(question_terms))
    if total == 0:
        return 0.0
    return sum(idf.get(t, default_idf) for t in set(question_terms) if t in sentence_terms) / total


def type_match(kind: str, sentence: str, question: str, asked_terms: frozenset[str] | None = None) -> float:
    """1 when the sentence contains something of the expected answer type not already in the question.

    ``asked_terms`` (the question's normalized words) can be passed in so that it is computed once per question."""
    pattern = TYPE_PATTERNS.get(kind)
    if pattern is not None:
        asked = question.lower()
        return 1.0 if any(m.group(0).lower() not in asked for m in pattern.finditer(sentence)) else 0.0
    if kind in ("person", "place"):
        if asked_terms is None:
            asked_terms = frozenset(normalize(w) for w in words(question))
        names = [m.group(0).strip(".’'") for m in _CAPITALIZED.finditer(sentence)]
        return 1.0 if any(not _NOT_NAMES.match(n) and normalize(n) not in asked_terms for n in names) else 0.0
    return 0.5


def novelty(question_terms: tuple[str, ...], sentence_terms: list[str]) -> float:
    """Share of the sentence's content terms that the question does not already contain."""
    if not sentence_terms:
        return 0.0
    asked = set(question_terms)
    return sum(1 for t in sentence_terms if t not in asked) / len(sentence_terms)
