"""Answer-type agreement: what kind of span a question asks for, and whether a read span is of that kind.

A "which country" question is not answered with a city, a "how many" question not with a word holding no number, a
"which year" question not with a span holding no year. The checks are deliberately one-sided: a span is refused only
when it is positively of another kind (a country name is known from pycountry's ISO 3166 tables; numbers, years and
calendar words from their spelling), so an unusual but right answer is never refused for lack of a gazetteer entry.
"""

from __future__ import annotations

import re
from functools import cache

_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands "
    "million millions billion billions trillion dozen dozens half quarter once twice several few many".split()
)
_TIME_UNITS = re.compile(r"\b(second|minute|hour|day|night|week|month|year|decade|century|centuries|fortnight)s?\b",
                         re.I)
_CALENDAR = re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
                       r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow)\b", re.I)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b|'[0-9]{2}s?\b")
_DIGIT = re.compile(r"[0-9]")
# a day of the month or a day's name: "7", "21st", "Christmas Eve", "the weekend" (a bare year names no day)
_DAY = re.compile(r"\b([0-9]{1,2}(st|nd|rd|th)?|day|eve|christmas|easter|weekend|holiday)\b", re.I)
_WORD = re.compile(r"[A-Za-z]+")
# a time of day: "10:30", "9 a.m.", "7pm", "noon", "midnight", "in the evening", "at dawn", "o'clock"
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*[ap]\.?m\b|\b(noon|midday|midnight|morning|afternoon|evening|"
                    r"night|dawn|dusk|sunrise|sunset|o'clock)\b", re.I)

# names a country goes by that ISO 3166 does not list as one of its names
_COUNTRY_ALIASES = frozenset(
    ["us", "u.s", "u.s.", "usa", "u.s.a", "u.s.a.", "america", "uk", "u.k", "u.k.", "britain", "great britain",
     "england", "scotland", "wales", "northern ireland", "russia", "turkey", "kosovo", "palestine", "holland",
     "burma", "ivory coast", "east germany", "west germany", "soviet union", "ussr", "prussia", "persia",
     "czech republic", "south korea", "north korea", "the netherlands", "vatican", "macedonia", "swaziland"]
)
# countries that are also cities: a "which city" answer may be one of them
_CITY_STATES = frozenset(["singapore", "monaco", "luxembourg", "vatican", "kuwait", "djibouti", "san marino",
                          "andorra", "panama", "guatemala", "mexico", "bahrain"])

_LEAD = r"^\W*(?:(?:and|but|so|also|then)\W+)*"  # "And where?" asks what "Where?" asks
# (pattern on the lower-cased question, kind): the first that matches decides
KINDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bhow (many|much)\b"), "number"),
    (re.compile(r"\b(what|which) (year|decade|century)\b|\bin what year\b"), "year"),
    (re.compile(r"\b(what|which) day\b"), "day"),
    (re.compile(r"\b(?:at )?what time\b(?! (?:of|period|frame|span|zone)\b)"), "time"),
    (re.compile(r"\bhow long (?:has|have|had)\b"), "duration_since"),  # "since 1951" answers it
    (re.compile(r"\bhow long\b(?! ago)"), "duration"),
    (re.compile(r"\b(what|which) (country|nation)\b(?!'s| s\b)"), "country"),
    (re.compile(r"\b(what|which) (city|town|capital)\b(?!'s)"), "city"),
    (re.compile(_LEAD + r"(who|whom)\b|\b(by|to|from|with) whom\b"), "person"),
    (re.compile(_LEAD + r"where\b"), "place"),
)

# how a refusal names each kind: 'the best-supported span, "2019", is not a day'
KIND_NOUNS = {"number": "a number", "year": "a year", "day": "a day", "time": "a time of day",
              "duration": "a length of time", "duration_since": "a length of time", "country": "a country",
              "city": "a city", "person": "a person", "place": "a place"}


def expected_kind(question: str) -> str | None:
    """The kind of span ``question`` asks for: number, year, day, duration, country, city, person, place; None when its
    form says nothing checkable ("What did he say?")."""
    q = question.lower().strip()
    # "Since NASA didn't know how many attempts ..., what did they use?": the question is the last clause that asks
    clauses = [c for c in q.split(",") if re.search(r"\b(what|which|who|whom|where|when|how)\b", c)]
    q = clauses[-1].strip() if clauses else q
    for pattern, kind in KINDS:
        if pattern.search(q):
            return kind
    return None


