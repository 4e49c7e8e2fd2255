"""Large uploads to POST /documents run as background jobs: 202 + Location, GET /jobs/{id}, GET /jobs, DELETE to
cancel; a bad document anywhere refuses the whole upload before any job exists. Hooks on the job manager, not
sleeps, put the test's requests at exact points of a running job."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from api_test_data import API_KEY, MILLEY_DOC, PATROL_DOC
from fastapi.testclient import TestClient

from index.jobs import Job
from qa.service import QAService

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WAIT = 300  # seconds: a bound for a hung test, not a synchronisation
IDS = [f"feed_{i:03d}" for i in range(150)]


def _word(i: int) -> str:
    return "qx" + chr(97 + i // 26) + chr(97 + i % 26)  # a made-up word only record i holds


def _records(n: int = 150) -> list[dict[str, Any]]:
    return [{"id": IDS[i], "title": f"Festival {i}",
             "text": f"The {_word(i)} festival was held in the harbour town on a Sunday. Fishermen sold smoked eel."}
            for i in range(n)]


def _jsonl(records: list[dict[str, Any]]) -> dict[str, tuple[str, bytes, str]]:
    body = "\n".join(json.dumps(r) for r in records).encode()
    return {"file": ("feed.jsonl", body, "application/x-ndjson")}


def _service(client: TestClient) -> QAService:
    service: QAService = client.app.state.service  # type: ignore[attr-defined]
    return service


def _submit(client: TestClient, records: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    response = client.post("/documents", files=_jsonl(records), **kwargs)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/jobs/{body['id']}"
    return body


def _finished(client: TestClient, job_id: str) -> dict[str, Any]:
    _service(client).jobs.wait(job_id, WAIT)
    response = client.get(f"/jobs/{job_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_a_large_upload_is_a_job_that_indexes_every_document(client: TestClient) -> None:
    accepted = _submit(client, _records())
    assert {k: accepted[k] for k in ("state", "total", "done", "added", "skipped", "cancel_requested", "error",
                                     "started", "finished")} == {
        "state": "queued", "total": 150, "done": 0, "added": [], "skipped": [], "cancel_requested": False,
        "error": None, "started": None, "finished": None}
    job = _finished(client, accepted["id"])
    assert (job["state"], job["done"], job["added"], job["changed"], job["unchanged"], job["skipped"]) == (
        "done", 150, IDS, [], [], [])
    assert job["created"] == accepted["created"] and job["started"] <= job["finished"]
    assert client.get("/jobs").json() == [job]
    assert client.get("/health").json()["documents"] == 152
    for i in (0, 99, 149):
        hits = client.get("/search", params={"q": f"{_word(i)} festival", "k": 1}).json()
        assert [h["doc_id"] for h in hits] == [IDS[i]]


def test_small_uploads_stay_synchronous_unless_background_is_asked(client: TestClient) -> None:
    small = client.post("/documents", files=_jsonl(_records(64)))  # at the threshold (64): indexed now
    assert (small.status_code, small.json()) == (201, {"documents": IDS[:64], "added": IDS[:64], "changed": [],
                                                       "unchanged": [], "undated": IDS[:64]})
    assert client.get("/jobs").json() == []
    doc = {"doc_id": "ferry", "title": "Ferry", "text": "The ferry to Tallinn leaves at noon."}
    accepted = client.post("/documents", json=doc, params={"background": "true"})
    assert accepted.status_code == 202 and accepted.json()["total"] == 1
    job = _finished(client, accepted.json()["id"])
    assert (job["state"], job["added"]) == ("done", ["ferry"])


def test_a_bad_line_is_named_in_the_job_and_the_others_are_indexed(client: TestClient) -> None:
    blank = _records()
    blank[119]["text"] = " "
    response = client.post("/documents", files=_jsonl(blank))
    assert response.status_code == 202
    job = _finished(client, response.json()["id"])
    assert job["rejected"] == [{"where": "line 120", "reason": "JSON record needs a non-empty string 'text'"}]
    assert (job["state"], job["total"], job["added"]) == ("done", 149, IDS[:119] + IDS[120:])


def test_a_job_names_the_duplicates_it_did_not_index_and_honours_allow_duplicate(client: TestClient) -> None:
    """A document with the same text as another was dropped by a job without a word (not added, not skipped), and
    ``allow_duplicate`` was not passed on: now the job's record names each such document, as a 201 upload does,
    and with allow_duplicate=true indexes it as a copy."""
    records = _records(70)
    records[69] = {**records[3], "id": "feed_copy"}  # the text of feed_003, in the same upload
    job = _finished(client, _submit(client, records)["id"])
    reason = ("document 'feed_copy' has the same text as 'feed_003', not indexed (allow_duplicate=true or "
              "--allow-duplicate indexes it as a copy)")
    assert (job["state"], job["done"], job["added"], job["duplicates"]) == (
        "done", 70, IDS[:69], [{"doc_id": "feed_copy", "duplicate_of": "feed_003", "reason": reason}])
    assert client.get("/documents/feed_copy").status_code == 404
    allowed = _finished(client, _submit(client, records, params={"allow_duplicate": "true"})["id"])
    assert (allowed["allow_duplicate"], allowed["added"], allowed["unchanged"], allowed["duplicates"]) == (
        True, ["feed_copy"], IDS[:69], [])
    assert client.get("/documents/feed_copy").json()["duplicate_of"] == "feed_003"


def test_a_document_over_the_limit_or_an_id_twice_refuses_the_upload_and_creates_no_job(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_document_chars=1000)
    listed = client.get("/documents").json()
    long = _records()
    long[140]["text"] = "The ferry leaves at noon. " * 50
    response = client.post("/documents", files=_jsonl(long))
    assert (response.status_code, response.json()) == (413, {"detail": "document 'feed_140' is 1,300 characters, over "
                                                             "the 1,000-character limit (QA_MAX_DOCUMENT_CHARS)"})
    twice = [*_records(), {"id": IDS[7], "title": "Again", "text": "Another text under the same id."}]
    response = client.post("/documents", files=_jsonl(twice))
    assert (response.status_code, response.json()) == (422, {"detail": "document id 'feed_007' occurs twice in the "
                                                             "upload; give each record its own id"})
    assert client.get("/jobs").json() == []
    assert client.get("/documents").json() == listed


def test_cancel_after_the_first_batch_keeps_exactly_that_batch(client: TestClient) -> None:
    cancels: list[Any] = []
    _service(client).jobs.on_batch = lambda job: cancels.append(client.delete(f"/jobs/{job.id}")) \
        if job.done == 64 else None
    job = _finished(client, _submit(client, _records())["id"])
    [response] = cancels
    assert response.status_code == 202
    assert (response.json()["state"], response.json()["cancel_requested"], response.json()["done"]) == (
        "running", True, 64)
    assert (job["state"], job["done"], job["added"], job["skipped"]) == ("cancelled", 64, IDS[:64], IDS[64:])
    assert sorted(d["doc_id"] for d in client.get("/documents").json()) == sorted([MILLEY_DOC, PATROL_DOC, *IDS[:64]])
    again = client.delete(f"/jobs/{job['id']}")
    assert (again.status_code, again.json()) == (
        409, {"detail": f"job '{job['id']}' has already finished (cancelled); nothing to cancel"})


def test_a_delete_sent_during_a_job_does_not_wait_for_the_batch_being_embedded(client: TestClient) -> None:
    service = _service(client)
    deleted: list[Any] = []
    deleter = threading.Thread(target=lambda: deleted.append(client.delete(f"/documents/{PATROL_DOC}")))
    present_after_batch: list[bool] = []

    def on_write(job: Job) -> None:  # batch 2 is embedded, not yet committed: no lock is held, the delete goes in
        if job.done == 64:
            deleter.start()
            deleter.join(WAIT)

    service.jobs.on_write = on_write
    service.jobs.on_batch = lambda job: present_after_batch.append(PATROL_DOC in service.store.snapshot.entries)
    job = _finished(client, _submit(client, _records())["id"])
    assert [(r.status_code, r.json()) for r in deleted] == [(200, {"deleted": PATROL_DOC})]
    assert present_after_batch == [True, False, False]  # done before batch 2 of 3 committed
    assert job["state"] == "done"
    assert client.get(f"/documents/{PATROL_DOC}").status_code == 404


def test_a_job_whose_first_batch_cannot_be_saved_fails_with_the_reason(client: TestClient, monkeypatch: Any) -> None:
    listed = client.get("/documents").json()
    monkeypatch.setenv("QA_TEST_FAULTS", "fail=write")  # every save fails with ENOSPC, as on a full disk
    job = _finished(client, _submit(client, _records())["id"])
    index_dir = _service(client).store.index_dir
    assert (job["state"], job["done"], job["added"], job["skipped"]) == ("failed", 0, [], IDS)
    assert job["error"] == (f"documents 1-64 of 150 were not indexed: no space left on the disk holding {index_dir}; "
                            "the write was not applied (free some space and send it again); nothing was indexed")
    assert client.get("/documents").json() == listed


def test_unknown_jobs_are_404_and_cancel_needs_the_key(keyed_client: TestClient) -> None:
    unknown = {"detail": "no job with id 'job_nope'; GET /jobs lists the recent ones (the latest 100 finished jobs "
                         "are kept)"}
    for response in (keyed_client.get("/jobs/job_nope"), keyed_client.delete("/jobs/job_nope", headers=AUTH)):
        assert (response.status_code, response.json()) == (404, unknown)
    refused = keyed_client.post("/documents", files=_jsonl(_records()))
    assert (refused.status_code, refused.json()) == (
        401, {"detail": "missing API key: send the header 'Authorization: Bearer <QA_API_KEY>'"})
    job = _submit(keyed_client, _records(), headers=AUTH)
    missing = keyed_client.delete(f"/jobs/{job['id']}")
    assert (missing.status_code, missing.json()) == (
        401, {"detail": "missing API key: send the header 'Authorization: Bearer <QA_API_KEY>'"})
    assert _finished(keyed_client, job["id"])["state"] == "done"  # reads stay open, as for /documents
    finished = keyed_client.delete(f"/jobs/{job['id']}", headers=AUTH)
    assert (finished.status_code, finished.json()) == (
        409, {"detail": f"job '{job['id']}' has already finished (done); nothing to cancel"})


def test_the_job_endpoints_are_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    post = paths["/documents"]["post"]
    assert {"201", "202", "429"} <= set(post["responses"])
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Job"}
    assert post["responses"]["202"]["headers"]["Location"]["schema"] == {"type": "string"}
    assert [p["name"] for p in post["parameters"]] == ["background", "allow_duplicate"]
    assert set(paths["/jobs/{job_id}"]) == {"get", "delete"}
    assert {"200", "404"} <= set(paths["/jobs/{job_id}"]["get"]["responses"])
    assert {"202", "404", "409"} <= set(paths["/jobs/{job_id}"]["delete"]["responses"])
    assert paths["/jobs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Job"}
