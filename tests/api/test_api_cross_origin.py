"""Cross-site writes: with no key set, a browser's write sent from another origin (an HTML form POSTs multipart with no
preflight) is refused 403 and changes nothing; the chat page's own requests, allowed CORS origins and clients that are
no browser still write. With QA_PROTECT_READS the key guards reads too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from api_test_data import API_KEY
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from qa.config import Settings

ARTICLE = ("planted.txt", b"Planted article\n\nSomeone else's page added this.\n", "text/plain")
EVIL = "https://evil.example"
REFUSED = {"detail": "cross-origin write refused: a browser sent it from https://evil.example; write from this "
                     "server's own page, or add that origin to QA_CORS_ORIGINS"}


def _ids(client: TestClient) -> list[str]:
    return sorted(d["doc_id"] for d in client.get("/documents").json())


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},  # a form on another site
    {"Origin": EVIL},  # a browser that sends no Sec-Fetch-Site
    {"Origin": EVIL, "Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin too
])
def test_form_post_from_another_site_adds_nothing(client: TestClient, headers: dict[str, str]) -> None:
    before = _ids(client)
    response = client.post("/documents", files={"file": ARTICLE}, headers=headers)
    assert (response.status_code, response.json()) == (403, REFUSED)
    assert _ids(client) == before


def test_cross_site_delete_is_refused(client: TestClient) -> None:
    [doc_id, *_] = _ids(client)
    response = client.delete(f"/documents/{doc_id}", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert (response.status_code, response.json()) == (403, REFUSED)
    assert doc_id in _ids(client)


@pytest.mark.parametrize("headers", [
    {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},  # the chat page's fetch()
    {"Origin": "http://testserver"},  # the page in a browser that sends no Sec-Fetch-Site
    {},  # curl, `qa index --url`, an SDK: no browser
])
def test_own_page_and_non_browser_clients_write(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/documents", files={"file": ARTICLE}, data={"doc_id": "planted"}, headers=headers)
    assert response.status_code == 201, response.text
    assert "planted" in _ids(client)


def test_reads_from_another_site_and_allowed_origins_pass(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins=["https://newsroom.example"])
    cross = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    assert client.get("/documents", headers=cross).status_code == 200
    allowed = {"Origin": "https://newsroom.example", "Sec-Fetch-Site": "cross-site"}
    response = client.post("/documents", files={"file": ARTICLE}, data={"doc_id": "planted"}, headers=allowed)
    assert response.status_code == 201, response.text


def test_protect_reads_needs_the_key_for_reads(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key=API_KEY, protect_reads=True)
    key = {"Authorization": f"Bearer {API_KEY}"}
    for method, path, body in [("GET", "/documents", None), ("GET", "/search?q=Milley", None), ("GET", "/jobs", None),
                               ("POST", "/ask", {"question": "Where did Milley meet Gerasimov?"}),
                               ("GET", "/v1/models", None)]:
        refused = client.request(method, path, json=body)
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer"), path
        assert client.request(method, path, json=body, headers=key).status_code == 200, path
    assert client.get("/health").status_code == 200  # probes and the page stay open
    assert client.get("/").status_code == 200
    schema = client.get("/openapi.json").json()
    assert schema["paths"]["/documents"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_protect_reads_without_a_key_is_refused_at_startup(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="QA_PROTECT_READS needs QA_API_KEY"):
        Settings(index_dir=tmp_path, protect_reads=True)
    reads_open = TestClient(create_app(Settings(index_dir=tmp_path, api_key=API_KEY))).get("/openapi.json").json()
    assert "security" not in reads_open["paths"]["/documents"]["get"]
