"""Rewrite a follow-up into a standalone question from the earlier question and its answer (rules, no LLM).

"Where did Milley and Gerasimov meet?" answered "Helsinki", then:
- "And when?"            -> "When did Milley and Gerasimov meet in Helsinki?"       (a question word alone)
- "How long did it last?" -> "How long did the meeting between Milley and Gerasimov in Helsinki last?" (the event)
- "What about Biden and Putin?" -> "Where did Biden and Putin meet?"                 (another name, same question)
- "What did they discuss there?" -> "What did Milley and Gerasimov discuss in Helsinki?"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

_AUX = ("did", "does", "do", "was", "were", "is", "are", "has", "have", "had", "will", "would", "can", "could",
        "should", "may", "might", "must")
_BE = frozenset(["was", "were", "is", "are"])
_WH = r"(?:what|which|who|whom|whose|where|when|why|how)"
_PREP = r"(?:in|at|from|to|for|with|on|by|since|under|during|of|after|before|until|near|against|about)"
_ADVERBS = frozenset(["first", "last", "previously", "ever", "also", "again", "finally", "actually", "really",
                      "originally", "initially", "later", "recently", "eventually"])
# verbs whose event a follow-up calls "it": the noun a question about that event uses
_EVENTS = {"meet": "meeting", "talk": "talks", "speak": "conversation", "call": "call", "phone": "call",
           "visit": "visit", "negotiate": "negotiations", "discuss": "discussion", "vote": "vote",
           "attack": "attack", "strike": "strike", "invade": "invasion", "sign": "signing", "announce": "announcement",
           "hold": "", "launch": "launch", "evacuate": "evacuation", "withdraw": "withdrawal", "protest": "protest"}
_NAME_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:and\s+)?[A-Z][\w’'.-]*)*")
_YEAR_OR_MONTH = re.compile(r"^(?:(?:early|late|mid)[- ])?(?:\d{4}s?|"
                            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?: \d{4})?)$", re.I)
_WEEKDAY = re.compile(r"^(?:mon|tues|wednes|thurs|fri|satur|sun)day$", re.I)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A wh-question split at its question phrase: ``wh`` "How long" or "In which country", ``word`` its question
    word, ``body`` the rest without the question mark ("did the meeting last"); ``inverted`` when the body starts
    with an auxiliary (else the question phrase is the subject: "Who sent them")."""

    wh: str
    word: str
    body: str
    inverted: bool


@cache
def _lemmatize(word: str) -> str:
    import simplemma  # its English tables load on the first follow-up only

    return str(simplemma.lemmatize(word.lower(), lang="en"))


def parse(question: str) -> Parsed | None:
    """Split a wh-question; None when it does not start with one (or with a preposition and one)."""
    q = question.strip().rstrip("?!. ").strip()
    if "?" in q:
        return None  # two questions
    m = re.match(rf"(?:{_PREP}\s+)?({_WH})\b", q, re.I)
    if not m:
        return None
    word, tokens = m.group(1).lower(), q[m.end():].split()
    n = 0  # words of the question phrase after the question word: "how long", "which country", "how many boats"
    if word in ("how", "what", "which", "whose"):
        aux = next((i for i, t in enumerate(tokens[:6]) if t.lower() in _AUX), None)
        if aux is not None:
            n = aux
        elif tokens and word != "how" and not _verb_like(tokens[0]) or word == "how" and tokens:
            n = 1
    wh = " ".join([q[: m.end()], *tokens[:n]])
    body = " ".join(tokens[n:])
    if not body:
        return None
    return Parsed(wh, word, body, tokens[n].lower() in _AUX)


def _verb_like(token: str) -> bool:
    low = token.lower()
    return low.endswith("ed") or low in ("set", "made", "caused", "led", "happened", "is", "was", "said", "sent")


_NOUN = (r"(?!(?:it|its|they|them|he|she|him|her|this|that|about|" + "|".join(_AUX) + r")\b)[a-z]+")  # "which base"


