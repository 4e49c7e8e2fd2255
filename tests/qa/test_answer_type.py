"""Answer-type agreement: the kind of span a question asks for, and spans of another kind refused."""

from __future__ import annotations

import pytest

from qa.answer_type import (
    KIND_NOUNS,
    KINDS,
    agrees,
    count_span,
    counted_noun,
    expected_kind,
    may_hold,
    names_question_subject,
)
from qa.service import QAService


@pytest.mark.parametrize(
    ("question", "kind"),
    [("How many children were vaccinated?", "number"), ("How much did it cost?", "number"),
     ("In what year did the US leave Manas?", "year"), ("How long did the meeting last?", "duration"),
     ("How long ago was it?", None), ("In which country is Al Udeid?", "country"),
     ("Which country's army fought?", None), ("Which city hosted the summit?", "city"),
     ("Who speaks for the Kremlin?", "person"), ("From whom did Ukraine seek aid?", "person"),
     ("And where?", "place"), ("What did he say?", None),
     # the clause that asks decides, not a "how many" inside another clause
     ("Since NASA didn't know how many attempts it needed, what did they use?", None),
     ("According to the text, how much money was raised?", "number"),
     ("How long has Radio Tyneside been on air?", "duration_since"),
     ("On which day did Milley meet Gerasimov?", "day"), ("What day of the week was Media Day held on?", "day"),
     ("What time did the Helsinki meeting start?", "time"), ("At what time did the call begin?", "time"),
     ("What time period does the report cover?", None), ("What time of year is the festival?", None)],
)
def test_expected_kind(question: str, kind: str | None) -> None:
    assert expected_kind(question) == kind


@pytest.mark.parametrize(
    ("kind", "span", "ok"),
    [("country", "Kabul", False), ("country", "Qatar", True), ("country", "the US", True),
     ("country", "Russia’s", True), ("country", "Iran", True), ("duration", "2019", False),
     ("duration", "six hours", True), ("duration", "over the weekend", False), ("number", "five", True),
     ("number", "1.4 million", True), ("number", "in June 2021", False), ("number", "the ministry", False),
     ("year", "June", False), ("year", "in 2014", True), ("city", "Finland", False), ("city", "Singapore", True),
     ("city", "Helsinki", True), ("place", "Wednesday", False), ("person", "2014", False),
     ("person", "Dmitry Peskov", True), (None, "2019", True),
     # what SQuAD answers such questions with: ordinals, "none", a bare count, centuries, adjectives, "since"
     ("number", "seventh", True), ("number", "None", True), ("number", "2000", True), ("year", "17th", True),
     ("year", "2nd century BCE", True), ("country", "British", True), ("country", "French", True),
     ("country", "Paris", False), ("duration_since", "1951", True), ("duration_since", "since 1951", True),
     ("duration", "1951", False),
     # a day: its name or date, never a bare year or a place
     ("day", "Wednesday", True), ("day", "February 7, 2016", True), ("day", "Christmas Eve", True),
     ("day", "2019", False), ("day", "Helsinki", False),
     # a time of day: a clock time or a part of the day, never only a day, a year or a length of time
     ("time", "10:30", True), ("time", "9 a.m.", True), ("time", "Tuesday evening", True), ("time", "noon", True),
     ("time", "Wednesday", False), ("time", "2019", False), ("time", "six hours", False)],
)
def test_agrees(kind: str | None, span: str, ok: bool) -> None:
    assert agrees(kind, span) is ok


VACCINES = "More than 1.4 million children under five were vaccinated in the campaign, the ministry said."
UDEID = ("The US can fly into Afghanistan from the Al Udeid airbase in Qatar, where the US military has about 10,000 "
         "service personnel.")


def test_a_count_is_the_quantity_before_the_counted_noun() -> None:
    assert counted_noun("How many service personnel does the US have?") == "personnel"
    assert counted_noun("How many health workers took part?") == "workers"
    assert counted_noun("Who took part?") is None
    five = VACCINES.index("five")
    assert count_span("How many children were vaccinated?", VACCINES, five, five + 4) == (0, 21)
    assert VACCINES[0:21] == "More than 1.4 million"
    # a span already inside the quantity stays as read
    start = UDEID.index("10,000")
    assert count_span("How many service personnel are there?", UDEID, start, start + 6) == (start, start + 6)
    # no "how many": unchanged
    assert count_span("Who was vaccinated?", VACCINES, five, five + 4) == (five, five + 4)


def test_a_who_answer_is_not_the_name_the_question_gives() -> None:
    sentence = "The top US military leader, Joint Chiefs Chair General Mark Milley, met with his Russian counterpart."
    start = sentence.index("General Mark")
    assert names_question_subject("Who replaced Milley as chairman?", sentence, start, start + 12)
    assert not names_question_subject("Who is Milley?", sentence, start, start + 12)
    shoigu = "On Tuesday, Russia's Defense Minister Sergei Shoigu accused Washington."
    start = shoigu.index("Sergei")
    assert not names_question_subject("Who accused Washington of rehearsing a strike on Russia?", shoigu, start,
                                      start + 13)


def test_a_sentence_is_read_first_when_it_may_hold_the_kind_asked() -> None:
    assert may_hold("duration", "Milley meets Gerasimov in Finland for six hours.")
    assert may_hold("duration", "The talks took more than a decade.")
    assert not may_hold("duration", "Milley met Gerasimov in Helsinki on Wednesday.")
    assert may_hold("year", "Mayow and Boyle experimented in the 17th century.")
    assert not may_hold("year", "Milley met Gerasimov in Helsinki on Wednesday.")
    assert may_hold("day", "Milley met Gerasimov in Helsinki on Wednesday.")
    assert not may_hold("day", "Milley and Gerasimov had previously met in 2019.")
    assert may_hold("country", UDEID)
    assert may_hold(None, "anything")


def test_a_day_is_answered_with_a_day_never_with_a_year(seed_service: QAService) -> None:
    assert seed_service.ask("On what day did the Russian and US generals talk on the phone?").answer == "Tuesday"
    # the reader is surest of "2019" (an earlier meeting's year); the day of the Helsinki talks is read too
    answer = seed_service.ask("On which day did Milley meet Gerasimov?")
    assert answer.answer in (None, "Wednesday")
    assert "Wednesday" in [c.highlight.text for c in [*answer.citations, *answer.closest] if c.highlight]


def test_refusing_a_span_of_the_wrong_kind_says_so(seed_service: QAService) -> None:
    # the reader is sure of "Wednesday" (0.74) in the sentence of the meeting, which names no time of day
    answer = seed_service.ask("What time did the Helsinki meeting start?")
    refusal = 'the best-supported span, "Wednesday", is not a time of day'
    assert (answer.answer, answer.abstain_reason) == (None, refusal)
    assert [c.highlight.text for c in answer.closest if c.highlight][:1] == ["Wednesday"]
    assert answer.confidence == round(1 - answer.closest[0].score, 4)
    # asked for the day, the same span is the answer
    assert seed_service.ask("On what day of the week did Milley meet Gerasimov?").answer == "Wednesday"


def test_every_kind_has_a_name_for_refusals() -> None:
    assert set(KIND_NOUNS) == {kind for _, kind in KINDS}
