"""GET/POST/DELETE /documents: listing, exact text, JSON and file uploads indexed at once, auth, size limits."""

from __future__ import annotations

import hashlib

from api_test_data import API_KEY, MILLEY_DOC, PATROL_DOC
from fastapi.testclient import TestClient

AUTH = {"Authorization": f"Bearer {API_KEY}"}
ARTICLE = ("Lighthouse keepers strike in Brittany\n\nThe keepers of the Phare du Creach lighthouse on Ushant walked "
           "out on Monday over unpaid overtime. The strike was called by the union Force Maritime.")


def test_list_documents(client: TestClient) -> None:
    docs = {d["doc_id"]: d for d in client.get("/documents").json()}
    assert set(docs) == {PATROL_DOC, MILLEY_DOC}
    patrol = docs[PATROL_DOC]
    assert patrol["title"] == "U.S., Russian Military Chiefs Speak on the Phone"
    assert patrol["url"] == ("https://www.themoscowtimes.com/2021/11/24/us-russian-military-chiefs-speak-on-the-phone-"
                             "a75651")
    assert (patrol["published"], patrol["published_raw"]) == ("2021-11-24", "November 24, 2021")
    assert patrol["passages"] >= 1 and patrol["sentences"] >= patrol["passages"]


def test_get_document_returns_the_text_offsets_refer_to(client: TestClient) -> None:
    body = client.get(f"/documents/{PATROL_DOC}").json()
    assert body["chars"] == len(body["text"])
    assert body["text"][1218:1330].endswith("arrived at the southern port of Odessa.")


def test_unknown_document_is_404_with_a_hint(client: TestClient) -> None:
    for response in (client.get("/documents/no-such-doc"), client.delete("/documents/no-such-doc")):
        assert response.status_code == 404
        assert response.json() == {"detail": "no document with id 'no-such-doc'; GET /documents lists the ids"}


def test_json_document_is_indexed_at_once_then_deleted(client: TestClient) -> None:
    response = client.post("/documents", json={"title": "Lighthouse strike", "text": ARTICLE,
                                               "url": "https://example.test/lighthouse", "published": "2024-03-04"})
    assert response.status_code == 201
    doc_id = f"doc_{hashlib.sha256(ARTICLE.encode()).hexdigest()[:16]}"
    assert response.json() == {"documents": [doc_id], "added": [doc_id], "changed": [], "unchanged": []}
    again = client.post("/documents", json={"title": "Lighthouse strike", "text": ARTICLE,
                                            "url": "https://example.test/lighthouse", "published": "2024-03-04"})
    assert again.json()["unchanged"] == [doc_id]

    answer = client.post("/ask", json={"question": "Which union called the lighthouse strike?"}).json()
    assert answer["answer"] == "union Force Maritime"
    [citation] = answer["citations"]
    assert citation["doc_id"] == doc_id
    assert ARTICLE[citation["start"]:citation["end"]] == citation["quote"] == ("The strike was called by the union "
                                                                               "Force Maritime.")
    assert ARTICLE[citation["highlight"]["start"]:citation["highlight"]["end"]] == "union Force Maritime"
    assert client.get("/health").json()["documents"] == 3

    assert client.delete(f"/documents/{doc_id}").json() == {"deleted": doc_id}
    assert client.get(f"/documents/{doc_id}").status_code == 404
    assert client.get("/health").json()["documents"] == 2


def test_file_upload_uses_the_name_only_for_its_suffix(client: TestClient) -> None:
    data = ARTICLE.encode()
    files = {"file": ("../../../etc/evil name.txt", data, "text/plain")}
    response = client.post("/documents", files=files)
    assert response.status_code == 201
    doc_id = f"upload_{hashlib.sha256(data).hexdigest()[:16]}"
    assert response.json()["added"] == [doc_id]
    doc = client.get(f"/documents/{doc_id}").json()
    assert doc["title"] == "Lighthouse keepers strike in Brittany"
    assert doc["text"] == ARTICLE


def test_upload_of_a_legacy_encoding_names_it(client: TestClient) -> None:
    text = "Old notes\n\nThe café – naïve as it sounds – opened on Monday.\n"
    response = client.post("/documents", files={"file": ("old.txt", text.encode("cp1252"), "text/plain")},
                           data={"doc_id": "old"})
    assert (response.status_code, response.json()) == (201, {"documents": ["old"], "added": ["old"], "changed": [],
                                                             "unchanged": [], "encoding": "cp1252",
                                                             "undated": ["old"]})
    assert client.get("/documents/old").json()["text"] == text
    utf8 = client.post("/documents", files={"file": ("old.txt", text.encode(), "text/plain")}, data={"doc_id": "old"})
    assert utf8.json() == {"documents": ["old"], "added": [], "changed": [], "unchanged": ["old"]}


