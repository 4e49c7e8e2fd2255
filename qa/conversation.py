"""Turn a chat follow-up into a readable standalone question: a pronoun becomes the person named before (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.errors import InvalidInputError
from index.text import QUESTION_WORDS, STOPWORDS, words

_ANAPHORA = frozenset(
    [
        "he",
        "she",
        "they",
        "them",
        "it",
        "its",
        "his",
        "her",
        "hers",
        "their",
        "theirs",
        "him",
        "this",
        "that",
        "these",
        "those",
        "there",
        "such",
    ]
)
_GENERIC = frozenset(["happen", "happened", "did", "do", "does", "say", "said", "was", "were", "is", "are", "be"])


def needs_context(question: str) -> bool:
    """A follow-up refers back (pronoun, "and", "what about") or is too short to stand alone."""
    toks = [w.lower() for w in words(question)]
    content = [t for t in toks if t not in STOPWORDS and t not in QUESTION_WORDS]
    if re.match(r"\s*(and|what about|how about|also)\b", question, re.I):
        return True
    return any(t in _ANAPHORA for t in toks) or len(content) <= 2


_PERSON = re.compile(r"\b(he|she|him|her|his)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)*")


def _person(question: str, follow_up: str) -> str | None:
    """The first name in a question (a capitalized word that does not start it) that the follow-up does not
    already use, e.g. "Milley"."""
    used = {w.lower() for w in words(follow_up)}
    names = [m.group(0) for m in _NAME.finditer(question.strip())
             if m.group(0).lower() not in STOPWORDS and m.group(0).lower() not in QUESTION_WORDS
             and m.group(0).lower().removesuffix("'s") not in used]
    return names[0].removesuffix("'s").removesuffix("’s") if names else None


_CALENDAR = frozenset(["january", "february", "march", "april", "may", "june", "july", "august", "september",
                       "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
                       "saturday", "sunday"])


def _named_answer(messages: Sequence[tuple[str, str]]) -> str | None:
    """The assistant's last answer when it is a name ("Dmitry Peskov"): up to four capitalized words, no digits, no
    month or weekday (a date is never "he")."""
    answers = [content for role, content in messages if role == "assistant" and content.strip()]
    if not answers:
        return None
    span = answers[-1].strip()
    tokens = span.split()
    if 1 <= len(tokens) <= 4 and all(t[:1].isupper() and not any(c.isdigit() for c in t)
                                     and t.lower() not in _CALENDAR for t in tokens):
        return span
    return None


@dataclass(frozen=True, slots=True)
class Turn:
    """A chat turn resolved against the earlier ones.

    ``question`` is readable on its own and is what retrieval searches with; ``reader_question`` is what the reader
    reads each candidate sentence with: the same question when a pronoun was resolved, else the turn as the user
    wrote it (the reader answers "For how long?" well from the right sentence, but not with the earlier question
    appended to it, which it tends to answer instead)."""

    question: str
    reader_question: str


def resolve_turn(messages: Sequence[tuple[str, str]]) -> Turn:
    """The last user turn made readable on its own: a personal pronoun becomes the person the previous answer was
    ("Dmitry Peskov") or else the previous question named ("What did he say?" -> "What did Milley say?"); otherwise
    the previous turn is quoted after it for retrieval, and the reader reads the turn as written."""
    user_turns = [content.strip() for role, content in messages if role == "user" and content.strip()]
    if not user_turns:
        raise InvalidInputError("messages must contain at least one non-empty 'user' message")
    latest = user_turns[-1]
    if len(user_turns) == 1 or not needs_context(latest):
        return Turn(latest, latest)
    previous = [i for i, (role, content) in enumerate(messages) if role == "user" and content.strip()][-2]
    # the turn before, resolved as it was when asked (a chain of follow-ups keeps its topic), quoted flat
    earlier = resolve_turn(messages[: previous + 1]).question.replace(" (following up on: ", " ").removesuffix(")")
    person = _named_answer(messages) or _person(earlier, latest)
    if person and _PERSON.search(latest):
        def name(m: re.Match[str]) -> str:
            word, rest = m.group(1).lower(), latest[m.end():].lstrip()
            possessive = word == "his" or (word == "her" and rest[:1].isalpha())
            return f"{person}'s" if possessive else person

        resolved = _PERSON.sub(name, latest, count=1)
        return Turn(resolved, resolved)
    return Turn(f"{latest.rstrip(' ?')}? (following up on: {earlier})", latest)
