"""Follow-ups rewritten into standalone questions from the earlier question and its answer (qa.followup rules)."""

from __future__ import annotations

import pytest

from qa.conversation import last_answer, resolve_turn
from qa.followup import Parsed, event_phrase, parse


def _turns(*texts: str) -> list[tuple[str, str]]:
    """Alternating user and assistant turns, the user first."""
    return [("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # a question word alone asks the earlier question again, completed by its answer
        (("When did they first meet?", "2019", "And where?"), "Where did they first meet in 2019?"),
        (("Where did Milley meet Gerasimov?", "Helsinki", "And when?"), "When did Milley meet Gerasimov in Helsinki?"),
        (("What did Ukraine say it was seeking?", "more military aid", "From whom?"),
         "From whom did Ukraine say it was seeking more military aid?"),
        # the earlier question phrase was the subject: the answer takes its place, with "did"
        (("Who sent the patrol boats to Ukraine?", "the United States", "When?"),
         "When did the United States send the patrol boats to Ukraine?"),
        # "it" is the event of an earlier where / when question ...
        (("Where was the meeting held?", "Helsinki", "How long did it last?"),
         "How long did the meeting in Helsinki last?"),
        (("Where was the meeting held?", "Not found in the articles.", "How long did it last?"),
         "How long did the meeting last?"),
        # ... the answer of an earlier what / which question, or its named subject when "it" is the subject
        (("Which base did the US use in Kyrgyzstan?", "Manas", "When did the Americans have to vacate it?"),
         "When did the Americans have to vacate Manas?"),
        (("What was Ukraine seeking from Western allies?", "more military aid", "When did it say so?"),
         "When did Ukraine say so?"),
        # "there" is the earlier answer's place, "they" the earlier plural subject
        (("Where did Milley and Gerasimov meet?", "Helsinki", "What did they discuss there?"),
         "What did Milley and Gerasimov discuss in Helsinki?"),
        (("Which country hosted the talks?", "Finland", "How long did they last?"), "How long did the talks last?"),
        # "them" after "how many turbines" is the turbines; "it" after a how-much question its subject
        (("How many turbines will the Gull Bank wind farm have?", "62", "How tall is each of them?"),
         "How tall is each of the turbines?"),
        (("How much will the Kestrel Bay bridge cost?", "85 million euros", "Who will pay half of it?"),
         "Who will pay half of the Kestrel Bay bridge?"),
        (("When did the council vote to build a bridge?", "Monday", "By how many votes?"),
         "By how many votes did the council vote to build a bridge on Monday?"),
        # another name asks the earlier question of it
        (("Where did Milley and Gerasimov meet?", "Helsinki", "What about Biden and Putin?"),
         "Where did Biden and Putin meet?"),
    ],
)
def test_a_follow_up_becomes_a_standalone_question(texts: tuple[str, ...], expected: str) -> None:
    assert resolve_turn(_turns(*texts)).question == expected


def test_a_rewrite_starts_from_the_earlier_turn_not_from_a_quoted_pair() -> None:
    # "Who is the Kremlin spokesman?" after an unrelated question is resolved by quoting that question; the next
    # follow-up starts from the spokesman question alone
    messages = _turns("How long did the meeting last?", "Not found in the articles.", "Who is the Kremlin spokesman?",
                      "Dmitry Peskov", "When did he say it?")
    assert resolve_turn(messages).question == "When did Dmitry Peskov say it?"
    assert parse("Who is it? How long did it last?") is None


def test_the_done_when_follow_up_names_the_meeting_its_parties_and_place() -> None:
    messages = _turns("Where did Milley and Gerasimov meet?", "Helsinki", "How long did it last?")
    assert resolve_turn(messages).question == "How long did the meeting between Milley and Gerasimov in Helsinki last?"


def test_parse_splits_the_question_phrase_from_the_body() -> None:
    assert parse("How many children were vaccinated?") == Parsed("How many children", "how", "were vaccinated", True)
    assert parse("In which country is Al Udeid?") == Parsed("In which country", "which", "is Al Udeid", True)
    assert parse("Who sent the boats?") == Parsed("Who", "who", "sent the boats", False)
    assert parse("Milley met Gerasimov.") is None


def test_an_event_is_named_only_for_a_verb_it_knows() -> None:
    assert event_phrase(parse("Where did Milley meet Gerasimov?"), "Helsinki") == (  # type: ignore[arg-type]
        "the meeting between Milley and Gerasimov in Helsinki")
    assert event_phrase(parse("Where did Milley fly?"), "Helsinki") is None  # type: ignore[arg-type]
    # "Who is the Kremlin spokesman?" names no event: "spokesman" is no participle
    assert event_phrase(parse("Who is the Kremlin spokesman?"), "Dmitry Peskov") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("Helsinki", "Helsinki"), ("In Helsinki, on Wednesday.", "In Helsinki, on Wednesday"),
     ("Not found in the articles: they do not contain an answer to this question.", None)],
)
def test_last_answer_is_the_span_of_the_reply_or_none(reply: str, expected: str | None) -> None:
    assert last_answer(_turns("Where did they meet?", reply, "And when?")) == expected
