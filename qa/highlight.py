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
_PATTERNS = {"number": _NUMBER_PHRASE, "date": _DATE_PHRASE, "year": _DATE_PHRASE, "weekday": _DATE_PHRASE,
             "duration": _NUMBER_PHRASE, "distance": _NUMBER_PHRASE, "money": _NUMBER_PHRASE, "age": _NUMBER_PHRASE,
             "person": _NAME, "place": _NAME}
_NON_NAMES = (
    r"On|In|At|The|A|An|But|And|It|He|She|They|This|That|Last|January|February|March|April|May|June|July|"
    r"August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
)
_NOT_NAME = re.compile(rf"^(?:{_NON_NAMES})$")
# Words just before a phrase that mark it as the answer to a where/who question.
_CUES = {"place": re.compile(r"\b(?:in|at|near|of|to|from)\s+(?:the\s+)?(?:\w+\s+){0,2}$"),
         "person": re.compile(r"\b(?:by|with)\s+(?:the\s+)?$")}
_LEADING_NON_NAMES = re.compile(rf"(?:(?:{_NON_NAMES})\s+)+")


def highlight(sentence: Span, answer_type: str, question: str) -> Highlight | None:
    """The first phrase of the expected type that the question does not already name, or None."""
    pattern = _PATTERNS.get(answer_type)
    if pattern is None:
        return None
    asked = {normalize(w) for w in words(question)}
    found = []
    for m in pattern.finditer(sentence.text):
        phrase = m.group(0).strip()
        offset = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        if answer_type in ("person", "place"):
            lead = _LEADING_NON_NAMES.match(phrase)
            if lead:
                offset, phrase = offset + lead.end(), phrase[lead.end() :]
            if not phrase or _NOT_NAME.match(phrase):
                continue
        if all(normalize(w) in asked for w in words(phrase)):
            continue
        found.append((offset, phrase))
    if not found:
        return None
    cue = _CUES.get(answer_type)
    cued = [f for f in found if cue and cue.search(sentence.text[max(0, f[0] - 30) : f[0]])]
    # Where-answers tend to close the sentence ("arrived at the port of Odessa"); who-answers come first.
    offset, phrase = (cued or found)[-1 if cued and answer_type == "place" else 0]
    start = sentence.start + offset
    return Highlight(start=start, end=start + len(phrase), text=phrase)