def test_upload_with_explicit_id_and_html_parsing(client: TestClient) -> None:
    html = b"<html><head><title>Harbour news</title></head><body><p>The ferry Vega docked at Brest.</p></body></html>"
    response = client.post("/documents", files={"file": ("page.HTML", html, "text/html")}, data={"doc_id": "harbour"})
    assert response.status_code == 201
    doc = client.get("/documents/harbour").json()
    assert (doc["title"], doc["text"]) == ("Harbour news", "The ferry Vega docked at Brest.")


def test_bad_uploads_say_what_is_wrong(client: TestClient) -> None:
    cases = [
        ({"file": ("tool.exe", b"MZ binary", "application/octet-stream")}, "unsupported file type '.exe'; use one of "
         ".txt, .md, .markdown, .html, .htm, .pdf, .docx, .json, .jsonl"),
        ({"file": ("a.txt", b"abc\x00def", "text/plain")}, "file looks binary (contains NUL bytes)"),
        ({"file": ("a.txt", b"\xff\xfe\xfa", "text/plain")},
         "file is not valid UTF-8 (byte 0) and too short to detect its encoding"),
        ({"file": ("a.txt", b"   \n", "text/plain")}, "file is empty"),
        ({"other": ("a.txt", b"text", "text/plain")}, "multipart body needs the article as a file field named 'file'"),
    ]
    for files, detail in cases:
        response = client.post("/documents", files=files)
        assert (response.status_code, response.json()) == (422, {"detail": detail}), files