def elliptic_wh(follow_up: str) -> str | None:
    """The question phrase of a follow-up that is nothing else ("And where?" -> "where", "For how long?")."""
    m = re.fullmatch(rf"\W*(?:(?:and|but|so|also|then)\s+)*((?:{_PREP}\s+)?(?:who|whom|where|when|why|"
                     rf"how(?:\s+(?:long|many|much|often|far|old|soon)(?:\s+{_NOUN})?)?|(?:what|which|whose)\s+{_NOUN}"
                     rf"(?:\s+{_NOUN})?))\s*(?:exactly|then|again|else)?\s*\??\s*", follow_up, re.I)
    return m.group(1) if m else None


def answer_phrase(parsed: Parsed, answer: str | None) -> str:
    """How the earlier answer completes the earlier question's body: "in Helsinki" for where, "in 2019" / "on
    Wednesday" for when, "for six hours" for how long, the answer itself for what / which / whom; nothing for why."""
    if not answer or parsed.word in ("why",) or (parsed.word == "how" and parsed.wh.lower() == "how"):
        return ""
    a = answer.strip().rstrip(".").split(",")[0]  # "In Helsinki, on Wednesday": its first part
    if re.match(rf"{_PREP}\b", a, re.I):
        a = a[:1].lower() + a[1:]  # "In Helsinki, on Wednesday" continues the question: "in Helsinki, ..."
    starts_with_prep = re.match(rf"{_PREP}\b", a, re.I) is not None
    wh = parsed.wh.lower()
    prep = re.match(rf"({_PREP})\s", wh)
    if prep:  # "In which city ..." -> "in Geneva"
        return a if starts_with_prep else f"{prep.group(1)} {a}"
    if starts_with_prep:
        return a
    if parsed.word == "where":
        return f"in {a}"
    if parsed.word == "when" or wh.startswith(("what year", "which year", "what month")):
        return f"on {a}" if _WEEKDAY.match(a) else f"in {a}" if _YEAR_OR_MONTH.match(a) else a
    if wh.startswith("how long"):
        return f"for {a}"
    if wh.startswith(("how many ", "how much ")):
        return f"{a} {parsed.wh.split(None, 2)[2]}"
    return a


def with_answer(parsed: Parsed, answer: str | None) -> str:
    """The earlier question's body completed by its answer, in question order: "did Milley and Gerasimov meet in
    Helsinki"; a question whose phrase was the subject gets "did" ("Who sent the boats?" -> "did the United States
    send the boats")."""
    if parsed.inverted:
        phrase = answer_phrase(parsed, answer)
        return f"{parsed.body} {phrase}".strip()
    if not answer:
        return ""
    verb, _, rest = parsed.body.partition(" ")
    if verb.lower() in _BE:
        return f"{verb} {answer} {rest}".strip()
    if verb.lower() in ("has", "have", "had"):
        return f"{verb} {answer} {rest}".strip()
    return f"did {answer} {_lemmatize(verb)} {rest}".strip()


def ask_again(follow_wh: str, parsed: Parsed, answer: str | None) -> str | None:
    """"And where?" after "When did they first meet?" (2019) -> "Where did they first meet in 2019?"."""
    clause = with_answer(parsed, answer if follow_wh.lower() != parsed.wh.lower() else None)
    if not clause:
        return None
    return f"{follow_wh[:1].upper()}{follow_wh[1:]} {clause}?"


