"""Pick the tightest span inside an answer sentence that matches the expected answer type."""

from __future__ import annotations

import re

from index.documents import Span
from index.text import normalize, words
from qa.models import Highlight

_NUMBER_PHRASE = re.compile(
    r"\b(?:about |around |nearly |more than |some )?(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|twenty|thirty|forty|fifty|hundred)(?:\s+(?:percent|per cent|million|billion|thousand|hundred|"
    r"[a-z]+s\b))?",
    re.I,
)
_DATE_PHRASE = re.compile(
    r"\b(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(?:\s+\d{1,2})?(?:,?\s+\d{4})?|\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)(?:\s+\d{4})?|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|"
    r"(?:last|this|next) (?:week|month|year)|(?:in |since )?\d{4}s?)\b"
)
_NAME = re.compile(r"(?<![\w])[A-Z][\w’'-]*(?:\s+(?:of\s+|de\s+|al-)?[A-Z][\w’'-]*)*")
_PATTERNS = {"number": _NUMBER_PHRASE, "date": _DATE_PHRASE, "person": _NAME, "place": _NAME}


def highlight(sentence: Span, answer_type: str, question: str) -> Highlight | None:
    """The first phrase of the expected type that the question does not already name, or None."""
    pattern = _PATTERNS.get(answer_type)
    if pattern is None:
        return None
    asked = {normalize(w) for w in words(question)}
    for m in pattern.finditer(sentence.text):
        phrase = m.group(0).strip()
        if m.start() == 0 and answer_type in ("person", "place") and len(phrase.split()) == 1:
            continue  # a sentence-initial capital is not a name signal on its own
        if all(normalize(w) in asked for w in words(phrase)):
            continue
        start = sentence.start + m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        return Highlight(start=start, end=start + len(phrase), text=phrase)
    return None
