"""Turn a chat follow-up into a readable standalone question from the earlier turn's question and answer (no LLM)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.errors import InvalidInputError
from index.text import QUESTION_WORDS, STOPWORDS, words
from qa.followup import Parsed, anchor, ask_again, elliptic_wh, noun_slot, parse, replace_subject
from qa.models import Answer
from qa.phrases import ADVERBS, PRONOUNS, lemmatize
from qa.referents import PRONOUN, plural_referent, resolve_pronouns, such, who_referent

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


def leans_on_context(question: str) -> bool:
    """The turn says nothing the reader can place without the conversation: a pronoun ("according to it"), a
    question phrase alone ("And where?", "During which exercises?") or no content word ("What happened?"). "Who is
    Shoigu?" does not: it may start a new topic."""
    toks = [w.lower() for w in words(question)]
    content = [t for t in toks if t not in STOPWORDS and t not in QUESTION_WORDS]
    return elliptic_wh(question) is not None or any(t in _ANAPHORA for t in toks) or not content


def choose_answer(alone: Answer, readings: Sequence[Answer], leaning: bool) -> Answer:
    """The answer a follow-up gets from the turn read alone and its ``readings`` with the conversation (retrieved
    with the resolved question; the first is the resolved question's own, given when nothing answers).

    A turn that leans on the conversation (``leans_on_context``) is about what the conversation was about: read
    alone, the reader does not know what "it" is and may answer confidently from another article ("What did the
    generals discuss, according to it?" after "RIA Novosti"), so the readings with the conversation decide. The
    turn alone answers only when they all abstain, and only from the article the resolved question finds first
    (a rewrite built on a wrong earlier answer: "Where did the government announce it?"). Any other turn may start
    a new topic ("Who is Shoigu?"): the best-supported answer of all is kept, the turn alone first among equals."""
    if not leaning:
        answered = [a for a in (alone, *readings) if a.answer is not None]
        return max(answered, key=lambda a: a.confidence) if answered else readings[0]
    answered = [a for a in readings if a.answer is not None]
    if answered:
        return max(answered, key=lambda a: a.confidence)
    found = readings[0].passages[0].doc_id if readings[0].passages else None
    if alone.answer is not None and alone.citations and alone.citations[0].doc_id == found:
        return alone
    return readings[0]


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
_LEAD = re.compile(r"\W*(?:(?:and|but|so|also|then)\s+)+(?=(?:what|which|who|whom|whose|where|when|why|how)\b)", re.I)


def rewrite(follow_up: str, earlier: str, answer: str | None, person: str | None,
            group: str | None = None) -> str | None:
    """The follow-up as a standalone question built from the earlier (standalone) question and its answer; None when
    no rule applies. ``person`` is whom "he" / "she" may be, ``group`` whom "they" was in the turn before."""
    parsed = parse(earlier)
    if parsed is None:
        return None
    wh = elliptic_wh(follow_up)
    if wh is not None:
        return ask_again(wh, parsed, answer)
    other = _OTHER.match(follow_up)
    if other and not re.match(r"(what|which|who|whom|whose|where|when|why|how)\b", other.group("x"), re.I):
        return replace_subject(parsed, other.group("x"))
    question = _without_lead(follow_up)
    own = parse(question)
    if own is not None and (_repeats(own, parsed) or answer and not parsed.inverted and _says_so(own)):
        return ask_again(own.wh, parsed, answer)  # "Where did she announce it?" after "Who announced ...?"
    question = such(question, parsed)
    resolved = resolve_pronouns(question, parsed, answer, person, group)
    if resolved is not None or PRONOUN.search(question):
        return resolved
    anchored = anchor(question, parsed)  # "How long did the campaign against measles in Malawi last?"
    if anchored is not None:
        return anchored
    # "And where did the outbreak begin?" reads on its own once its "and" goes; "So who paid?" does not
    return question if question != follow_up and own is not None and not needs_context(question) else None


def _without_lead(question: str) -> str:
    """A question without the "and" / "so" it starts with: "And where did the outbreak begin?" -> "Where did ..."."""
    rest = _LEAD.sub("", question).strip()
    return rest[:1].upper() + rest[1:]


def _repeats(own: Parsed, parsed: Parsed) -> bool:
    """The follow-up asks the earlier question again with pronouns only: its one verb is the earlier question's
    ("Where did she announce it?" after "Who announced the approval ...?")."""
    tokens = own.body.split()[1:] if own.inverted else []
    content = [t for t in tokens if t.lower() not in PRONOUNS and t.lower() not in ADVERBS]
    if len(content) != 1 or len(tokens) < 2 or not any(t.lower() in PRONOUNS for t in tokens):
        return False
    return lemmatize(content[0]) in {lemmatize(t) for t in parsed.body.split()}


