"""Event questions ("What happened on Tuesday?"): detection, and answers on the real seed index and on two small
articles published a week apart, with exact sentences, offsets, dates and reasons."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from api.routes.openai_compat import answer_text
from index.documents import Document
from index.embedder import Embedder
from index.filters import Filters
from index.store import IndexStore
from qa.config import Settings
from qa.events import event_question
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
PATROL_DOC = "003_15bbf54440315bf5"
TUESDAY_Q = "What happened on Tuesday?"
GENERALS = ("Top generals from Russia and the United States spoke over the phone on Tuesday, Russia's Defense Ministry "
            "said, amid Western fears that Moscow might be plotting to invade neighboring Ukraine.")
PATROL = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern port of "
          "Odessa.")
PESKOV = ("Kremlin spokesman Dmitry Peskov said on Tuesday that any US moves to send more hardware and military "
          "advisers to Ukraine would only raise tensions further.")
SHOIGU = ("On Tuesday, Russia's Defense Minister Sergei Shoigu accused Washington of sending its bombers to practice a "
          "nuclear strike on Russia — from the east and the west — during its \"Global Thunder\" military exercises.")
DONE_WHEN = Filters(since=date(2021, 11, 1), source="themoscowtimes")

# Two articles a week apart: "On Tuesday" in one (2021-11-16), "yesterday" and "On Monday" in the other, published
# on Wednesday 2021-11-24 (2021-11-23 and 2021-11-22).
FERRY = "On Tuesday, the ferry Aurora ran aground at the mouth of the harbour."
BRIDGE = "The town council approved the new harbour bridge yesterday after a long debate."
MARKET = "On Monday, the fish market reopened after repairs to its roof."
HARBOUR_DOCS = [
    Document("harbour_ferry", "Ferry runs aground", f"Ferry runs aground\n\n{FERRY} Nobody was hurt, and the "
             "coastguard towed the ship back to its berth.", published="2021-11-17"),
    Document("harbour_bridge", "Council approves bridge", f"Council approves bridge\n\n{BRIDGE} Building starts in "
             f"spring. {MARKET}", published="2021-11-24"),
]


@pytest.mark.parametrize(("question", "phrase"), [
    ("What happened on Tuesday?", "on Tuesday"),
    ("What happened last week?", "last week"),
    ("what happened yesterday", "yesterday"),
    ("What took place on Monday?", "on Monday"),
    ("What was going on on Friday?", "on Friday"),
    ("What's new today?", "today"),
    ("What happened last Tuesday?", "last Tuesday"),
])
def test_questions_naming_only_a_time_are_event_questions(question: str, phrase: str) -> None:
    event = event_question(question, date(2021, 11, 25))
    assert event is not None and event.phrase == phrase


@pytest.mark.parametrize("question", [
    "What did Shoigu accuse Washington of on Tuesday?",
    "Who spoke on Tuesday?",
    "What happened to the patrol boats on Tuesday?",
    "When did the boats arrive?",
    "What happened?",
    "What happened on Monday and Tuesday?",  # two times: the reader's question
])
def test_questions_with_content_go_to_the_reader(question: str) -> None:
    assert event_question(question, date(2021, 11, 25)) is None


def test_a_weekday_means_any_such_day_and_a_relative_phrase_the_period_around_today() -> None:
    today = date(2021, 11, 25)  # a Thursday
    tuesday, last_week = event_question("What happened last Tuesday?", today), event_question("What happened last "
                                                                                               "week?", today)
    assert tuesday is not None and (tuesday.weekday, tuesday.period, tuesday.when) == (1, None, "on Tuesday")
    assert [tuesday.matches(d) for d in ("2021-11-23", "2021-11-16", "2021-11-24", "2021-11-22/2021-11-28")] == [
        True, True, False, False]
    assert last_week is not None and last_week.when == "last week (2021-11-15/2021-11-21)"
    assert [last_week.matches(d) for d in ("2021-11-15", "2021-11-21", "2021-11-15/2021-11-21", "2021-11-22",
                                           "2021-11")] == [True, True, True, False, False]


def test_the_done_when_question_answers_the_generals_sentence(seed_service: QAService) -> None:
    answer = seed_service.ask(TUESDAY_Q, filters=DONE_WHEN)
    text = seed_service.document(PATROL_DOC).doc.text
    start = text.index(GENERALS)
    assert (answer.question, answer.answer, answer.confidence, answer.abstain_reason) == (TUESDAY_Q, GENERALS, 1.0,
                                                                                          None)
    first = answer.citations[0]
    assert (first.doc_id, first.start, first.end, first.quote) == (PATROL_DOC, start, start + len(GENERALS), GENERALS)
    assert first.highlight is not None and (first.highlight.start, first.highlight.end) == (first.start, first.end)
    assert text[first.start:first.end] == GENERALS
    assert [c.quote for c in answer.citations] == [GENERALS, PATROL, PESKOV, SHOIGU]  # article order
    for c in answer.citations:
        assert text[c.start:c.end] == c.quote
        assert [(d.text, d.date) for d in c.dates] in ([("on Tuesday", "2021-11-23")], [("On Tuesday", "2021-11-23")])
    assert answer.passages and all(p.doc_id == PATROL_DOC for p in answer.passages)


def test_nothing_allowed_by_the_filters_says_no_article_matches(seed_service: QAService) -> None:
    answer = seed_service.ask(TUESDAY_Q, filters=Filters(since=date(2021, 11, 1), until=date(2021, 11, 1),
                                                         source="themoscowtimes"))
    assert (answer.answer, answer.citations, answer.passages, answer.abstain_reason) == (
        None, [], [], "no article matches the filters (since 2021-11-01, until 2021-11-01, source themoscowtimes)")
    alone = seed_service.ask(TUESDAY_Q, filters=Filters(until=date(2021, 11, 1)))
    assert (alone.answer, alone.abstain_reason) == (None, "no article matches the filters (until 2021-11-01)")


def test_a_day_no_sentence_reports_abstains_with_the_passages(seed_service: QAService) -> None:
    answer = seed_service.ask("What happened on Friday?", filters=DONE_WHEN)
    assert (answer.answer, answer.citations, answer.abstain_reason) == (None, [], "no article reports anything "
                                                                                  "on Friday")
    assert answer.confidence == 1.0  # the article's 9 passages were all scanned
    assert len(answer.passages) == 5 and {p.doc_id for p in answer.passages} == {PATROL_DOC}


def test_a_batch_mixes_event_and_reader_questions(seed_service: QAService) -> None:
    meet = "Where did Milley meet Gerasimov?"
    event, read = seed_service.ask_batch([TUESDAY_Q, meet], filters=DONE_WHEN)
    assert event.answer == GENERALS
    assert read == seed_service.ask(meet, filters=DONE_WHEN)


def test_a_chat_follow_up_naming_only_a_time_is_a_fresh_question(seed_service: QAService) -> None:
    answer = seed_service.chat([("user", "Where did Milley meet Gerasimov?"), ("assistant", "Finland"),
                                ("user", TUESDAY_Q)], filters=DONE_WHEN)
    assert (answer.question, answer.answer) == (TUESDAY_Q, GENERALS)
    assert answer_text(answer) == f"{GENERALS} [1][2][3][4]"  # the OpenAI content: the sentence once


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder,
            seed_service: QAService) -> Iterator[QAService]:
    """A service over the two harbour articles alone, sharing the session's reader (tests must not write)."""
    index_dir = tmp_path_factory.mktemp("events") / "index"
    service = QAService(IndexStore.open(index_dir, embedder, create=True), Settings(index_dir=index_dir,
                        seeds_dir=SEEDS), reader=seed_service.reader)
    service.add_documents(HARBOUR_DOCS)
    yield service
    service.jobs.close(60)


