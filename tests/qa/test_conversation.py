"""Follow-up questions become readable standalone questions built from the earlier question and its answer (or, when
no rule applies, the previous turn quoted)."""

from __future__ import annotations

import pytest

from index.errors import InvalidInputError
from qa.conversation import Turn, leans_on_context, needs_context, resolve_turn
from qa.service import QAService

MILLEY_DOC = "000_674862a2fea0ee51"
PATROL_DOC = "003_15bbf54440315bf5"
FIRST = ("user", "Where did Milley meet Gerasimov?")
REPLY = ("assistant", "In Helsinki, on Wednesday.")


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([("user", "  Where did Milley meet Gerasimov?  ")], "Where did Milley meet Gerasimov?"),
        # a personal pronoun becomes the first person the previous turn named that the follow-up does not use
        ([FIRST, REPLY, ("user", "What did he say?")], "What did Milley say?"),
        ([FIRST, REPLY, ("user", "What is his job?")], "What is Milley's job?"),
        ([FIRST, ("user", "When did Milley meet him?")], "When did Milley meet Gerasimov?"),
        # "it" after a question about an event is that event, completed by the answer
        ([FIRST, REPLY, ("user", "How long did it last?")],
         "How long did the meeting between Milley and Gerasimov in Helsinki last?"),
        # another name asks the same question of it
        ([FIRST, REPLY, ("user", "And Shoigu?")], "Where did Shoigu meet Gerasimov?"),
        ([FIRST, REPLY, ("user", "what about Peskov?")], "Where did Peskov meet Gerasimov?"),
        # "them" is the earlier question's plural subject
        ([("user", "Which port did the American patrol boats reach?"), ("user", "Who sent them?")],
         "Who sent the American patrol boats?"),
        # nothing to fill the pronoun with: the previous question is quoted after the follow-up, still readable
        ([("user", "Who spoke on the phone in November?"), ("user", "How long did it last?")],
         "How long did it last? (following up on: Who spoke on the phone in November?)"),
        # a follow-up that stands alone is left as it is
        ([FIRST, REPLY, ("user", "Which Russian ministry confirmed a phone call?")],
         "Which Russian ministry confirmed a phone call?"),
        # blank user turns and assistant turns carry nothing
        ([("user", "   "), ("assistant", "Milley Gerasimov"), ("user", "Why?")], "Why?"),
    ],
)
def test_the_resolved_question_reads_on_its_own(messages: list[tuple[str, str]], expected: str) -> None:
    assert resolve_turn(messages).question == expected


@pytest.mark.parametrize("messages", [[], [("assistant", "hello")], [("user", " \n\t")]])
def test_no_user_message_is_rejected(messages: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInputError) as err:
        resolve_turn(messages)
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


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did the generals discuss, according to it?", True),  # a pronoun
        ("And where?", True),  # a question phrase alone
        ("During which exercises?", True),
        ("What happened?", True),  # no content word
        ("Who is Shoigu?", False),  # may start a new topic
        ("How long did the campaign last?", False),
    ],
)
def test_leans_on_context(question: str, expected: bool) -> None:
    assert leans_on_context(question) is expected


def _chat(service: QAService, first: str, first_answer: str, follow_up: str) -> tuple[str, str | None, list[str]]:
    answer = service.chat([("user", first), ("assistant", first_answer), ("user", follow_up)])
    return answer.question, answer.answer, [c.doc_id for c in answer.citations]


def test_a_turn_that_leans_on_the_conversation_is_answered_from_the_resolved_question(seed_service: QAService) -> None:
    # read alone, "according to it" is answered from the phone-call article ("current questions of international
    # security", 0.60); the resolved question is read instead: it finds the Helsinki talks RIA Novosti reported on,
    # whose "issues of mutual interest" stays under the threshold with the shipped reader (0.39), so the turn abstains
    # rather than answer from the wrong article; named, the generals' talks are answered from the right one
    first = "Which Russian news service reported on the Helsinki talks?"
    assert seed_service.chat([("user", first)]).answer == "RIA Novosti"
    turn = "What did the generals discuss, according to it?"
    assert seed_service.chat([("user", turn)]).answer == "current questions of international security"
    assert _chat(seed_service, first, "RIA Novosti", turn) == (
        "What did the generals discuss, according to RIA Novosti?", None, [])
    assert _chat(seed_service, first, "RIA Novosti", "What did Milley and Gerasimov discuss, according to it?") == (
        "What did Milley and Gerasimov discuss, according to RIA Novosti?", "issues of mutual interest", [MILLEY_DOC])
    # the same turn without the pronoun is a question of its own, read alone
    assert _chat(seed_service, first, "RIA Novosti", "What did the generals discuss?") == (
        "What did the generals discuss?", "current questions of international security", [PATROL_DOC])


def test_the_turn_alone_answers_when_the_resolved_question_abstains(seed_service: QAService) -> None:
    # a wrong earlier answer (Peskov accused nobody) makes the rewrite unanswerable; the turn as written is answered
    # from the article the rewrite retrieves first
    assert _chat(seed_service, "Who is the Kremlin spokesman?", "Dmitry Peskov",
                 "How many flights did he say they made?") == (
        "How many flights did he say they made?", "30", [PATROL_DOC])


def test_a_turn_that_names_its_own_topic_keeps_the_best_supported_answer(seed_service: QAService) -> None:
    assert _chat(seed_service, "Where did Milley and Gerasimov meet?", "Finland", "Who is Shoigu?") == (
        "Who is Shoigu?", "Defense Minister", [PATROL_DOC])


def test_an_object_answer_takes_the_object_s_place(seed_service: QAService) -> None:
    question, _, cited = _chat(seed_service, "Which airbase did the US lease in Uzbekistan?", "K2", "Until when?")
    assert (question, cited) == ("Until when did the US lease K2 in Uzbekistan?", [MILLEY_DOC])


