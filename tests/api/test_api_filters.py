"""The filters since, until and source over HTTP: POST /ask, POST /chat, GET /search, POST /v1/chat/completions.

The app runs on a copy of the seed index plus the four articles of tests/filter_articles.py, posted through
POST /documents. Assertions are on retrieved doc ids and on messages, never on the reader's answer texts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from filter_articles import ARTICLES, BBC, MILLEY_DOC, MOSCOW_TIMES_DOC, REUTERS, TASS, WIRE

from index.filters import Filters
from qa.models import Answer

MEET_Q = "Where did Milley meet Gerasimov?"
DATED = {TASS, MOSCOW_TIMES_DOC, BBC, REUTERS}
PASSAGES = {MILLEY_DOC: 13, MOSCOW_TIMES_DOC: 8, TASS: 2, BBC: 2, REUTERS: 2, WIRE: 2}


@pytest.fixture
def api(client: TestClient) -> TestClient:
    for article in ARTICLES:
        response = client.post("/documents", json=article)
        assert response.status_code == 201, response.text
    listed = {d["doc_id"]: d["passages"] for d in client.get("/documents").json()}
    assert listed == PASSAGES
    return client


def _service_answer(client: TestClient, question: str, k: int, **filters: str) -> Answer:
    return client.app.state.service.ask(question, k, Filters.parse(**filters))  # type: ignore[attr-defined, no-any-return]


def _doc_ids(passages: list[dict[str, Any]]) -> list[str]:
    return [p["doc_id"] for p in passages]


def test_ask_with_since_answers_from_the_dated_articles_only(api: TestClient) -> None:
    unfiltered = api.post("/ask", json={"question": MEET_Q, "top_k": 5}).json()
    assert Counter(_doc_ids(unfiltered["passages"])) == Counter({MILLEY_DOC: 4, BBC: 1})
    body = api.post("/ask", json={"question": MEET_Q, "top_k": 5, "since": "2021-11-01"}).json()
    assert Counter(_doc_ids(body["passages"])) == Counter({BBC: 1, TASS: 2, REUTERS: 1, MOSCOW_TIMES_DOC: 1})
    assert {c["doc_id"] for c in body["citations"]} <= DATED
    assert Answer.model_validate(body) == _service_answer(api, MEET_Q, 5, since="2021-11-01")


@pytest.mark.parametrize(
    ("params", "allowed"),
    [
        ({"since": "2021-11-24"}, {MOSCOW_TIMES_DOC, BBC, REUTERS}),
        ({"until": "2021-11-24"}, {TASS, MOSCOW_TIMES_DOC, BBC}),
        ({"since": "2021-11-24", "until": "2021-11-24"}, {MOSCOW_TIMES_DOC, BBC}),
        ({"source": "BBC News"}, {BBC}),  # site name
        ({"source": "www.themoscowtimes.com"}, {MOSCOW_TIMES_DOC}),  # host
        ({"source": "themoscowtimes"}, {MOSCOW_TIMES_DOC}),  # host's first label
        ({"source": "com"}, {MOSCOW_TIMES_DOC, TASS, REUTERS}),  # host suffix
        ({"source": "000_"}, {MILLEY_DOC}),  # doc_id prefix
        ({"source": "f4", "until": "2099-01-01"}, set()),  # the wire story has no date
    ],
)
def test_search_returns_every_passage_of_the_allowed_articles_and_no_other(api: TestClient, params: dict[str, str],
                                                                            allowed: set[str]) -> None:
    response = api.get("/search", params={"q": MEET_Q, "k": 50, **params})
    assert response.status_code == 200
    ids = _doc_ids(response.json())
    assert Counter(ids) == Counter({d: PASSAGES[d] for d in allowed})


def test_search_keeps_k_when_the_best_article_is_filtered_out(api: TestClient) -> None:
    assert _doc_ids(api.get("/search", params={"q": MEET_Q, "k": 5}).json()) == [
        MILLEY_DOC, MILLEY_DOC, MILLEY_DOC, BBC, MILLEY_DOC]
    assert _doc_ids(api.get("/search", params={"q": MEET_Q, "k": 5, "since": "2021-11-01"}).json()) == [
        BBC, REUTERS, TASS, TASS, MOSCOW_TIMES_DOC]


def test_chat_takes_the_filters(api: TestClient) -> None:
    messages = [{"role": "user", "content": MEET_Q}, {"role": "assistant", "content": "Helsinki"},
                {"role": "user", "content": "What did he say?"}]
    body = api.post("/chat", json={"messages": messages, "top_k": 5, "source": "reuters"}).json()
    assert _doc_ids(body["passages"]) == [REUTERS, REUTERS]
    assert {c["doc_id"] for c in body["citations"]} <= {REUTERS}


def test_chat_completions_take_the_filters_as_extra_body_fields(api: TestClient) -> None:
    request = {"model": "newsqa", "messages": [{"role": "user", "content": MEET_Q}], "until": "2021-11-23"}
    body = api.post("/v1/chat/completions", json=request).json()
    assert {c["doc_id"] for c in body["citations"]} <= {TASS}
    local = _service_answer(api, MEET_Q, 5, until="2021-11-23")
    assert [c.doc_id for c in local.citations] == [c["doc_id"] for c in body["citations"]]
    none = api.post("/v1/chat/completions", json={**request, "until": "1999-01-01"}).json()
    assert none["citations"] == []
    assert "no article matches the filters (until 1999-01-01)" in none["choices"][0]["message"]["content"]


def test_filters_that_leave_no_article(api: TestClient) -> None:
    body = api.post("/ask", json={"question": MEET_Q, "since": "2030-01-01", "source": "bbc"}).json()
    assert (body["answer"], body["citations"], body["passages"], body["confidence"]) == (None, [], [], 1.0)
    assert body["abstain_reason"] == "no article matches the filters (since 2030-01-01, source bbc)"
    chat = api.post("/chat", json={"messages": [{"role": "user", "content": MEET_Q}], "source": "nytimes.com"}).json()
    assert (chat["answer"], chat["passages"]) == (None, [])
    assert chat["abstain_reason"] == "no article matches the filters (source nytimes.com)"
    response = api.get("/search", params={"q": MEET_Q, "until": "2000-12-31"})
    assert (response.status_code, response.json()) == (200, [])


_BAD = [
    ({"since": "2021-13-01"}, "since must be an ISO date YYYY-MM-DD, got '2021-13-01'"),
    ({"until": "24.11.2021"}, "until must be an ISO date YYYY-MM-DD, got '24.11.2021'"),
    ({"since": "2021-11-31", "until": "2021-12-01"}, "since must be an ISO date YYYY-MM-DD, got '2021-11-31'"),
    ({"since": "2021-12-01", "until": "2021-11-01"}, "since (2021-12-01) is after until (2021-11-01); no date can "
                                                     "match"),
    ({"source": ""}, "source is empty; give a site name, a host name or a doc_id prefix"),
]


@pytest.mark.parametrize(("fields", "message"), _BAD)
@pytest.mark.parametrize("endpoint", ["ask", "chat", "search", "completions"])
def test_malformed_filters_are_422_with_the_reason(client: TestClient, endpoint: str, fields: dict[str, str],
                                                   message: str) -> None:
    messages = [{"role": "user", "content": MEET_Q}]
    if endpoint == "ask":
        response = client.post("/ask", json={"question": MEET_Q, **fields})
    elif endpoint == "chat":
        response = client.post("/chat", json={"messages": messages, **fields})
    elif endpoint == "search":
        response = client.get("/search", params={"q": MEET_Q, **fields})
    else:
        response = client.post("/v1/chat/completions", json={"messages": messages, **fields})
    assert (response.status_code, response.json()) == (422, {"detail": message})


def test_filter_fields_are_typed_and_documented(client: TestClient) -> None:
    response = client.post("/ask", json={"question": MEET_Q, "since": 20211124})
    assert (response.status_code, response.json()) == (422, {"detail": "body.since: Input should be a valid string"})
    response = client.post("/ask", json={"question": MEET_Q, "sources": "bbc"})
    assert (response.status_code, response.json()) == (422, {"detail": "body.sources: Extra inputs are not "
                                                                        "permitted"})
    schema = client.get("/openapi.json").json()
    search = schema["paths"]["/search"]["get"]["parameters"]
    assert [p["name"] for p in search] == ["q", "k", "since", "until", "source"]
    for name in ("AskRequest", "ChatRequest", "ChatCompletionRequest"):
        assert {"since", "until", "source"} <= set(schema["components"]["schemas"][name]["properties"])
