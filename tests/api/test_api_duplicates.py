"""Duplicates through the HTTP API: the same text under another id is named and not indexed; a near-duplicate (a
wire copy another outlet ran) is indexed as a copy, answers cite the original once and count the copies; a corrected
original never leaves its old text answering through a copy."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

STORIES = json.loads((Path(__file__).resolve().parents[2] / "eval" / "data" / "duplicates" / "stories.json")
                     .read_text(encoding="utf-8"))
HARBOR = STORIES["harbor_bridge"]["a"]
COPY = ("Council approves harbor bridge repairs\n\nHarborton Herald | Local news\n\nBy AFP\n\n"
        + HARBOR.split("\n\n", 1)[1] + "\n\nSource: Harborton Herald and news agencies")
VOTE_Q = "How did the Harborton council vote on the bridge repairs?"


def _upload(client: TestClient, text: str, **params: str) -> dict:
    response = client.post("/documents", files={"file": ("harbor_bridge.txt", text.encode())}, params=params)
    assert response.status_code == 201
    return dict(response.json())


def _doc(client: TestClient, doc_id: str) -> dict:
    return dict(client.get(f"/documents/{doc_id}").json())


def test_the_same_text_under_another_id_is_named_and_not_indexed(client: TestClient) -> None:
    first = client.post("/documents", files={"file": ("harbor_bridge.txt", HARBOR.encode())},
                        data={"doc_id": "harbor_bridge"})
    assert first.json()["added"] == ["harbor_bridge"]
    again = _upload(client, HARBOR.replace("\n\n", "\n\n\n"))  # re-saved with other line breaks: the same words
    [upload_id] = again["documents"]
    assert upload_id.startswith("upload_")
    assert (again["added"], again["duplicates"]) == ([], [{
        "doc_id": upload_id, "duplicate_of": "harbor_bridge",
        "reason": f"document {upload_id!r} has the same text as 'harbor_bridge', not indexed "
                  "(allow_duplicate=true or --allow-duplicate indexes it as a copy)"}])
    assert client.get(f"/documents/{upload_id}").status_code == 404
    allowed = _upload(client, HARBOR.replace("\n\n", "\n\n\n"), allow_duplicate="true")
    assert (allowed["added"], "duplicates" in allowed) == ([upload_id], False)
    assert _doc(client, upload_id)["duplicate_of"] == "harbor_bridge"


def test_a_wire_copy_is_indexed_as_a_copy_and_answers_cite_the_original_once(client: TestClient) -> None:
    client.post("/documents", json={"doc_id": "harbor_bridge", "title": "Council approves harbor bridge repairs",
                                    "text": HARBOR})
    added = client.post("/documents", json={"doc_id": "herald_copy", "title": "Harbor bridge repairs approved",
                                            "text": COPY, "site_name": "Harborton Herald"})
    assert added.json()["added"] == ["herald_copy"]
    assert (_doc(client, "herald_copy")["duplicate_of"], _doc(client, "harbor_bridge")["duplicate_of"]) == (
        "harbor_bridge", None)
    body = client.post("/ask", json={"question": VOTE_Q}).json()
    assert body["answer"] == "7-2"
    [citation] = body["citations"]
    assert (citation["doc_id"], citation["copies"]) == ("harbor_bridge", ["herald_copy"])
    assert HARBOR[citation["start"]:citation["end"]] == citation["quote"]


def test_a_corrected_original_never_leaves_its_old_text_answering(client: TestClient) -> None:
    client.post("/documents", json={"doc_id": "harbor_bridge", "title": "Council approves harbor bridge repairs",
                                    "text": HARBOR})
    client.post("/documents", json={"doc_id": "herald_copy", "title": "Harbor bridge repairs approved", "text": COPY})
    corrected = HARBOR.replace("voted 7-2", "voted 8-1").replace("Two councillors opposed", "One councillor opposed")
    changed = client.post("/documents", json={"doc_id": "harbor_bridge", "title": "Council approves harbor bridge "
                                              "repairs", "text": corrected})
    assert changed.json()["changed"] == ["harbor_bridge"]
    assert _doc(client, "harbor_bridge")["duplicate_of"] is None  # its own copy is not what it copies
    body = client.post("/ask", json={"question": VOTE_Q}).json()
    assert body["answer"] == "8-1"
    [citation] = body["citations"]
    assert (citation["doc_id"], citation["copies"]) == ("harbor_bridge", ["herald_copy"])
    assert "7-2" not in json.dumps(body["citations"] + body.get("closest", []))
    # with no copy, a replacement under the same id leaves nothing of the old text either
    client.delete("/documents/herald_copy")
    assert client.post("/ask", json={"question": VOTE_Q}).json()["answer"] == "8-1"
    assert "7-2" not in json.dumps(client.get("/search", params={"q": "council voted 7-2", "k": 10}).json())