@pytest.mark.xfail(strict=True, reason='reader d8adf58cabb6 answers "after the Afghanistan war began" (the other core '
                   'of its span, "2005", is a little less likely)')
def test_until_when_is_answered_with_the_year_alone(seed_service: QAService) -> None:
    assert _chat(seed_service, "Which airbase did the US lease in Uzbekistan?", "K2", "Until when?")[1] == "2005"


def test_who_asks_for_the_subject(seed_service: QAService) -> None:
    assert _chat(seed_service, "Which Russian news service reported on the Helsinki talks?", "RIA Novosti",
                 "And who?") == ("Who reported on the Helsinki talks?", "RIA Novosti", [MILLEY_DOC])


def _conversation(service: QAService, *turns: str) -> list[tuple[str, str | None, list[tuple[str, int, int]]]]:
    """Each turn asked after the earlier ones and the service's own answers: (resolved question, answer, citations)."""
    messages: list[tuple[str, str]] = []
    got = []
    for turn in turns:
        messages.append(("user", turn))
        answer = service.chat(messages)
        got.append((answer.question, answer.answer, [(c.doc_id, c.start, c.end) for c in answer.citations]))
        messages.append(("assistant", answer.answer or "Not found in the articles."))
    return got


def test_there_and_it_are_the_airbase_a_which_question_found(seed_service: QAService) -> None:
    got = _conversation(seed_service, "Which airbase in Qatar can the US use to reach Afghanistan?",
                        "About how many US service personnel are there?", "What did it serve as last month?")
    assert got == [
        ("Which airbase in Qatar can the US use to reach Afghanistan?", "Al Udeid airbase",
         [(MILLEY_DOC, 2488, 2613)]),
        ("About how many US service personnel are at Al Udeid airbase?", "10,000", [(MILLEY_DOC, 2488, 2613)]),
        ("What did Al Udeid airbase serve as last month?",
         "a hub for the emergency evacuation of US citizens and Afghans", [(MILLEY_DOC, 2614, 2717)]),
    ]


def test_said_that_asks_the_earlier_question_again_so_such_a_deployment_keeps_its_topic(
        seed_service: QAService) -> None:
    got = _conversation(seed_service,
                        "Which Russian deputy foreign minister warned against US troops in Afghanistan's neighbours?",
                        "When did he say that?", "What word did he use for such a deployment?")
    assert got == [
        ("Which Russian deputy foreign minister warned against US troops in Afghanistan's neighbours?",
         "Sergey Ryabkov", [(MILLEY_DOC, 3383, 3594)]),
        ("When did Sergey Ryabkov warn against US troops in Afghanistan's neighbours?", "July",
         [(MILLEY_DOC, 3383, 3594)]),
        ("What word did Sergey Ryabkov use for such a deployment of US troops in Afghanistan's neighbours?",
         "unacceptable", [(MILLEY_DOC, 3383, 3594)]),
    ]


def test_a_pronoun_becomes_the_name_the_last_answer_gave() -> None:
    messages = [("user", "Who is the Kremlin spokesman?"), ("assistant", "Dmitry Peskov"),
                ("user", "What did he say?")]
    assert resolve_turn(messages).question == "What did Dmitry Peskov say?"
    # an answer that is no name (a number, a phrase) leaves the question's own names to choose from
    messages = [("user", "How long did Milley talk to Gerasimov?"), ("assistant", "six hours"),
                ("user", "Where did he fly next?")]
    assert resolve_turn(messages).question == "Where did Milley fly next?"


def test_a_chain_of_follow_ups_keeps_its_topic() -> None:
    messages = [("user", "Which base in Kyrgyzstan did the US use?"), ("assistant", "Manas"),
                ("user", "When did the Americans have to vacate it?"), ("assistant", "2014"),
                ("user", "Under whose pressure?")]
    assert resolve_turn(messages) == Turn("Under whose pressure did the Americans have to vacate Manas in 2014?",
                                          "Under whose pressure did the Americans have to vacate Manas in 2014?")


def test_a_date_answer_is_no_person_and_a_resolved_name_carries_over() -> None:
    messages = [("user", "Which Russian deputy minister warned the US?"), ("assistant", "Sergey Ryabkov"),
                ("user", "When did he say that?"), ("assistant", "July"),
                ("user", "What word did he use?")]
    # "that" is what the earlier question said he did
    assert resolve_turn(messages[:3]) == Turn("When did Sergey Ryabkov warn the US?",
                                              "When did Sergey Ryabkov warn the US?")
    # "July" answered the turn before; "he" is still the minister, whole name kept
    assert resolve_turn(messages) == Turn("What word did Sergey Ryabkov use?", "What word did Sergey Ryabkov use?")


def test_a_name_that_answered_a_circumstance_is_no_person() -> None:
    messages = [("user", "Who accused Washington of rehearsing a nuclear strike on Russia?"),
                ("assistant", "Sergei Shoigu"), ("user", "During which exercises?"), ("assistant", "Global Thunder"),
                ("user", "How many flights near Russia did he say the bombers made this month?")]
    assert resolve_turn(messages).question == (
        "How many flights near Russia did Sergei Shoigu say the bombers made this month?")


def test_they_is_not_the_person_he_is() -> None:
    messages = [("user", "Who accused Washington of rehearsing a nuclear strike on Russia?"),
                ("assistant", "Sergei Shoigu"), ("user", "How many flights did he say they made?")]
    assert resolve_turn(messages) == Turn("How many flights did Sergei Shoigu say they made?",
                                          "How many flights did Sergei Shoigu say they made?")

