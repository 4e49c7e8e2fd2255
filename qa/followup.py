"""Rewrite a follow-up into a standalone question from the earlier question and its answer (rules, no LLM).

"Where did Milley and Gerasimov meet?" answered "Helsinki", then:
- "And when?"            -> "When did Milley and Gerasimov meet in Helsinki?"       (a question word alone)
- "What about Biden and Putin?" -> "Where did Biden and Putin meet?"                 (another name, same question)
"Who opposed the Gull Bank project?" found no answer, then "For how long?" -> "For how long was the Gull Bank project
opposed?" (passive). What a pronoun points back to is qa.referents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.phrases import (
    AUX,
    BE,
    DETERMINERS,
    MODALS,
    PREP,
    PRONOUNS,
    lemmatize,
    mid_sentence,
    noun_phrase,
    participle,
    past_participle,
    plural,
    verb_like,
    with_of,
)

_WH = r"(?:what|which|who|whom|whose|where|when|why|how)"
_YEAR_OR_MONTH = re.compile(r"^(?:(?:early|late|mid)[- ])?(?:\d{4}s?|"
                            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?: \d{4})?)$", re.I)


_WEEKDAY = re.compile(r"^(?:mon|tues|wednes|thurs|fri|satur|sun)day$", re.I)
_DAY_DATE = re.compile(r"^(?:\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
                       r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}(?:st|nd|rd|th)?)"
                       r"(?:,? \d{4})?$", re.I)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A wh-question split at its question phrase: ``wh`` "How long" or "In which country", ``word`` its question
    word, ``body`` the rest without the question mark ("did the meeting last"); ``inverted`` when the body starts
    with an auxiliary (else the question phrase is the subject: "Who sent them")."""

    wh: str
    word: str
    body: str
    inverted: bool


def parse(question: str) -> Parsed | None:
    """Split a wh-question; None when it does not start with one (or with a preposition and one)."""
    q = question.strip().rstrip("?!. ").strip()
    if "?" in q:
        return None  # two questions
    m = re.match(rf"(?:{PREP}\s+)?({_WH})\b", q, re.I)
    if not m:
        return None
    word, tokens = m.group(1).lower(), q[m.end():].split()
    n = 0  # words of the question phrase after the question word: "how long", "which country", "how many boats"
    if word in ("how", "what", "which", "whose"):
        aux = next((i for i, t in enumerate(tokens[:6]) if t.lower() in AUX), None)
        if aux is not None:
            n = aux
        elif tokens and word != "how" and not verb_like(tokens[0]) or word == "how" and tokens:
            n = _subject_phrase_end(word, tokens)
    wh = " ".join([q[: m.end()], *tokens[:n]])
    body = " ".join(tokens[n:])
    if not body:
        return None
    inverted = tokens[n].lower() in AUX
    if inverted and wh.lower() in ("who", "what") and tokens[n].lower() in MODALS and len(tokens) > n + 1:
        following = tokens[n + 1]  # "Who will pay ...": the question phrase is the subject of "will pay"
        inverted = following[:1].isupper() or following.lower() in DETERMINERS | PRONOUNS
    return Parsed(wh, word, body, inverted)


def _subject_phrase_end(word: str, tokens: list[str]) -> int:
    """Where the question phrase of a question without an auxiliary ends, the phrase being the subject: "Which
    Russian news service [reported ...]", "How many health workers [took part ...]"; one word when no verb shows."""
    start = 2 if word == "how" and tokens[0].lower() in ("many", "much") else 1
    for i in range(start, min(len(tokens), 5)):
        if verb_like(tokens[i]):
            return i
        if tokens[i].lower() in DETERMINERS:
            return max(start, i - 1)  # "Which group leads the ...": the word before the determiner is the verb
    return 1


_NOUN = (r"(?!(?:it|its|they|them|he|she|him|her|this|that|about|" + "|".join(AUX) + r")\b)[a-z]+")  # "which base"


def elliptic_wh(follow_up: str) -> str | None:
    """The question phrase of a follow-up that is nothing else ("And where?" -> "where", "For how long?")."""
    m = re.fullmatch(rf"\W*(?:(?:and|but|so|also|then)\s+)*((?:{PREP}\s+)?(?:who|whom|where|when|why|"
                     rf"how(?:\s+(?:long|many|much|often|far|old|soon)(?:\s+{_NOUN})?)?|(?:what|which|whose)\s+{_NOUN}"
                     rf"(?:\s+{_NOUN})?))\s*(?:exactly|then|again|else)?\s*\??\s*", follow_up, re.I)
    return m.group(1) if m else None