def _with_today(service: QAService, today: date) -> QAService:
    """The same index, reader and settings with a fixed clock."""
    return QAService(service.store, service.settings, reader=service.reader, today=lambda: today)


def test_two_tuesdays_abstain_naming_both_dates(harbour: QAService) -> None:
    answer = harbour.ask(TUESDAY_Q)
    assert (answer.answer, answer.citations, answer.confidence, answer.abstain_reason) == (
        None, [], 0.5, "'on Tuesday' matches several dates in the articles: 2021-11-23, 2021-11-16; narrow it with "
        "since/until")
    assert {p.doc_id for p in answer.passages} == {"harbour_ferry", "harbour_bridge"}


def test_since_or_until_narrow_two_tuesdays_to_one(harbour: QAService) -> None:
    later = harbour.ask(TUESDAY_Q, filters=Filters(since=date(2021, 11, 20)))
    assert (later.answer, later.confidence) == (BRIDGE, 1.0)  # "yesterday" in a Wednesday article is a Tuesday
    assert [[(d.text, d.date) for d in c.dates] for c in later.citations] == [[("yesterday", "2021-11-23")]]
    earlier = harbour.ask(TUESDAY_Q, filters=Filters(until=date(2021, 11, 20)))
    assert (earlier.answer, [c.doc_id for c in earlier.citations]) == (FERRY, ["harbour_ferry"])
    assert [[(d.text, d.date) for d in c.dates] for c in earlier.citations] == [[("On Tuesday", "2021-11-16")]]


def test_yesterday_is_the_day_before_the_clock_date(harbour: QAService) -> None:
    bridge = _with_today(harbour, date(2021, 11, 24)).ask("What happened yesterday?")
    assert (bridge.answer, bridge.confidence, [c.doc_id for c in bridge.citations]) == (BRIDGE, 1.0,
                                                                                         ["harbour_bridge"])
    ferry = _with_today(harbour, date(2021, 11, 17)).ask("What happened yesterday?")
    assert (ferry.answer, [c.dates[0].date for c in ferry.citations]) == (FERRY, ["2021-11-16"])
    nothing = _with_today(harbour, date(2021, 11, 20)).ask("What happened yesterday?")
    assert (nothing.answer, nothing.abstain_reason) == (None, "no article reports anything yesterday (2021-11-19)")


def test_a_period_answers_its_most_recent_day(harbour: QAService) -> None:
    answer = _with_today(harbour, date(2021, 11, 29)).ask("What happened last week?")  # 2021-11-22 to 2021-11-28
    # Monday's market and Tuesday's bridge both fall in it: the later day wins; half the matches are on it
    assert (answer.answer, answer.confidence, [c.quote for c in answer.citations]) == (BRIDGE, 0.5, [BRIDGE])
