"""Turn a multi-turn chat into one standalone question by carrying earlier subjects forward (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Sequence

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
CONTEXT_TURNS = 2


def _subject_phrase(question: str) -> str:
    """Content words of a question, in order, without question words and fillers."""
    kept = [
        w
        for w in words(question)
        if w.lower() not in STOPWORDS and w.lower() not in QUESTION_WORDS and w.lower() not in _GENERIC
    ]
    return " ".join(kept)


def needs_context(question: str) -> bool:
    """A follow-up refers back (pronoun, "and", "what about") or is too short to stand alone."""
    toks = [w.lower() for w in words(question)]
    content = [t for t in toks if t not in STOPWORDS and t not in QUESTION_WORDS]
    if re.match(r"\s*(and|what about|how about|also)\b", question, re.I):
        return True
    return any(t in _ANAPHORA for t in toks) or len(content) <= 2


def standalone_question(messages: Sequence[tuple[str, str]]) -> str:
    """The last user turn, with subjects of up to two earlier user turns appended (latest first)."""
    user_turns = [content.strip() for role, content in messages if role == "user" and content.strip()]
    if not user_turns:
        raise InvalidInputError("messages must contain at least one non-empty 'user' message")
    latest = user_turns[-1]
    if len(user_turns) == 1 or not needs_context(latest):
        return latest
    latest_words = {w.lower() for w in words(latest)}
    context = []
    for earlier in reversed(user_turns[:-1][-CONTEXT_TURNS:]):
        phrase = " ".join(w for w in _subject_phrase(earlier).split() if w.lower() not in latest_words)
        if phrase:
            context.append(phrase)
            latest_words.update(w.lower() for w in phrase.split())
    if not context:
        return latest
    return f"{latest.rstrip(' ?')} ({'; '.join(context)})?"