def answer_phrase(parsed: Parsed, answer: str | None) -> str:
    """How the earlier answer completes the earlier question's body: "in Helsinki" for where, "in 2019" / "on
    Wednesday" for when, "for six hours" for how long, the answer itself for what / which / whom; nothing for why."""
    if not answer or parsed.word in ("why",) or (parsed.word == "how" and parsed.wh.lower() == "how"):
        return ""
    a = mid_sentence(answer.strip().rstrip(".").split(",")[0])  # "In Helsinki, on Wednesday": its first part
    starts_with_prep = re.match(rf"{PREP}\b", a, re.I) is not None
    wh = parsed.wh.lower()
    time_prep = time_preposition(a)
    if time_prep and not starts_with_prep and (parsed.word == "when" or re.search(r"\b(day|date|year|month)\b", wh)):
        return f"{time_prep} {a}"  # "On which day ...?" answered "2019": "in 2019"
    prep = re.match(rf"({PREP})\s", wh)
    if prep:  # "In which city ..." -> "in Geneva"
        return a if starts_with_prep else f"{prep.group(1)} {a}"
    if starts_with_prep:
        return a
    if parsed.word == "where":
        return f"in {a}"
    if wh.startswith("how long"):
        return f"for {a}"
    if wh.startswith(("how many ", "how much ")):
        return f"{a} {parsed.wh.split(None, 2)[2]}"
    return a


def time_preposition(answer: str) -> str | None:
    """The preposition a time takes: "on" a day ("Wednesday", "14 March"), "in" a year or month ("2019", "June")."""
    if _WEEKDAY.match(answer) or _DAY_DATE.match(answer):
        return "on"
    return "in" if _YEAR_OR_MONTH.match(answer) else None


def with_answer(parsed: Parsed, answer: str | None) -> str:
    """The earlier question's body completed by its answer, in question order: "did Milley and Gerasimov meet in
    Helsinki"; a question whose phrase was the subject gets "did" ("Who sent the boats?" -> "did the United States
    send the boats"), or, without an answer, turns passive ("were the boats sent")."""
    if parsed.inverted:
        phrase = answer_phrase(parsed, answer)
        if phrase and phrase.split()[0].lower() == parsed.body.split()[-1].lower():
            phrase = phrase.split(None, 1)[1] if " " in phrase else ""  # "go on for" + "for six hours"
        if phrase and noun_slot(parsed.wh) and not re.match(rf"{PREP}\b", phrase, re.I):
            return with_object(parsed.body, phrase)
        return f"{parsed.body} {phrase}".strip()
    counted = re.match(r"how (?:many|much) (.+)", parsed.wh, re.I)
    if counted:  # "How many health workers took part?": 4,000 health workers, or the health workers
        answer = f"{answer} {counted.group(1)}" if answer else f"the {counted.group(1)}"
    if not answer:
        return passive(parsed) or ""
    answer = mid_sentence(answer)
    verb, _, rest = parsed.body.partition(" ")
    if verb.lower() in BE | MODALS or verb.lower() in ("has", "have", "had"):
        return f"{verb} {answer} {rest}".strip()
    return f"did {answer} {lemmatize(verb)} {rest}".strip()


_TIME_NOUNS = frozenset(["year", "day", "month", "date", "time", "week"])


def noun_slot(wh: str) -> bool:
    """A question phrase that asks for a subject or an object ("who", "what", "which base", "how many turbines"),
    not for a circumstance ("where", "in which city", "what year")."""
    tokens = wh.lower().split()
    if tokens[:2] in (["how", "many"], ["how", "much"]):
        return len(tokens) > 2
    return tokens[0] in ("who", "whom", "what", "which") and not (len(tokens) > 1 and tokens[1] in _TIME_NOUNS)


def with_object(body: str, phrase: str) -> str:
    """An inverted question's body with the answer that was its object (or passive subject) in its place: after the
    verb, before the circumstances ("did the US lease Karshi-Khanabad in Uzbekistan", "did the Americans have to
    leave Manas in 2014"), after "were" in the passive ("were 1.4 million children vaccinated against measles");
    at the end when the subject cannot be told."""
    aux, *rest = body.split()
    if aux.lower() in BE and rest and participle(rest[0]):
        return " ".join([aux, phrase, *rest])
    np = noun_phrase(rest)
    if rest and rest[0].lower() in PRONOUNS:
        verb = 1
    elif np is not None:
        verb = len(with_of(rest, np).split())
    else:
        return f"{body} {phrase}"
    # the first preposition after the verb that heads a phrase: not "to" before a verb, not one left stranded
    # before another ("talk about [risk mitigation] in Helsinki")
    at = next((i for i in range(verb + 1, len(rest) - 1) if re.fullmatch(PREP, rest[i].lower())
               and not re.fullmatch(PREP, rest[i + 1].lower()) and (rest[i].lower() != "to" or _heads(rest[i + 1]))),
              len(rest))
    return " ".join([aux, *rest[:at], phrase, *rest[at:]])


def _heads(token: str) -> bool:
    """A word that starts a noun phrase after "to" ("to the port", "to Ukraine"), not a verb ("to leave")."""
    return token.lower() in DETERMINERS or token[:1].isupper() or token[:1].isdigit()


