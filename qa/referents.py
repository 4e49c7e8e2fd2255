"""What a pronoun of a follow-up points back to in the earlier question and its answer (rules, no LLM).

After "Where did Milley and Gerasimov meet?" answered "Helsinki": "How long did it last?" -> "How long did the meeting
between Milley and Gerasimov in Helsinki last?" (the event), "What did they discuss there?" -> "What did Milley and
Gerasimov discuss in Helsinki?"; after "Who led the opponents of the Kestrel Bay bridge?" answered "the Harbour
Heritage Society": "What did they say it would harm?" -> "What did the Harbour Heritage Society say the Kestrel Bay
bridge would harm?".
"""

from __future__ import annotations

import re

from qa.followup import Parsed, answer_phrase, subject, time_preposition
from qa.phrases import (
    ADVERBS,
    AUX,
    BE,
    DETERMINERS,
    PREP,
    lemmatize,
    mid_sentence,
    noun_phrase,
    participle,
    plural,
    with_of,
)

# verbs whose event a follow-up calls "it": the noun a question about that event uses
_EVENTS = {"meet": "meeting", "talk": "talks", "speak": "conversation", "call": "call", "phone": "call",
           "visit": "visit", "negotiate": "negotiations", "discuss": "discussion", "vote": "vote",
           "attack": "attack", "strike": "strike", "invade": "invasion", "sign": "signing", "announce": "announcement",
           "hold": "", "launch": "launch", "evacuate": "evacuation", "withdraw": "withdrawal", "protest": "protest"}


def event_phrase(parsed: Parsed, answer: str | None) -> str | None:
    """The event the earlier question was about, as a noun phrase with its answer: "the meeting between Milley and
    Gerasimov in Helsinki"; None when the question names no event this knows."""
    if not parsed.inverted:
        return None
    aux, *tokens = parsed.body.split()
    if aux.lower() in BE and len(tokens) >= 2 and participle(tokens[-1]):
        noun = " ".join(tokens[:-1])  # "was the meeting held" -> "the meeting"
    else:
        at = next((i for i, t in enumerate(tokens) if lemmatize(t) in _EVENTS  # a verb, not "the meeting"
                   and not (i and tokens[i - 1].lower() in DETERMINERS)), None)
        if at is None:
            return None
        who = [t for t in tokens[:at] if t.lower() not in ADVERBS]
        rest = tokens[at + 1:]
        obj = rest[: next((i for i, t in enumerate(rest) if re.fullmatch(PREP, t.lower())), len(rest))]
        event = _EVENTS[lemmatize(tokens[at])]
        if not event:  # "hold talks" / "hold their summit": the object is the event
            noun = " ".join(obj) if obj else ""
            if not noun:
                return None
            noun = re.sub(r"^(their|his|her|its)\b", "the", noun)
            return f"{noun} {_circumstance(parsed, answer)}".strip()
        parties = " ".join(who) + (f" and {' '.join(obj)}" if obj else "")
        noun = f"the {event} {'between' if ' and ' in parties else 'of'} {parties}"
    return f"{noun} {_circumstance(parsed, answer)}".strip()


def _circumstance(parsed: Parsed, answer: str | None) -> str:
    """The answer as where or when the event took place ("in Helsinki"), or nothing when it was not asked for."""
    adverbial = parsed.word in ("where", "when") or parsed.wh.lower().startswith(
        ("how long", "what year", "which year", "in which", "in what"))
    return answer_phrase(parsed, answer) if adverbial else ""


def last_thing(parsed: Parsed) -> str | None:
    """The singular phrase with "the" that ends the earlier question after a preposition, as the object of its
    verb or after "is" ("the Kestrel Bay bridge" of "Who led the opponents of the Kestrel Bay bridge?", "the seal
    colony" of "Where is the seal colony?"): what "it" is when nothing else is; never the person a "who is"
    question asks for."""
    tokens = parsed.body.split()
    at = next((i for i in reversed(range(1, len(tokens))) if tokens[i].lower() == "the"), None)
    if at is None or copula_subject(parsed) is not None or plural(tokens[-1]):
        return None
    if any(re.fullmatch(PREP, t.lower()) or t.lower() in AUX for t in tokens[at + 1:]):
        return None
    after_prep = re.fullmatch(PREP, tokens[at - 1].lower()) is not None
    # the object of a subject question's verb, or what a "where is" question asked about
    first = at == 1 and (not parsed.inverted or tokens[0].lower() in BE)
    return " ".join(tokens[at:]) if after_prep or first else None


_MEASURES = {"cost": "cost", "weigh": "weight", "earn": "earnings"}