@cache
def _country_names() -> frozenset[str]:
    """Lower-cased country names: ISO 3166-1 (name, official and common name, the part before a comma: "Iran,
    Islamic Republic of" -> "iran"), the historic ones of ISO 3166-3, and common aliases."""
    import pycountry  # loaded on the first country question only: its tables are a few MB

    names: set[str] = set(_COUNTRY_ALIASES)
    for country in [*pycountry.countries, *pycountry.historic_countries]:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(value.lower())
                names.add(value.split(",")[0].lower())
    return frozenset(names)


def _has_country(span: str) -> bool:
    text = " ".join(span.lower().replace("’", "'").split())
    names = _country_names()
    words = [w.removesuffix("'s") for w in text.split()]
    return any(" ".join(words[i:j]).strip(",.;:()'\"") in names
               for i in range(len(words)) for j in range(i + 1, min(len(words), i + 5) + 1))


def _is_country(span: str) -> bool:
    text = " ".join(span.lower().split()).removeprefix("the ").strip(",.;:")
    return text in _country_names() and text not in _CITY_STATES


_ORDINAL = re.compile(r"\b(\d+(st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                      r"eleventh|twelfth|[a-z]+tieth|hundredth|thousandth)\b", re.I)
_QUANTIFIER = re.compile(r"^\W*(all|none|no|every|both|most|each|neither|nothing)\b", re.I)
_ERA = re.compile(r"\b(centur(y|ies)|decades?|millenni(um|a)|BCE?|AD|CE)\b")
# adjectives of countries that do not share their first four letters with the country's name
_DEMONYMS = frozenset(["french", "dutch", "spanish", "finnish", "swiss", "welsh", "danish", "swedish", "polish",
                       "irish", "scottish", "english", "chinese", "cypriot", "filipino", "thai", "lao", "malagasy"])


def _demonym(span: str) -> bool:
    """A country's adjective ("British", "French"): a capitalized word sharing its first four letters with a country
    name, with an adjective's ending, or a known exception."""
    words = [w for w in re.findall(r"[A-Za-z]+", span) if w[:1].isupper()]
    names = {n[:4] for n in _country_names() if len(n) >= 4}
    return any(w.lower() in _DEMONYMS or (len(w) > 4 and w.lower()[:4] in names
                                          and re.search(r"(an|ish|ese|i|ic)$", w.lower()) is not None)
               for w in words)


def has_number(span: str) -> bool:
    """Digits or a number word ("six", "1.4 million", "dozens")."""
    return bool(_DIGIT.search(span)) or any(w.lower() in _NUMBER_WORDS for w in _WORD.findall(span))


def _only_time(span: str) -> bool:
    """A year or a calendar word and nothing that counts ("2019", "in June 2021", "on Tuesday")."""
    rest = _CALENDAR.sub(" ", _YEAR.sub(" ", span))
    stripped = [w for w in _WORD.findall(rest) if w.lower() not in {"in", "on", "at", "of", "the", "last", "next"}]
    return (bool(_YEAR.search(span)) or bool(_CALENDAR.search(span))) and not stripped and not _DIGIT.search(rest)


def agrees(kind: str | None, span: str) -> bool:
    """Whether ``span`` can be an answer of ``kind``: False only when it is positively of another kind."""
    if kind is None:
        return True
    if kind == "number":  # "1.4 million", "seventh", "none", "all"; "2000" guests too, but not "in June"
        return (has_number(span) or bool(_ORDINAL.search(span) or _QUANTIFIER.search(span))) and not (
            _CALENDAR.search(span))
    if kind == "year":  # "2014", "the 1990s", "17th century", "2nd century BCE"
        return bool(_YEAR.search(span) or _ORDINAL.search(span) or _ERA.search(span))
    if kind == "day":  # "Wednesday", "February 7, 2016", "Christmas Eve"; not "2019", not a place
        return bool(_CALENDAR.search(span) or _DAY.search(span))
    if kind == "time":  # "10:30", "noon", "9 a.m.", "Tuesday evening"; not "Wednesday", "2019" nor "six hours"
        return bool(_CLOCK.search(span)) or not (_only_time(span) or _TIME_UNITS.search(span))
    if kind in ("duration", "duration_since"):
        if kind == "duration_since" and (_YEAR.search(span) or re.search(r"\bsince\b", span, re.I)):
            return True
        return (has_number(span) or bool(_TIME_UNITS.search(span))) and not _only_time(span)
    if kind == "country":
        return _has_country(span) or _demonym(span)
    if kind == "city":
        return not _is_country(span) and not _only_time(span) and not _DIGIT.fullmatch(span.replace(",", ""))
    # person or place: never a bare number, year or date
    return not _only_time(span) and not re.fullmatch(r"[\d.,\s%$€£]+", span)


