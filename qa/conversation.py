"""Turn a chat follow-up into a readable standalone question from the earlier turn's question and answer (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.errors import InvalidInputError
from index.text import QUESTION_WORDS, STOPWORDS, words
from qa.followup import Parsed, ask_again, elliptic_wh, event_phrase, parse, replace_subject, subject

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


def last_answer(messages: Sequence[tuple[str, str]]) -> str | None:
    """The assistant's answer to the turn before the last user turn, or None when it found nothing ("Not found in
    the articles."), gave a whole sentence, or there is no such answer."""
    last_user = max(i for i, (role, content) in enumerate(messages) if role == "user" and content.strip())
    replies = [content.strip() for role, content in messages[:last_user] if role == "assistant" and content.strip()]
    if not replies:
        return None
    span = replies[-1].rstrip(".").strip()
    if not span or span.lower().startswith("not found") or len(span.split()) > 12:
        return None
    return span


_OTHER = re.compile(r"\W*(?:(?:and )?what about|how about|and|also)\s+(?P<x>.+?)\s*\??\s*$", re.I)


def rewrite(follow_up: str, earlier: str, answer: str | None, person: str | None) -> str | None:
    """The follow-up as a standalone question built from the earlier (standalone) question and its answer; None when
    no rule applies."""
    parsed = parse(earlier)
    if parsed is None:
        return None
    wh = elliptic_wh(follow_up)
    if wh is not None:
        return ask_again(wh, parsed, answer)
    other = _OTHER.match(follow_up)
    if other and not re.match(r"(what|which|who|whom|whose|where|when|why|how)\b", other.group("x"), re.I):
        return replace_subject(parsed, other.group("x"))
    return _resolve_pronouns(follow_up, parsed, answer, person)


_AUXILIARIES = frozenset(["did", "does", "do", "was", "is", "has", "had", "will", "would", "can", "could"])
_PRONOUN = re.compile(r"\b(it|they|them|their|there|then|he|she|him|his|her)\b", re.I)


def _resolve_pronouns(follow_up: str, parsed: Parsed, answer: str | None, person: str | None) -> str | None:
    """Each pronoun replaced by what it points back to; None when one is left that nothing earlier can fill."""
    thing = answer if parsed.word in ("what", "which", "whom") and answer and len(answer.split()) <= 6 else None
    # "they" after "Who led the opponents?" (the Harbour Heritage Society) or "How many turbines ...?" (turbines)
    plural = answer if parsed.word == "who" and answer and (" and " in answer or answer.startswith("the ")) else None
    group = subject(parsed)
    if plural is None and parsed.wh.lower().startswith("how many "):
        plural = "the " + parsed.wh.split(None, 2)[2]
    if plural is None and group and (" and " in group or group.endswith("s")):
        plural = group
    event = event_phrase(parsed, answer)
    place = answer if parsed.word == "where" and answer else None
    time = answer if parsed.word == "when" and answer else None
    failed = False

    def fill(m: re.Match[str]) -> str:
        nonlocal failed
        word, rest = m.group(1).lower(), follow_up[m.end():].lstrip()
        if word == "it":
            before = follow_up[: m.start()].split()
            out = _it(parsed, thing, event, group, bool(before) and before[-1].lower() in _AUXILIARIES)
        elif word in ("they", "them"):
            out = plural
        elif word == "their":
            out = f"{plural}'s" if plural else None
        elif word == "there":
            out = (answer if place and place.split()[0].lower() in ("in", "at", "near") else f"in {place}"
                   ) if place else None
        elif word == "then":
            return m.group(0) if time is None else (f"in {time}" if time[:1].isdigit() else time)
        elif person is None:
            out = None
        else:
            possessive = word == "his" or (word == "her" and rest[:1].isalpha())
            out = f"{person}'s" if possessive else person
        if out is None:
            failed = True
            return m.group(0)
        return out

    resolved = _PRONOUN.sub(fill, follow_up)
    if failed or resolved == follow_up:
        return None
    return resolved[:1].upper() + resolved[1:]


def _it(parsed: Parsed, thing: str | None, event: str | None, group: str | None, as_subject: bool) -> str | None:
    """What "it" points back to: after "Where did they meet?" the meeting ("How long did it last?"); after "Which
    base ...?" the answer ("vacate it"), unless "it" is the subject and the earlier subject a name ("When did it say
    so?" after "What was Ukraine seeking?": Ukraine); after "How much will the bridge cost?" the bridge."""
    if thing is None or parsed.word == "who":
        measured = group if parsed.word == "how" and group and not group.endswith("s") else None
        return event or measured
    named = group if group and group[:1].isupper() and " and " not in group else None
    return named if as_subject and named else thing


def resolve_turn(messages: Sequence[tuple[str, str]]) -> Turn:
    """The last user turn made readable on its own from the turn before it, itself resolved as it was when asked,
    and that turn's answer: a question word alone asks the earlier question again ("And where?"), "what about X"
    asks it of X, a pronoun becomes what it points back to (the earlier answer, the person or the event of the
    earlier question). When no rule applies, a personal pronoun still becomes the person the previous answer was
    ("Dmitry Peskov") or the previous question named; otherwise the previous turn is quoted after it for retrieval,
    and the reader reads the turn as written."""
    user_turns = [content.strip() for role, content in messages if role == "user" and content.strip()]
    if not user_turns:
        raise InvalidInputError("messages must contain at least one non-empty 'user' message")
    latest = user_turns[-1]
    if len(user_turns) == 1 or not needs_context(latest):
        return Turn(latest, latest)
    previous = [i for i, (role, content) in enumerate(messages) if role == "user" and content.strip()][-2]
    # the turn before, resolved as it was when asked (a chain of follow-ups keeps its topic), quoted flat
    resolved = resolve_turn(messages[: previous + 1]).question
    earlier = resolved.replace(" (following up on: ", " ").removesuffix(")")
    person = _named_answer(messages) or _person(earlier, latest)
    # a rewrite starts from one standalone question: a quoted one is two, so its own turn is taken as written
    standalone = resolved if "(following up on: " not in resolved else messages[previous][1].strip()
    rewritten = rewrite(latest, standalone, last_answer(messages), person)
    if rewritten is not None:
        return Turn(rewritten, rewritten)
    if person and _PERSON.search(latest):
        def name(m: re.Match[str]) -> str:
            word, rest = m.group(1).lower(), latest[m.end():].lstrip()
            possessive = word == "his" or (word == "her" and rest[:1].isalpha())
            return f"{person}'s" if possessive else person

        resolved = _PERSON.sub(name, latest, count=1)
        return Turn(resolved, resolved)
    return Turn(f"{latest.rstrip(' ?')}? (following up on: {earlier})", latest)