def measure_phrase(parsed: Parsed) -> str | None:
    """What a how-much (or what) question measured, as a noun: "the cost of the Kestrel Bay bridge" of "How much
    will the Kestrel Bay bridge cost?"."""
    aux, *tokens = parsed.body.split()
    if parsed.wh.lower() not in ("how much", "what") or not parsed.inverted or len(tokens) < 2:
        return None
    noun = _MEASURES.get(lemmatize(tokens[-1]))
    return f"the {noun} of {' '.join(tokens[:-1])}" if noun else None


def copula_subject(parsed: Parsed) -> str | None:
    """Who a "who is" question asks about: "the Kremlin spokesman" of "Who is the Kremlin spokesman?"."""
    verb, _, rest = parsed.body.partition(" ")
    return rest if parsed.word == "who" and verb.lower() in BE and rest else None


def who_referent(parsed: Parsed, answer: str | None) -> str | None:
    """Whom a who question was about: its answer ("Claire Holloway"), but the name a "who is" question asked about
    ("Who is Grace Phiri?" answered "Health minister": Grace Phiri); without an answer, whom a "who is" question
    described ("the Kremlin spokesman"); None after another question."""
    if parsed.word != "who":
        return None
    described = copula_subject(parsed)
    if described and all(t[:1].isupper() for t in described.split()):
        return described
    return mid_sentence(answer) if answer else described


def wh_noun(parsed: Parsed) -> str | None:
    """The noun of a which / what question phrase with "the": "the base" of "Which base did ...", "the country" of
    "In which country ..."."""
    m = re.search(r"\b(?:which|what)\s+(.+)$", parsed.wh, re.I)
    if m is None or parsed.word not in ("which", "what") or m.group(1).lower() in ("year", "day", "month", "time"):
        return None
    return f"the {m.group(1)}"


_AUXILIARIES = frozenset(["did", "does", "do", "was", "is", "has", "had", "will", "would", "can", "could"])
PRONOUN = re.compile(r"\b(it|they|them|their|there|then|he|she|him|his|her)\b", re.I)


def resolve_pronouns(follow_up: str, parsed: Parsed, answer: str | None, person: str | None,
                     group_before: str | None = None) -> str | None:
    """Each pronoun replaced by what it points back to; None when one is left that nothing earlier can fill.
    ``group_before`` is whom "they" was in the turn before, for a "they" the earlier question cannot fill."""
    said = mid_sentence(answer) if answer else None
    thing = said if parsed.word in ("what", "which", "whom") and said and len(said.split()) <= 6 else wh_noun(parsed)
    who = who_referent(parsed, answer)
    one = who if parsed.word == "who" else person  # whom "he" / "she" is
    they = plural_referent(parsed, answer) or group_before
    if they is not None and they == one and re.search(r"\b(he|she|his|him|her)\b", follow_up, re.I):
        they = None  # "How many flights did he say they made?": "they" is not "he"
    group = subject(parsed)
    event = event_phrase(parsed, answer)
    time = said if parsed.word == "when" and said else None
    failed = False

    def fill(m: re.Match[str]) -> str:
        nonlocal failed
        word, rest = m.group(1).lower(), follow_up[m.end():].lstrip()
        before = follow_up[: m.start()].split()
        if word == "it":
            out = _it(parsed, thing, event, group, who, bool(before) and before[-1].lower() in _AUXILIARIES)
        elif word in ("they", "them"):
            out = they
        elif word == "their":
            out = _possessive(they) if they else None
        elif word == "there":
            out = _there(parsed, said)
        elif word == "then":
            return m.group(0) if time is None else (f"in {time}" if time[:1].isdigit() else time)
        else:
            possessive = word == "his" or (word == "her" and rest[:1].isalpha())
            out = None if one is None else _possessive(one) if possessive else one
        if out is None:
            failed = True
            return m.group(0)
        return out

    resolved = PRONOUN.sub(fill, follow_up)
    if failed or resolved == follow_up:
        return None
    return resolved[:1].upper() + resolved[1:]


def plural_referent(parsed: Parsed, answer: str | None) -> str | None:
    """What "they" points back to: the answer of a who question ("the Harbour Heritage Society"), the things a
    which / how many question asked for ("the gannets", "the turbines"), else the earlier plural subject ("the
    opponents of the Kestrel Bay bridge") or a named one ("the Harbour Heritage Society", an organisation)."""
    said = mid_sentence(answer) if answer else None
    who = who_referent(parsed, answer)
    wh_thing = said if parsed.word in ("what", "which") and said and not parsed.wh.lower().startswith(
        ("what year", "which year")) else wh_noun(parsed)
    if who is not None and copula_subject(parsed) != who:
        return who
    if wh_thing is not None and plural(parsed.wh.split()[-1]):
        return f"the {wh_thing}" if wh_thing[:1].islower() and wh_thing.split()[0] not in DETERMINERS else wh_thing
    if parsed.wh.lower().startswith("how many "):
        return "the " + parsed.wh.split(None, 2)[2]
    tokens = parsed.body.split()[1:]
    group = noun_phrase(tokens)
    if group and (" and " in group or plural(group.split()[-1])):
        return with_of(tokens, group)
    if group and all(t[:1].isupper() for t in group.split()[1:]) and group.split()[0] in ("the", "The"):
        return group  # "the Harbour Heritage Society"
    return None