def passive(parsed: Parsed) -> str | None:
    """A past subject question without its subject, turned passive: "Who opposed the Gull Bank project?" -> "was
    the Gull Bank project opposed"; None for another tense or when no object follows the verb ("Who died in the
    attack?", "Who paid for the vaccines?": a preposition after the verb may as well belong to a verb that takes no
    object)."""
    if parsed.inverted:
        return None
    verb, *tokens = parsed.body.split()
    participle = past_participle(verb)
    if participle is None or not tokens or re.fullmatch(PREP, tokens[0].lower()):
        return None  # "Who died in the attack?" has no object to make the subject
    end = next((i for i, t in enumerate(tokens) if re.fullmatch(PREP, t.lower()) and
                not (t.lower() == "of" and tokens[0].lower() in DETERMINERS)), len(tokens))
    obj, rest = tokens[:end], tokens[end:]  # "the approval of the Gull Bank wind farm" | "Washington" "of ..."
    if len(obj) > 2 and verb_like(obj[-1]):
        obj, rest = obj[:-1], obj[-1:] + rest  # "ordered the base [closed]"
    if not obj or not (obj[0].lower() in DETERMINERS or obj[0][:1].isupper()):
        return None  # "took part in ...": no object to make the subject
    # the noun the verb agrees with: "the call [between the generals]" is one call
    head = obj[:next((i for i, t in enumerate(obj) if re.fullmatch(rf"{PREP}|between|among", t.lower())),
                     len(obj))][-1]
    be = "were" if plural(head) or "and" in obj else "was"
    return " ".join([be, *obj, participle, *rest])


def ask_again(follow_wh: str, parsed: Parsed, answer: str | None) -> str | None:
    """"And where?" after "When did they first meet?" (2019) -> "Where did they first meet in 2019?"; "And who?"
    after "Which country hosted the talks?" -> "Who hosted the talks?" (it asks for the subject again); None for
    "And who?" after "Which base did the US use?": its answer took the object the follow-up would ask for."""
    same = follow_wh.lower() == parsed.wh.lower()
    if not same and noun_slot(follow_wh) and noun_slot(parsed.wh):
        if parsed.inverted or follow_wh.lower() == "whom":
            return None
        return f"{follow_wh[:1].upper()}{follow_wh[1:]} {parsed.body}?"
    clause = with_answer(parsed, None if same else answer)
    if not clause:
        return None
    return f"{follow_wh[:1].upper()}{follow_wh[1:]} {clause}?"


def subject(parsed: Parsed) -> str | None:
    """What the earlier question was about as a noun phrase: the subject after the auxiliary ("Milley and
    Gerasimov", "the Americans"), or the object of a question whose question phrase is the subject ("Which country
    hosted the talks?" -> "the talks")."""
    return noun_phrase(parsed.body.split()[1:])  # past the auxiliary, or past the verb


def replace_subject(parsed: Parsed, new: str) -> str | None:
    """"What about Biden and Putin?" after "Where did Milley and Gerasimov meet?" -> "Where did Biden and Putin
    meet?"; a prepositional "And in Geneva?" replaces the earlier phrase with that preposition, or is added."""
    question = f"{parsed.wh} {parsed.body}"
    prep = re.match(rf"({PREP})\s", new, re.I)
    if prep:
        pattern = rf"\b{prep.group(1)}\s+[^,?]+?(?=\s+{PREP}\s|$)"
        if re.search(pattern, parsed.body, re.I):
            return re.sub(pattern, new, question, count=1, flags=re.I) + "?"
        return f"{question} {new}?"
    old = subject(parsed)
    if old is None:
        return None
    return question.replace(old, new, 1) + "?"


def anchor(follow_up: str, parsed: Parsed) -> str | None:
    """A short follow-up about "the" and a noun new to the earlier question, placed where the earlier question was:
    "How long did the campaign last?" after "How many children were vaccinated against measles in Malawi?" -> "How
    long did the campaign against measles in Malawi last?"; None unless the follow-up is a question word, an
    auxiliary, that phrase and its verb, and the earlier question ends in a place or topic ("against measles in
    Malawi")."""
    own = parse(follow_up)
    body = parsed.body.split()
    start = next((i for i, t in enumerate(body[1:], 1) if re.fullmatch(PREP, t.lower()) and t.lower() != "of"), None)
    if own is None or not own.inverted or start is None or len(own.wh.split()) > 2:
        return None
    aux, *tokens = own.body.split()
    if len(tokens) != 3 or tokens[0].lower() != "the" or not tokens[1].isalpha() or not tokens[1].islower():
        return None  # "did [the campaign] last", "was [the campaign] launched"
    if lemmatize(tokens[1]) in {lemmatize(t) for t in body}:
        return None  # "the meeting" after "Where did they meet?" is the event itself, named already
    return f"{own.wh} {aux} {' '.join([*tokens[:2], *body[start:], *tokens[2:]])}?"