def _says_so(own: Parsed) -> bool:
    """The follow-up asks about the earlier answer's saying what the earlier question said it did: "When did he say
    that?" after "Which minister warned against US troops in Afghanistan's neighbours?" (Sergey Ryabkov)."""
    tokens = [t.lower() for t in own.body.split()]
    return (own.inverted and len(tokens) == 4 and tokens[1] in ("he", "she", "they") and lemmatize(tokens[2]) == "say"
            and tokens[3] in ("that", "so", "this", "it"))


def resolve_turn(messages: Sequence[tuple[str, str]]) -> Turn:
    """The last user turn made readable on its own from the turn before it, itself resolved as it was when asked,
    and that turn's answer: a question word alone asks the earlier question again ("And where?"), "what about X"
    asks it of X, a pronoun becomes what it points back to (the earlier answer, the person or the event of the
    earlier question). When no rule applies, a personal pronoun still becomes the person the previous answer was
    ("Dmitry Peskov") or the previous question named; otherwise the previous turn is quoted after it for retrieval,
    and the reader reads the turn as written."""
    return _resolve(messages)[0]


@dataclass(frozen=True, slots=True)
class _Referents:
    """Whom a turn's "he" / "she" and "they" became, so that a chain of follow-ups keeps them."""

    person: str | None = None
    group: str | None = None


_THEY = re.compile(r"\b(they|them|their)\b", re.I)


def _resolve(messages: Sequence[tuple[str, str]]) -> tuple[Turn, _Referents]:
    """The turn resolved, and whom its pronouns became."""
    user_turns = [content.strip() for role, content in messages if role == "user" and content.strip()]
    if not user_turns:
        raise InvalidInputError("messages must contain at least one non-empty 'user' message")
    latest = user_turns[-1]
    if len(user_turns) == 1:
        return Turn(latest, latest), _Referents()
    previous = [i for i, (role, content) in enumerate(messages) if role == "user" and content.strip()][-2]
    # the turn before, resolved as it was when asked (a chain of follow-ups keeps its topic), quoted flat
    turn, carried = _resolve(messages[: previous + 1])
    resolved = turn.question
    earlier = resolved.replace(" (following up on: ", " ").removesuffix(")")
    # a rewrite starts from one standalone question: a quoted one is two, so its own turn is taken as written
    standalone = resolved if "(following up on: " not in resolved else _without_lead(messages[previous][1].strip())
    parsed = parse(standalone)
    if not needs_context(latest):
        # it reads on its own, but "the campaign" is still the one the earlier question was about
        anchored = anchor(latest, parsed) if parsed else None
        return Turn(anchored or latest, anchored or latest), _Referents()
    answer = last_answer(messages)
    # a name that answered "During which exercises?" or "Where?" ("Global Thunder", "Helsinki") is no person
    named = _named_answer(messages) if parsed is None or noun_slot(parsed.wh) else None
    person = _who(standalone, answer, carried.person or named or _person(earlier, latest))
    group = (plural_referent(parsed, answer) if parsed else None) or carried.group
    used = _Referents(person if _PERSON.search(latest) else None, group if _THEY.search(latest) else None)
    rewritten = rewrite(latest, standalone, answer, person, carried.group)
    if rewritten is not None:
        return Turn(rewritten, rewritten), used
    if person and _PERSON.search(latest):
        def name(m: re.Match[str]) -> str:
            word, rest = m.group(1).lower(), latest[m.end():].lstrip()
            possessive = word == "his" or (word == "her" and rest[:1].isalpha())
            return f"{person}'s" if possessive else person

        resolved = _PERSON.sub(name, latest, count=1)
        return Turn(resolved, resolved), used
    return Turn(f"{latest.rstrip(' ?')}? (following up on: {earlier})", latest), _Referents()


def _who(standalone: str, answer: str | None, otherwise: str | None) -> str | None:
    """The person "he" / "she" is after ``standalone``: the answer of a who question ("Claire Holloway"), or, when
    it found none, whom the question described ("the Kremlin spokesman" of "Who is the Kremlin spokesman?"), or
    nobody (a name in "Who announced the Gull Bank approval?" is not the one who announced it); ``otherwise`` after
    another question."""
    parsed = parse(standalone)
    if parsed is None or parsed.word != "who":
        return otherwise
    return who_referent(parsed, answer)
