"""The official openai client, the httpx QAClient and `qa ask --url` against a real uvicorn server."""

from __future__ import annotations

import openai
import pytest

from api.cli import format_answer
from api.cli import main as cli_main
from api.client import QAClient
from index.errors import DocumentNotFoundError, InvalidInputError

PATROL_Q = "Which port did the US patrol boats reach?"
PATROL_DOC = "003_15bbf54440315bf5"
PATROL_SENTENCE = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern "
                   "port of Odessa.")
PATROL_CONTENT = f'southern port of Odessa [1] — "{PATROL_SENTENCE}"'


@pytest.fixture
def oai(live_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server}/v1", api_key="unused", max_retries=0)


def test_openai_client_non_streaming(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="newsqa-extractive", messages=[{"role": "user", "content": PATROL_Q}])
    assert completion.choices[0].message.content == PATROL_CONTENT
    assert completion.choices[0].finish_reason == "stop"
    citations = completion.model_extra["citations"]  # type: ignore[index]
    assert [(c["doc_id"], c["start"], c["end"], c["quote"]) for c in citations] == [
        (PATROL_DOC, 1218, 1330, PATROL_SENTENCE)]


def test_openai_client_streaming(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="newsqa-extractive", stream=True,
        messages=[{"role": "user", "content": "Who is the Kremlin spokesman?"},
                  {"role": "assistant", "content": "Dmitry Peskov [1]"},
                  {"role": "user", "content": "When did he say it?"}])
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.startswith('Tuesday [1] — "Kremlin spokesman Dmitry Peskov said on Tuesday')
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["doc_id"] == PATROL_DOC  # type: ignore[index]
    assert last.model_extra["question"] == "When did Dmitry Peskov say it?"  # type: ignore[index]


def test_openai_client_sees_http_errors(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        oai.chat.completions.create(model="m", messages=[{"role": "system", "content": "hi"}])
    assert info.value.status_code == 422


def test_qa_client_matches_the_server(live_server: str) -> None:
    with QAClient(live_server) as client:
        answer = client.ask(PATROL_Q, top_k=2)
        assert answer.answer == "southern port of Odessa"
        assert len(answer.passages) == 2
        assert client.search("Odessa", k=1)[0].doc_id == PATROL_DOC
        assert client.health()["documents"] == 2
        with pytest.raises(InvalidInputError, match="server answered 422: question is 2,001 characters"):
            client.ask("x" * 2001)
    with QAClient(live_server) as client, pytest.raises(DocumentNotFoundError):
        client._request("GET", "/documents/missing")


def test_cli_ask_url_prints_the_same_as_the_server_answer(live_server: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["ask", "--url", live_server, PATROL_Q]) == 0
    printed = capsys.readouterr().out
    with QAClient(live_server) as client:
        assert printed.rstrip("\n") == format_answer(client.ask(PATROL_Q))
    assert printed.startswith("southern port of Odessa [1]")
    assert cli_main(["ask", "--url", live_server, "--json", PATROL_Q]) == 0
    assert f'"quote": "{PATROL_SENTENCE}"' in capsys.readouterr().out.replace("\\u2019", "'")


def test_qa_client_reports_an_unreachable_server() -> None:
    from index.errors import QAError

    with QAClient("http://127.0.0.1:9", timeout=5) as client, pytest.raises(QAError, match="cannot reach the server"):
        client.ask(PATROL_Q)
