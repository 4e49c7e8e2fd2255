"""/v1/chat/completions through the ASGI app: body shape, [n] markers, citations, SSE framing."""

from __future__ import annotations

import json

import pytest
from api_test_data import PATROL_ANSWER, PATROL_DOC, PATROL_Q, PATROL_SENTENCE, PATROL_SPAN
from fastapi.testclient import TestClient

from api.routes.openai_compat import answer_span

PATROL_CONTENT = f'{PATROL_ANSWER} [1] — "{PATROL_SENTENCE}"'


def _events(text: str) -> list[str]:
    assert text.endswith("data: [DONE]\n\n")
    blocks = [b for b in text.split("\n\n") if b]
    assert all(b.startswith("data: ") for b in blocks)
    return [b[len("data: "):] for b in blocks]


def test_completion_quotes_the_answer_with_markers_and_citations(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={
        "model": "anything", "temperature": 0.2,
        "messages": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": PATROL_Q}],
    })
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "anything"
    [choice] = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": PATROL_CONTENT}
    assert choice["finish_reason"] == "stop"
    [citation] = body["citations"]
    assert (citation["doc_id"], citation["start"], citation["end"], citation["quote"]) == (
        PATROL_DOC, *PATROL_SPAN, PATROL_SENTENCE)
    assert body["question"] == PATROL_Q
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_stream_carries_the_same_content_and_citations_last(client: TestClient) -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": PATROL_Q}]}]}
    plain = client.post("/v1/chat/completions", json=request).json()
    response = client.post("/v1/chat/completions", json={**request, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == plain["choices"][0]["message"]["content"] == PATROL_CONTENT
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["citations"] == plain["citations"]
    assert all("citations" not in c for c in chunks[:-1])


def test_follow_up_turn_uses_the_conversation(client: TestClient) -> None:
    first = client.post("/v1/chat/completions", json={"model": "m", "messages": [
        {"role": "user", "content": "Who is the Kremlin spokesman?"}]}).json()
    content = first["choices"][0]["message"]["content"]
    assert content.startswith('Dmitry Peskov [1] — "Kremlin spokesman Dmitry Peskov said on Tuesday')
    body = client.post("/v1/chat/completions", json={"model": "m", "messages": [
        {"role": "user", "content": "Who is the Kremlin spokesman?"},
        {"role": "assistant", "content": content},
        {"role": "user", "content": "When did he say it?"},
    ]}).json()
    assert body["question"] == "When did Dmitry Peskov say it?"
    assert body["choices"][0]["message"]["content"].startswith("Tuesday [1] — ")
    assert body["citations"][0]["doc_id"] == PATROL_DOC


def test_no_answer_says_so_plainly(client: TestClient) -> None:
    body = client.post("/v1/chat/completions", json={
        "model": "m", "messages": [{"role": "user", "content": "What is the capital of Peru?"}]}).json()
    reason = client.post("/ask", json={"question": "What is the capital of Peru?"}).json()["abstain_reason"]
    assert reason == "the articles never mention: Peru"
    assert body["citations"] == []
    assert body["choices"][0]["message"]["content"] == (
        f"Not found in the articles: they do not contain an answer to this question ({reason}).")


def test_bad_completion_requests_are_4xx(client: TestClient) -> None:
    only_system = client.post("/v1/chat/completions", json={"model": "m", "messages": [
        {"role": "system", "content": "Be brief."}]})
    assert (only_system.status_code, only_system.json()) == (
        422, {"detail": "messages must contain at least one non-empty 'user' message"})
    no_messages = client.post("/v1/chat/completions", json={"model": "m"})
    assert (no_messages.status_code, no_messages.json()) == (422, {"detail": "body.messages: Field required"})


def test_models_endpoint(client: TestClient) -> None:
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["newsqa-extractive"]


@pytest.mark.parametrize(
    ("content", "span"),
    [
        (PATROL_CONTENT, PATROL_ANSWER),
        ('Tuesday [1][2] — "On Tuesday the boats arrived."', "Tuesday"),
        ("Not found in the articles: they do not contain an answer to this question.",
         "Not found in the articles: they do not contain an answer to this question."),
        ("Dmitry Peskov", "Dmitry Peskov"),
    ],
)
def test_an_assistant_turn_we_rendered_is_read_back_as_its_span(content: str, span: str) -> None:
    assert answer_span(content) == span