def event_phrase(parsed: Parsed, answer: str | None) -> str | None:
    """The event the earlier question was about, as a noun phrase with its answer: "the meeting between Milley and
    Gerasimov in Helsinki"; None when the question names no event this knows."""
    if not parsed.inverted:
        return None
    aux, *tokens = parsed.body.split()
    if aux.lower() in _BE and len(tokens) >= 2 and _participle(tokens[-1]):
        noun = " ".join(tokens[:-1])  # "was the meeting held" -> "the meeting"
    else:
        at = next((i for i, t in enumerate(tokens) if _lemmatize(t) in _EVENTS), None)
        if at is None:
            return None
        who = [t for t in tokens[:at] if t.lower() not in _ADVERBS]
        rest = tokens[at + 1:]
        obj = rest[: next((i for i, t in enumerate(rest) if re.fullmatch(_PREP, t.lower())), len(rest))]
        event = _EVENTS[_lemmatize(tokens[at])]
        if not event:  # "hold talks" / "hold their summit": the object is the event
            noun = " ".join(obj) if obj else ""
            if not noun:
                return None
            noun = re.sub(r"^(their|his|her|its)\b", "the", noun)
            return f"{noun} {_circumstance(parsed, answer)}".strip()
        parties = " ".join(who) + (f" and {' '.join(obj)}" if obj else "")
        noun = f"the {event} {'between' if ' and ' in parties else 'of'} {parties}"
    return f"{noun} {_circumstance(parsed, answer)}".strip()


_DETERMINERS = frozenset(["the", "a", "an", "his", "her", "their", "its", "this", "that", "these", "those"])


def noun_phrase(tokens: list[str]) -> str | None:
    """The noun phrase that ``tokens`` start with: a run of names ("Milley and Gerasimov"), or a determiner and the
    words up to a plural noun or up to the verb ("the American patrol boats", "the meeting" of "the meeting held")."""
    m = _NAME_RUN.match(" ".join(tokens))
    if m:
        return m.group(0)
    if len(tokens) < 2 or tokens[0].lower() not in _DETERMINERS:
        return None
    out = [tokens[0]]
    for i, token in enumerate(tokens[1:5], 1):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if len(out) > 1 and (following is None or re.fullmatch(_PREP, following.lower()) or
                             following.lower() in _DETERMINERS) and not token.endswith("s"):
            break  # a lone last word after the noun is the verb: "the meeting [held]"
        out.append(token)
        if token.endswith("s") and not token.endswith("ss"):
            break
    return " ".join(out) if len(out) > 1 else None


def _circumstance(parsed: Parsed, answer: str | None) -> str:
    """The answer as where or when the event took place ("in Helsinki"), or nothing when it was not asked for."""
    adverbial = parsed.word in ("where", "when") or parsed.wh.lower().startswith(
        ("how long", "what year", "which year", "in which", "in what"))
    return answer_phrase(parsed, answer) if adverbial else ""


_IRREGULAR_PARTICIPLES = frozenset(["held", "built", "made", "done", "set", "won", "lost", "kept", "found", "sent",
                                    "shot", "hit", "run", "put", "given", "taken", "seen", "signed", "brought", "led",
                                    "fought", "begun", "cut", "paid", "sold", "told", "struck", "chosen", "written"])


def _participle(token: str) -> bool:
    low = token.lower()
    return low in _IRREGULAR_PARTICIPLES or (low.endswith(("ed", "en")) and len(low) > 4)


def subject(parsed: Parsed) -> str | None:
    """What the earlier question was about as a noun phrase: the subject after the auxiliary ("Milley and
    Gerasimov", "the Americans"), or the object of a question whose question phrase is the subject ("Which country
    hosted the talks?" -> "the talks")."""
    return noun_phrase(parsed.body.split()[1:])  # past the auxiliary, or past the verb


def replace_subject(parsed: Parsed, new: str) -> str | None:
    """"What about Biden and Putin?" after "Where did Milley and Gerasimov meet?" -> "Where did Biden and Putin
    meet?"; a prepositional "And in Geneva?" replaces the earlier phrase with that preposition, or is added."""
    question = f"{parsed.wh} {parsed.body}"
    prep = re.match(rf"({_PREP})\s", new, re.I)
    if prep:
        pattern = rf"\b{prep.group(1)}\s+[^,?]+?(?=\s+{_PREP}\s|$)"
        if re.search(pattern, parsed.body, re.I):
            return re.sub(pattern, new, question, count=1, flags=re.I) + "?"
        return f"{question} {new}?"
    old = subject(parsed)
    if old is None:
        return None
    return question.replace(old, new, 1) + "?"
