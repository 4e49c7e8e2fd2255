"""Follow-up questions become standalone questions by carrying earlier subjects forward."""

from __future__ import annotations

import pytest

from index.errors import InvalidInputError
from qa.conversation import CONTEXT_TURNS, needs_context, standalone_question

FIRST = ("user", "Where did Milley meet Gerasimov?")
REPLY = ("assistant", "In Helsinki, on Wednesday.")


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([("user", "  Where did Milley meet Gerasimov?  ")], "Where did Milley meet Gerasimov?"),
        ([FIRST, REPLY, ("user", "How long did it last?")], "How long did it last (Milley meet Gerasimov)?"),
        ([FIRST, REPLY, ("user", "What did he say?")], "What did he say (Milley meet Gerasimov)?"),
        ([FIRST, REPLY, ("user", "And Shoigu?")], "And Shoigu (Milley meet Gerasimov)?"),
        # words already in the follow-up are not repeated
        ([FIRST, ("user", "When did Milley meet him?")], "When did Milley meet him (Gerasimov)?"),
        # up to two earlier user turns, the latest first
        ([("user", "Who spoke on the phone in November?"), FIRST, ("user", "what about Peskov?")],
         "what about Peskov (Milley meet Gerasimov; spoke phone November)?"),
        ([("user", "Alpha?"), ("user", "Bravo?"), ("user", "Charlie?"), ("user", "when?")], "when (Charlie; Bravo)?"),
        # a follow-up that stands alone is left as it is
        ([FIRST, REPLY, ("user", "Which Russian ministry confirmed a phone call?")],
         "Which Russian ministry confirmed a phone call?"),
        # blank user turns and assistant turns carry nothing
        ([("user", "   "), ("assistant", "Milley Gerasimov"), ("user", "Why?")], "Why?"),
    ],
)
def test_standalone_question(messages: list[tuple[str, str]], expected: str) -> None:
    assert standalone_question(messages) == expected


def test_context_is_limited_to_two_turns() -> None:
    assert CONTEXT_TURNS == 2


@pytest.mark.parametrize("messages", [[], [("assistant", "hello")], [("user", " \n\t")]])
def test_no_user_message_is_rejected(messages: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInputError) as err:
        standalone_question(messages)
    assert str(err.value) == "messages must contain at least one non-empty 'user' message"
    assert err.value.status_code == 422


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What about Peskov?", True),
        ("also in 2019?", True),
        ("Who said it?", True),
        ("Where did Milley meet Gerasimov?", False),
        ("Which Russian ministry confirmed a phone call?", False),
    ],
)
def test_needs_context(question: str, expected: bool) -> None:
    assert needs_context(question) is expected