def test_invalid_json_documents_are_422(client: TestClient) -> None:
    cases = [
        ({"text": "x"}, "body.title: Field required"),
        ({"title": "t", "text": ""}, "body.text: String should have at least 1 character"),
        ({"title": "t", "text": "x", "doc_id": "../x"}, "body.doc_id: String should match pattern '^[A-Za-z0-9_.-]+$'"),
        ({"title": "t", "text": "x", "extra": 1}, "body.extra: Extra inputs are not permitted"),
    ]
    for body, detail in cases:
        response = client.post("/documents", json=body)
        assert (response.status_code, response.json()) == (422, {"detail": detail}), body
    blank = client.post("/documents", json={"title": "t", "text": "   "})
    assert (blank.status_code, blank.json()) == (422, {"detail": "document text is blank"})
    broken = client.post("/documents", content=b'{"title": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["detail"].startswith("request body is not valid JSON")
    other = client.post("/documents", content=b"title=x", headers={"Content-Type": "text/plain"})
    assert (other.status_code, other.json()) == (
        415, {"detail": "unsupported content type 'text/plain'; send application/json or multipart/form-data"})


def test_articles_over_the_character_limit_are_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(max_document_chars=1000)
    listed = client.get("/documents").json()
    text = "The ferry leaves at noon. " * 50  # 1,300 characters
    response = client.post("/documents", json={"doc_id": "long", "title": "Long", "text": text})
    # a JSON text over the schema's maxLength is 422; a file's extracted text over the limit, 413
    assert (response.status_code, response.json()) == (422, {"detail": "body.text: document text is 1,300 characters, "
                                                          "over the 1,000-character limit (QA_MAX_DOCUMENT_CHARS)"})
    upload = client.post("/documents", files={"file": ("long.md", text.encode(), "text/markdown")})
    assert upload.status_code == 413 and "over the 1,000-character limit" in upload.json()["detail"]
    assert client.get("/documents").json() == listed


def test_uploads_over_the_limit_are_413(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(max_upload_bytes=2048)
    big = b"word " * 500  # 2,500 bytes: over the upload limit, under the body limit
    response = client.post("/documents", files={"file": ("big.txt", big, "text/plain")})
    assert (response.status_code, response.json()) == (
        413, {"detail": "upload is over the 2,048-byte limit (QA_MAX_UPLOAD_BYTES)"})
    response = client.post("/documents", json={"title": "big", "text": big.decode()})
    assert (response.status_code, response.json()) == (
        413, {"detail": "document text is 2,500 bytes, over the 2,048-byte limit (QA_MAX_UPLOAD_BYTES)"})
    huge = b"x" * 100_000  # over upload limit + multipart allowance: refused from Content-Length before parsing
    response = client.post("/documents", files={"file": ("huge.txt", huge, "text/plain")})
    assert response.status_code == 413
    assert response.json()["detail"].endswith("the limit for /documents is 67,584 bytes")


def test_chunked_body_over_the_limit_is_413(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(max_upload_bytes=2048)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"y" * 1000

    response = client.post("/documents", content=chunks(), headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (
        413, {"detail": "request body is over the 67,584-byte limit for /documents"})


def test_write_endpoints_need_the_key_when_one_is_set(keyed_client: TestClient) -> None:
    doc = {"title": "Lighthouse strike", "text": ARTICLE}
    cases = [
        ({}, "missing API key: send the header 'Authorization: Bearer <QA_API_KEY>'"),
        ({"Authorization": "Bearer wrong"}, "wrong API key"),
        ({"Authorization": f"Basic {API_KEY}"}, "malformed Authorization header: expected 'Bearer <QA_API_KEY>'"),
        ({"Authorization": "Bearer "}, "malformed Authorization header: expected 'Bearer <QA_API_KEY>'"),
    ]
    for headers, detail in cases:
        for response in (keyed_client.post("/documents", json=doc, headers=headers),
                         keyed_client.delete(f"/documents/{PATROL_DOC}", headers=headers)):
            assert (response.status_code, response.json()) == (401, {"detail": detail})
            assert response.headers["www-authenticate"] == "Bearer"
    assert keyed_client.get("/health").json()["documents"] == 2

    added = keyed_client.post("/documents", json=doc, headers=AUTH)
    assert added.status_code == 201
    assert keyed_client.delete(f"/documents/{PATROL_DOC}", headers=AUTH).status_code == 200
    # reads stay open
    assert keyed_client.get("/documents").status_code == 200
    assert keyed_client.post("/ask", json={"question": "Who is the Kremlin spokesman?"}).status_code == 200


def test_auth_is_checked_before_the_body_is_read(keyed_client: TestClient) -> None:
    response = keyed_client.post("/documents", content=b"not json at all", headers={"Content-Type": "application/json"})
    assert response.status_code == 401


def test_a_full_disk_is_507_and_nothing_is_applied(client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    doc = {"doc_id": "ferry", "title": "Ferry", "text": "The ferry to Tallinn leaves at noon."}
    listed = client.get("/documents").json()
    monkeypatch.setenv("QA_TEST_FAULTS", "fail=write")  # the save fails with ENOSPC, as on a full disk
    for response in (client.post("/documents", json=doc), client.delete(f"/documents/{PATROL_DOC}")):
        assert response.status_code == 507
        assert response.json()["detail"].startswith("no space left on the disk holding ")
        assert response.json()["detail"].endswith("; the write was not applied (free some space and send it again)")
    assert client.get("/documents").json() == listed
    assert client.get("/documents/ferry").status_code == 404
    monkeypatch.delenv("QA_TEST_FAULTS")
    assert client.post("/documents", json=doc).json()["added"] == ["ferry"]  # the retry does the write
    assert client.delete(f"/documents/{PATROL_DOC}").status_code == 200


def test_a_lone_surrogate_is_422_and_later_writes_work(client: TestClient) -> None:
    bad = b'{"title": "Bad \\udfff title", "text": "The ferry leaves at noon."}'
    response = client.post("/documents", content=bad, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == ("body.title: Input should be a valid string, unable to parse raw data as a "
                                         "unicode string")
    upload = client.post("/documents", files={"file": ("feed.jsonl", bad + b"\n", "application/x-ndjson")})
    assert upload.status_code == 422
    assert "title holds an invalid character ('\\udfff' at position 4, a lone surrogate)" in upload.json()["detail"]
    good = client.post("/documents", json={"doc_id": "ferry", "title": "Ferry", "text": "The ferry leaves at noon."})
    assert good.status_code == 201 and good.json()["added"] == ["ferry"]


MIXED_FEED = (b'{"id": "feed-a", "title": "Dock strike", "text": "Dockers in Antwerp struck on Monday."}\n'
              b'{"id": "feed-b", "title": "Broken"\n'
              b'\n'
              b'{"id": "feed-c", "title": "No text"}\n'
              b'{"id": "feed-d", "title": "Ferry", "text": "The Calais ferry sailed at noon."}\n')


def test_a_feed_with_bad_lines_indexes_the_good_ones_and_names_the_bad(client: TestClient) -> None:
    response = client.post("/documents", files={"file": ("feed.jsonl", MIXED_FEED)})
    assert response.status_code == 201
    assert response.json() == {
        "documents": ["feed-a", "feed-d"], "added": ["feed-a", "feed-d"], "changed": [], "unchanged": [],
        "undated": ["feed-a", "feed-d"], "rejected": [
            {"where": "line 2", "reason": "invalid JSON at line 2: Expecting ',' delimiter"},
            {"where": "line 4", "reason": "JSON record needs a non-empty string 'text'"},
        ]}
    assert {"feed-a", "feed-d"} <= {d["doc_id"] for d in client.get("/documents").json()}
    only_bad = client.post("/documents", files={"file": ("bad.jsonl", b'{"title": "x"}\n{\n')})
    assert only_bad.status_code == 422
    assert only_bad.json() == {"detail": "line 1: JSON record needs a non-empty string 'text' (and 1 more bad "
                                         "records); nothing from this file was added"}


def _ids(client: TestClient) -> set[str]:
    return {d["doc_id"] for d in client.get("/documents").json()}


def test_delete_by_source_with_a_dry_run_first(client: TestClient) -> None:
    for i, site in enumerate(["Harbour Gazette", "Harbour Gazette", "Inland Post"]):
        body = {"doc_id": f"h{i}", "title": f"Story {i}", "text": f"Story number {i} about the harbour.",
                "site_name": site}
        assert client.post("/documents", json=body).status_code == 201
    dry = client.delete("/documents", params={"source": "harbour gazette", "dry_run": "true"})
    assert (dry.status_code, dry.json()) == (200, {"deleted": ["h0", "h1"], "count": 2, "dry_run": True})
    assert _ids(client) == {PATROL_DOC, MILLEY_DOC, "h0", "h1", "h2"}
    done = client.delete("/documents", params={"source": "harbour gazette"})
    assert (done.status_code, done.json()) == (200, {"deleted": ["h0", "h1"], "count": 2, "dry_run": False})
    assert _ids(client) == {PATROL_DOC, MILLEY_DOC, "h2"}
    none = client.delete("/documents", params={"source": "harbour gazette"})
    assert none.json() == {"deleted": [], "count": 0, "dry_run": False}


def test_delete_by_ids_is_all_or_nothing(client: TestClient) -> None:
    missing = client.delete("/documents", params={"doc_id": [PATROL_DOC, "nope"]})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no document with id 'nope'; GET /documents lists the ids (nothing was "
                                        "removed)"}
    assert _ids(client) == {PATROL_DOC, MILLEY_DOC}
    both = client.delete("/documents", params={"doc_id": [PATROL_DOC, MILLEY_DOC]})
    assert both.json() == {"deleted": [PATROL_DOC, MILLEY_DOC], "count": 2, "dry_run": False}
    assert _ids(client) == set()
    assert client.delete("/documents").json() == {"deleted": [], "count": 0, "dry_run": False}  # names nothing
    assert client.delete("/documents", params={"source": " "}).status_code == 422


def test_delete_by_ids_and_source_together_removes_both(client: TestClient) -> None:
    body = client.delete("/documents", params={"doc_id": MILLEY_DOC, "source": "themoscowtimes", "dry_run": "true"})
    assert body.json() == {"deleted": [MILLEY_DOC, PATROL_DOC], "count": 2, "dry_run": True}
    missing = client.delete("/documents", params={"doc_id": "nope", "source": "themoscowtimes"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "no document with id 'nope'; GET /documents "
                                                                     "lists the ids (nothing was removed)"})
    assert _ids(client) == {PATROL_DOC, MILLEY_DOC}


def test_undated_articles_are_named_on_upload_and_flagged_in_the_list(client: TestClient) -> None:
    undated = client.post("/documents", json={"doc_id": "nodate", "title": "Ferry", "text": "The ferry sailed."})
    assert undated.json()["undated"] == ["nodate"]
    dated = client.post("/documents", json={"doc_id": "dated", "title": "Ferry", "text": "The ferry sailed again.",
                                            "published": "2024-03-12"})
    assert "undated" not in dated.json()
    flags = {d["doc_id"]: d["undated"] for d in client.get("/documents").json()}
    assert flags == {MILLEY_DOC: True, PATROL_DOC: False, "nodate": True, "dated": False}


def test_a_wire_byline_and_a_source_line_are_searchable_as_sources(client: TestClient) -> None:
    docs = {d["doc_id"]: d for d in client.get("/documents").json()}
    assert (docs[PATROL_DOC]["author"], docs[MILLEY_DOC]["site_name"]) == ("AFP", "Al Jazeera")
    for source, doc_id in [("afp", PATROL_DOC), ("aljazeera", MILLEY_DOC), ("Al Jazeera", MILLEY_DOC)]:
        hits = client.get("/search", params={"q": "military chiefs", "k": 50, "source": source}).json()
        assert {h["doc_id"] for h in hits} == {doc_id}, source
    body = client.post("/documents", files={"file": ("wire.txt", WIRE_TEXT.encode())}).json()
    [doc_id] = body["documents"]
    wire = client.get(f"/documents/{doc_id}").json()
    assert (wire["author"], wire["published"], wire["undated"]) == ("Reuters", None, True)
    assert body["undated"] == [doc_id]


WIRE_TEXT = ("Grain corridor talks\n\nISTANBUL, July 13 (Reuters) - Russian, Ukrainian and Turkish officials met "
             "on Wednesday to discuss grain exports.\n")