_AUX = frozenset("did does do was were is are has have had will would can could should may might must".split())
_QUANTITY = re.compile(
    r"(?:(?:about|around|nearly|almost|roughly|some|over|under|more than|less than|fewer than|at least|up to)\s+)?"
    r"(?:\d[\d,.]*|(?:" + "|".join(sorted(_NUMBER_WORDS - {"once", "twice", "many", "half", "quarter"})) + r"))"
    r"(?:[\s-]+(?:hundred|thousand|million|billion|trillion))*", re.I)


def counted_noun(question: str) -> str | None:
    """The noun a "how many" question counts, lower-cased: the word before an auxiliary, else the first plural of the
    next three words ("How many US troops were there?" -> "troops", "How many health workers took part?" ->
    "workers")."""
    m = re.search(r"\bhow many ((?:[\w’'-]+\s*){1,4})", question, re.I)
    if not m:
        return None
    words = [w.lower() for w in re.findall(r"[\w’'-]+", m.group(1))]
    if words[0] in _AUX:
        return None  # "How many will it power?" names nothing counted
    aux = next((i for i, w in enumerate(words) if w in _AUX), None)
    if aux is not None and aux > 0:
        return words[aux - 1]
    plural = next((w for w in words[:3] if w.endswith("s") and not w.endswith("ss")), None)
    return plural or words[0]


def count_span(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """For "how many <noun>", the quantity the sentence puts before that noun ("1.4 million children under five" ->
    "1.4 million") when the read span ``start:end`` is not already inside it; else the span unchanged."""
    noun = counted_noun(question)
    if noun is None:
        return start, end
    stem = noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun
    for m in re.finditer(r"\b" + re.escape(stem) + r"\w*", sentence, re.I):
        # a quantity ending at most two words before the noun ("about 10,000 service personnel")
        before = sentence[: m.start()]
        for q in _QUANTITY.finditer(before):
            gap = before[q.end():]
            if re.fullmatch(r"\s+(?:[\w’'-]+\s+){0,2}", gap) and q.group(0).strip():
                if q.start() <= start and end <= q.end():
                    return start, end
                if not (start < q.end() and q.start() < end) or not has_number(sentence[start:end]):
                    return q.start(), q.end()
                return start, end
    return start, end


_NAME_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")


def names_question_subject(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether the span is part of a name the question already gives: "Who replaced Milley?" read as "General Mark"
    from "General Mark Milley" names Milley himself, not who replaced him."""
    if re.match(r"\W*who (is|was|are|were)\b", question, re.I):
        return False  # "Who is Milley?" is answered by the title in his own name: "Joint Chiefs Chair General"
    asked = {w.lower().removesuffix("'s").removesuffix("’s") for w in re.findall(r"[A-Z][\w’'-]+", question[1:])}
    for m in _NAME_RUN.finditer(sentence):
        if m.start() <= start and end <= m.end() + 1:
            # the span ends in a name the question gives, or the name's next word is one: "General Mark [Milley]"
            last = sentence[start:end].split()[-1:]
            after = sentence[end:m.end()].split()[:1]
            return any(w.lower().removesuffix("'s").removesuffix("’s").strip(",.") in asked for w in last + after)
    return False


def may_hold(kind: str | None, sentence: str) -> bool:
    """Whether a sentence holds anything the checks above could accept, so that it is worth reading first: a number
    for "how many" and "how long", a year, century or era for "which year", a country name or adjective. (Asking more,
    such as a number right before the counted noun, cost SQuAD part A's how-many questions 0.585 -> 0.539 EM.)"""
    if kind in ("number", "duration", "duration_since"):
        return has_number(sentence) or (kind != "number" and bool(_TIME_UNITS.search(sentence)))
    if kind == "year":
        return bool(_YEAR.search(sentence) or _ORDINAL.search(sentence) or _ERA.search(sentence))
    if kind == "day":
        return agrees(kind, sentence)
    if kind == "country":
        return _has_country(sentence) or _demonym(sentence)
    return True
