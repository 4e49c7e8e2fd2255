"""Words and noun phrases of English questions, for the follow-up rules (qa.followup, qa.referents): plurals,
lemmas, participles, where a noun phrase ends."""

from __future__ import annotations

import re
from functools import cache

AUX = ("did", "does", "do", "was", "were", "is", "are", "has", "have", "had", "will", "would", "can", "could",
       "should", "may", "might", "must")


BE = frozenset(["was", "were", "is", "are"])
PREP = r"(?:in|at|from|to|for|with|on|by|since|under|during|of|after|before|until|near|against|about)"
MODALS = frozenset(["will", "would", "can", "could", "should", "may", "might", "must"])

ADVERBS = frozenset(["first", "last", "previously", "ever", "also", "again", "finally", "actually", "really",
                     "originally", "initially", "later", "recently", "eventually"])


PRONOUNS = frozenset(["it", "its", "they", "them", "their", "he", "she", "him", "her", "his", "this", "that",
                      "these", "those", "there", "then", "so"])


DETERMINERS = frozenset(["the", "a", "an", "his", "her", "their", "its", "this", "that", "these", "those"])
_NAME_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:and\s+)?[A-Z][\w’'.-]*)*")

_PLURAL_WORDS = frozenset(["people", "children", "men", "women", "police", "personnel", "staff"])
_SINGULAR_S = frozenset(["measles", "mumps", "news", "series", "species", "politics", "economics", "physics",
                         "gas", "lens", "means"])


@cache
def lemmatize(word: str) -> str:
    import simplemma  # its English tables load on the first follow-up only

    return str(simplemma.lemmatize(word.lower(), lang="en"))


def plural(token: str) -> bool:
    """A plural noun by its ending ("boats", "opponents"), not "measles", "news", "bus", "crisis" or "US"."""
    low = token.lower()
    return low in _PLURAL_WORDS or (low.endswith("s") and not low.endswith(("ss", "us", "is", "'s", "’s"))
                                    and low not in _SINGULAR_S and len(low) > 2)


def verb_like(token: str) -> bool:
    """A verb by its form: a past ("reported", "took") or one of a few common verbs."""
    low = token.lower()
    if low.endswith("ed") or low in ("set", "made", "caused", "led", "happened", "is", "was", "said", "sent"):
        return True
    # an irregular past ("took", "paid"): its lemma differs and it is no plural noun
    return token.isalpha() and token.islower() and not plural(low) and lemmatize(low) != low


def mid_sentence(answer: str) -> str:
    """An answer as it reads inside a question: a capital that only started its sentence goes ("Fishing groups" ->
    "fishing groups", "The government" -> "the government", "In Helsinki" -> "in Helsinki"); names keep theirs."""
    tokens = answer.split()
    if len(tokens) >= 2 and tokens[0][:1].isupper() and tokens[0][1:].islower() and all(
            not t[:1].isupper() for t in tokens[1:]):
        return answer[:1].lower() + answer[1:]
    if re.match(rf"{PREP}\s", answer, re.I):
        return answer[:1].lower() + answer[1:]
    return answer


def noun_phrase(tokens: list[str]) -> str | None:
    """The noun phrase that ``tokens`` start with: a run of names ("Milley and Gerasimov"), a determiner and the
    words up to a plural noun or up to the verb ("the American patrol boats", "the meeting" of "the meeting held"),
    or up to three words ending in a plural noun ("fishing groups")."""
    m = _NAME_RUN.match(" ".join(tokens))
    if m:
        return m.group(0)
    bare = next((i for i, t in enumerate(tokens[:3]) if plural(t)), None)
    if tokens and tokens[0].lower() not in DETERMINERS and bare is not None and all(
            t.isalpha() and t.islower() and t not in PRONOUNS for t in tokens[: bare + 1]):
        return " ".join(tokens[: bare + 1])
    if len(tokens) < 2 or tokens[0].lower() not in DETERMINERS:
        return None
    out = [tokens[0]]
    for i, token in enumerate(tokens[1:5], 1):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if len(out) > 1 and (following is None or re.fullmatch(PREP, following.lower()) or
                             following.lower() in DETERMINERS) and not plural(token):
            break  # a lone last word after the noun is the verb: "the meeting [held]"
        out.append(token)
        if plural(token):
            break
    return " ".join(out) if len(out) > 1 else None


def with_of(tokens: list[str], phrase: str) -> str:
    """``phrase`` (which ``tokens`` start with) with the "of" phrase after it: "the opponents of the Kestrel Bay
    bridge", up to a preposition, an auxiliary or a verb followed by its object ("... bridge [say the ...]")."""
    rest = tokens[len(phrase.split()):]
    if len(rest) < 2 or rest[0].lower() != "of":
        return phrase
    end = next((j for j in range(2, len(rest)) if re.fullmatch(PREP, rest[j].lower()) or rest[j].lower() in AUX
                or rest[j].lower() in PRONOUNS or rest[j].islower() and j + 1 < len(rest)
                and rest[j + 1].lower() in DETERMINERS), len(rest))
    return " ".join([phrase, *rest[:end]])


_IRREGULAR_PARTICIPLES = frozenset(["held", "built", "made", "done", "set", "won", "lost", "kept", "found", "sent",
                                    "shot", "hit", "run", "put", "given", "taken", "seen", "signed", "brought", "led",
                                    "fought", "begun", "cut", "paid", "sold", "told", "struck", "chosen", "written",
                                    "met", "left", "bought", "caught", "taught", "thought", "spent", "heard", "lent",
                                    "dealt", "fed", "fled", "sought", "understood", "read", "spread", "shut"])


def participle(token: str) -> bool:
    """A past participle by its form ("held", "launched", "taken")."""
    low = token.lower()
    return low in _IRREGULAR_PARTICIPLES or (low.endswith(("ed", "en")) and len(low) > 4)


# past participles that differ from the past tense; a regular past ("opposed") or one in _IRREGULAR_PARTICIPLES
# ("sent", "led") is its own participle
_PARTICIPLE_OF = {"took": "taken", "gave": "given", "wrote": "written", "saw": "seen", "began": "begun",
                  "chose": "chosen", "spoke": "spoken", "broke": "broken", "drove": "driven", "knew": "known",
                  "grew": "grown", "threw": "thrown", "stole": "stolen", "fell": "fallen", "did": "done",
                  "drew": "drawn", "flew": "flown", "showed": "shown", "hid": "hidden", "rode": "ridden",
                  "shook": "shaken", "wore": "worn", "tore": "torn", "froze": "frozen", "forgot": "forgotten"}


def past_participle(verb: str) -> str | None:
    """The participle of a verb in the past tense ("opposed", "sent", "took" -> "taken"); None for another form."""
    low = verb.lower()
    if low in _PARTICIPLE_OF:
        return _PARTICIPLE_OF[low]
    return low if low.endswith("ed") or low in _IRREGULAR_PARTICIPLES else None
