"""Query: one object per question from retrieval to the answer, with what retrieval, the reader and the confidence
model each use."""

from __future__ import annotations

import numpy as np

from qa.question import Query
from qa.service import QAService


def test_a_query_holds_the_terms_names_and_vector_of_its_text() -> None:
    vector = np.array([0.6, 0.8], dtype=np.float32)
    q = Query.of("Where did Milley meet Gerasimov in 2021?", vector)
    assert (q.text, q.reader_text) == ("Where did Milley meet Gerasimov in 2021?",) * 2
    assert q.terms == ("milley", "meet", "gerasimov", "2021")
    assert q.entities == ("milley", "gerasimov", "2021")
    assert q.vector is vector


def test_a_follow_up_is_searched_completed_and_read_as_written() -> None:
    q = Query.of("For how long? (following up on: How long did they talk?)", np.zeros(2), "For how long?")
    assert q.reader_text == "For how long?"
    assert q.terms == ("long", "follow", "long", "talk")  # retrieval ranks with the completed question


def test_the_retriever_encodes_each_question_once_for_all_stages(seed_service: QAService) -> None:
    questions = ["Where did Milley meet Gerasimov?", "Which port did the US patrol boats reach?"]
    queries = seed_service.retriever.queries(questions, ["Where?", "Which port?"])
    assert [q.reader_text for q in queries] == ["Where?", "Which port?"]
    assert np.array_equal(np.vstack([q.vector for q in queries]), seed_service.encoder.encode(questions))
    snap = seed_service.store.snapshot
    assert seed_service.retriever.search_batch(snap, queries, 5) == [
        seed_service.retriever.search(snap, q, 5) for q in questions]