def _possessive(phrase: str) -> str:
    """"the gannets'", "Claire Holloway's"."""
    return f"{phrase}'" if phrase.endswith("s") and plural(phrase.split()[-1]) else f"{phrase}'s"


_AREAS = frozenset(["country", "city", "town", "village", "region", "district", "province", "state", "island"])
_SITES = frozenset(["base", "airbase", "airport", "port", "harbour", "camp", "site", "station", "hospital", "prison"])
_PLACE_PHRASE = re.compile(r"\b(?:in|at|near) (?:the )?[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*")


def _there(parsed: Parsed, said: str | None) -> str | None:
    """Where "there" is: the answer of a where question ("in Helsinki"), the place a which question asked for ("at
    Al Udeid airbase" after "Which airbase ...?", "in Finland" after "Which country ...?"), the place a "where is"
    question asked about, else the place the earlier question named ("in Helsinki" of "For how long did they hold
    their meeting in Helsinki?"); never a time ("in July")."""
    if said and parsed.word == "where":
        return said if said.split()[0].lower() in ("in", "at", "near") else f"in {said}"
    asked = re.search(r"\b(?:which|what)\s+(\w+)", parsed.wh, re.I)  # "airbase" of "Which airbase in Qatar"
    noun = asked.group(1).lower() if asked else ""
    if said and parsed.word in ("which", "what") and noun in _AREAS | _SITES:
        phrase = answer_phrase(parsed, said)  # "In which city ...?": "in Helsinki"
        if re.match(r"(?:in|at|near)\s", phrase, re.I):
            return phrase
        return f"{'in' if noun in _AREAS else 'at'} {said}"
    named = [m.group(0) for m in _PLACE_PHRASE.finditer(parsed.body)
             if time_preposition(m.group(0).split(None, 1)[1]) is None]
    return _at(parsed) or (named[-1] if named else None)


def _at(parsed: Parsed) -> str | None:
    """"There" after "Where is the Al Udeid airbase?" that found no answer: at the airbase."""
    be, _, place = parsed.body.partition(" ")
    if parsed.word != "where" or not place or be.lower() not in BE:
        return None
    return f"at {place}" if place.lower().startswith("the ") else f"in {place}"


def _it(parsed: Parsed, thing: str | None, event: str | None, group: str | None, who: str | None,
        as_subject: bool) -> str | None:
    """What "it" points back to: after "Where did they meet?" the meeting ("How long did it last?"); after "Which
    base ...?" the answer ("vacate it"), unless "it" is the subject and the earlier subject a name ("When did it say
    so?" after "What was Ukraine seeking?": Ukraine); after "How much will the bridge cost?" its cost; after "Who
    paid?" the one-word answer as the subject ("How much did it provide?": Gavi); else the earlier question's last
    thing ("the Kestrel Bay bridge")."""
    named = group if group and group[:1].isupper() and " and " not in group else None
    measure = None if as_subject else measure_phrase(parsed)
    if measure:
        return measure  # "pay half of it" after "What will the bridge cost?": the cost, not "85 million euros"
    if thing is not None and parsed.word != "who":
        return named if as_subject and named else thing
    if as_subject and who and (len(who.split()) == 1 or who.lower().startswith("the ")):
        return who
    measured = group if parsed.word == "how" and group and not plural(group.split()[-1]) else None
    found = event or (named if as_subject else None) or measured
    return found or last_thing(parsed) or _site(parsed)


def _site(parsed: Parsed) -> str | None:
    """The site the earlier question named after "at" or "in": "Al Udeid airbase" of "About how many US service
    personnel are at Al Udeid airbase?" (a place that is a thing, not a city: "in Helsinki" is no "it")."""
    sites = [m.group(1) for m in re.finditer(rf"\b(?:in|at|near) ((?:the )?[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)* "
                                             rf"(?:{'|'.join(sorted(_SITES))}))\b", parsed.body)]
    return sites[-1] if sites else None


_SUCH = re.compile(r"\bsuch an? [a-z]+\b(?! of\b)")
_TOPIC = re.compile(r"\b(?:against|about|over)\s+(.+)$", re.I)


def such(follow_up: str, parsed: Parsed) -> str:
    """"such a deployment" names what the earlier question was against or about: after "When did Sergey Ryabkov
    warn against American troops in neighbouring countries?", "such a deployment of American troops in neighbouring
    countries"; the follow-up as it is when either is missing."""
    m = _SUCH.search(follow_up)
    topic = _TOPIC.search(parsed.body)
    if m is None or topic is None:
        return follow_up
    return f"{follow_up[: m.end()]} of {topic.group(1)}{follow_up[m.end():]}"
