"""Bad-input matrix over HTTP and the CLI: every case is a 4xx with a JSON detail naming the problem (or, for
odd-but-valid questions, a 200 JSON answer); afterwards the server is healthy and the index byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.embedder import Embedder
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
QA = ROOT / ".venv" / "bin" / "qa"
JSON = {"Content-Type": "application/json"}
GOOD_TEXT = b"Zorblax Bridge\n\nThe zorblax bridge over the Quen river was opened in 1901 by the mayor of Quenton.\n"
UPLOAD_LIMIT = 10 * 1024 * 1024 + 64 * 1024  # Settings.max_upload_bytes default + api.app.UPLOAD_OVERHEAD
FIFTY_MB = 50 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One request; ``detail`` is a phrase the JSON detail must contain (None: a 200 answer is fine too)."""

    method: str
    path: str
    status: int | tuple[int, ...]
    detail: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    cleanup: bool = False  # a 201 upload whose id must be deleted again (the name was ignored, the content good)


def _upload(name: str, data: bytes) -> dict[str, Any]:
    return {"files": {"file": (name, data, "application/octet-stream")}}


def _raw(body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": content_type}}


def _stream_multipart(total: int) -> Iterator[bytes]:
    """A multipart upload of ``total`` bytes sent chunked (no Content-Length), never held in memory at once."""
    boundary = b"matrixboundary"
    yield (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
           b"Content-Type: text/plain\r\n\r\n")
    chunk = b"z" * (1024 * 1024)
    for _ in range(total // len(chunk)):
        yield chunk
    yield b"\r\n--" + boundary + b"--\r\n"


NESTED_EMPTY = b"<html><body>" + b"<div>" * 10_000 + b"</div>" * 10_000 + b"</body></html>"
NESTED_TEXT = (b"<html><body>" + b"<div>" * 10_000 + b"The zorblax nest was found in Quenton in 1873."
               + b"</div>" * 10_000 + b"</body></html>")
ANSWER = (200,)  # Unicode questions: valid, answered or abstained, never a 5xx

CASES: list[tuple[str, Case]] = [
    # questions
    ("ask-empty", Case("POST", "/ask", 422, "question is empty", {"json": {"question": ""}})),
    ("ask-whitespace", Case("POST", "/ask", 422, "question is empty", {"json": {"question": " \t\n\u00a0 "}})),
    ("ask-100k-chars", Case("POST", "/ask", 422, "question is 100,000 characters; the limit is 2,000",
                            {"json": {"question": "q" * 100_000}})),
    ("chat-100k-chars", Case("POST", "/chat", 422, "question is 100,000 characters",
                             {"json": {"messages": [{"role": "user", "content": "q" * 100_000}]}})),
    ("search-10k-chars", Case("GET", "/search", 422, "question is 10,000 characters", {"params": {"q": "q" * 10_000}})),
    ("ask-question-int", Case("POST", "/ask", 422, "body.question: Input should be a valid string",
                              {"json": {"question": 5}})),
    ("ask-top_k-string", Case("POST", "/ask", 422, "body.top_k: Input should be a valid integer",
                              {"json": {"question": "Who?", "top_k": "x"}})),
    ("chat-messages-string", Case("POST", "/chat", 422, "body.messages: Input should be a valid list",
                                  {"json": {"messages": "hi"}})),
    ("ask-body-list", Case("POST", "/ask", 422, "body: Input should be a valid dictionary",
                           {"json": ["question"]})),
    ("ask-invalid-json", Case("POST", "/ask", 422, "body: invalid JSON at character 1", _raw(b"{not json"))),
    ("ask-truncated-json", Case("POST", "/ask", 422, "invalid JSON", _raw(b'{"question": "Who'))),
    ("documents-invalid-json", Case("POST", "/documents", 422, "request body is not valid JSON",
                                    _raw(b'{"title": "t", "text": '))),
    ("ask-text-plain", Case("POST", "/ask", 415, "unsupported content type 'text/plain'; send application/json",
                            _raw(b'{"question": "Who?"}', "text/plain"))),
    ("chat-form-encoded", Case("POST", "/chat", 415, "unsupported content type 'application/x-www-form-urlencoded'",
                               _raw(b"messages=hi", "application/x-www-form-urlencoded"))),
    ("documents-text-plain", Case("POST", "/documents", 415, "unsupported content type 'text/plain'",
                                  _raw(GOOD_TEXT, "text/plain"))),
    ("ask-top_k-0", Case("POST", "/ask", 422, "top_k must be between 1 and 50, got 0",
                         {"json": {"question": "Who?", "top_k": 0}})),
    ("ask-top_k-minus-1", Case("POST", "/ask", 422, "top_k must be between 1 and 50, got -1",
                               {"json": {"question": "Who?", "top_k": -1}})),
    ("ask-top_k-10e6", Case("POST", "/ask", 422, "top_k must be between 1 and 50, got 1000000",
                            {"json": {"question": "Who?", "top_k": 10**6}})),
    ("search-k-0", Case("GET", "/search", 422, "0", {"params": {"q": "port", "k": 0}})),
    # Unicode: valid questions, so a JSON answer (possibly answer null), never a server error
    ("ask-rtl", Case("POST", "/ask", ANSWER, None, {"json": {"question": "\u05de\u05d9 \u05d4\u05d2\u05d9\u05e2 "
                                                                        "\u202eport Odessa?"}})),
    ("ask-emoji", Case("POST", "/ask", ANSWER, None,
                       {"json": {"question": "\U0001f6a4 Which port did the patrol boats reach? \U0001f1fa"}})),
    ("ask-nul", Case("POST", "/ask", ANSWER, None, {"json": {"question": "Which port\u0000 did the boats reach?"}})),
    ("ask-lone-surrogate", Case("POST", "/ask", ANSWER, None, _raw(b'{"question": "\\ud800 Which port?"}'))),
    ("chat-lone-surrogate", Case("POST", "/chat", ANSWER, None,
                                 _raw(b'{"messages": [{"role": "user", "content": "\\udfff\\ud800"}]}'))),
    ("search-lone-surrogate", Case("GET", "/search", ANSWER, None, {"params": {"q": "\\ud800 port"}})),
    ("ask-combining-marks", Case("POST", "/ask", ANSWER, None,
                                 {"json": {"question": "Whi\u0301ch po\u0308\u0323rt di\u0336d the boats reach?"}})),
    ("ask-only-combining", Case("POST", "/ask", (200, 422), None, {"json": {"question": "\u0301\u0308\u0323" * 50}})),
    # unknown documents
    ("get-unknown-doc", Case("GET", "/documents/no_such_doc", 404, "no document with id 'no_such_doc'")),
    ("delete-unknown-doc", Case("DELETE", "/documents/no_such_doc", 404, "no document with id 'no_such_doc'")),
    ("get-dotdot-doc", Case("GET", "/documents/..%2F..%2Fetc%2Fpasswd", 404, None)),
    # uploads
    ("upload-binary", Case("POST", "/documents", 422, "file looks binary (contains NUL bytes)",
                           _upload("a.txt", bytes(range(256)) * 64))),
    ("upload-png", Case("POST", "/documents", 422, "unsupported file type '.png'",
                        _upload("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))),
    ("upload-latin1", Case("POST", "/documents", 201, None,  # decoded by detection, not refused
                           _upload("a.txt", "caf\u00e9 ol\u00e9 ".encode("latin-1") * 20), cleanup=True)),
    ("upload-empty", Case("POST", "/documents", 422, "file is empty", _upload("a.txt", b""))),
    ("upload-blank", Case("POST", "/documents", 422, "file is empty", _upload("a.txt", b" \n\t\n"))),
    ("upload-no-file-field", Case("POST", "/documents", 422, "file field named 'file'",
                                  {"data": {"doc_id": "x"}, "files": {"other": ("a.txt", GOOD_TEXT)}})),
    ("upload-50MB-declared", Case("POST", "/documents", 413, "the limit for /documents is 10,551,296 bytes",
                                  {"headers": {"Content-Type": "multipart/form-data; boundary=x",
                                               "Content-Length": str(FIFTY_MB)}, "content": b""})),
    ("upload-50MB-streamed", Case("POST", "/documents", 413, "over the 10,551,296-byte limit for /documents",
                                  {"content": "stream", "headers": {
                                      "Content-Type": "multipart/form-data; boundary=matrixboundary"}})),
    ("upload-nested-html-empty", Case("POST", "/documents", 422, "HTML page is nested more than 256 elements deep",
                                      _upload("deep.html", NESTED_EMPTY))),
    ("upload-nested-html-text", Case("POST", "/documents", 422, "HTML page is nested more than 256 elements deep",
                                     _upload("deep.html", NESTED_TEXT))),
    ("upload-name-dotdot", Case("POST", "/documents", 201, None, _upload("../../matrix_evil_dotdot.txt", GOOD_TEXT),
                                cleanup=True)),
    ("upload-name-absolute", Case("POST", "/documents", 201, None, _upload("/tmp/matrix_evil_abs.txt", GOOD_TEXT),
                                  cleanup=True)),
    ("upload-name-nul", Case("POST", "/documents", 201, None, _upload("matrix_evil\x00.txt", GOOD_TEXT),
                             cleanup=True)),
    ("upload-name-dotdot-no-suffix", Case("POST", "/documents", 422, "unsupported file type '(none)'",
                                          _upload("../../etc/passwd", GOOD_TEXT))),
    ("json-doc-id-dotdot", Case("POST", "/documents", 422, "body.doc_id: String should match pattern",
                                {"json": {"title": "t", "text": "Some text.", "doc_id": "../../x"}})),
    ("json-doc-id-nul", Case("POST", "/documents", 422, "body.doc_id: String should match pattern",
                             {"json": {"title": "t", "text": "Some text.", "doc_id": "a\u0000b"}})),
    ("upload-doc-id-dotdot", Case("POST", "/documents", 201, None,
                                  {"files": {"file": ("a.txt", GOOD_TEXT)}, "data": {"doc_id": "../../matrix_evil_id"}},
                                  cleanup=True)),
    ("json-doc-id-dots", Case("POST", "/documents", 422, "document id '..' is reserved",
                              {"json": {"title": "t", "text": "Some text.", "doc_id": ".."}})),
    ("json-doc-id-current", Case("POST", "/documents", 422, "document id 'CURRENT' is reserved",
                                 {"json": {"title": "t", "text": "Some text.", "doc_id": "CURRENT"}})),
    ("upload-doc-id-current", Case("POST", "/documents", 422, "'CURRENT' is reserved",
                                   {"files": {"file": ("a.txt", GOOD_TEXT)}, "data": {"doc_id": "CURRENT"}})),
    ("json-deeply-nested", Case("POST", "/documents", 422, "nested too deeply", _raw(b"[" * 100_000 + b"]" * 100_000))),
    ("json-5000-digit-number", Case("POST", "/documents", 422, "Exceeds the limit (4300 digits)",
                                    _raw(b'{"title": "t", "text": "x", "n": ' + b"9" * 5000 + b"}"))),
    ("ask-deeply-nested", Case("POST", "/ask", 400, "error parsing the body", _raw(b"[" * 100_000 + b"]" * 100_000))),
    ("ask-top-k-string", Case("POST", "/ask", 422, "body.top_k: Input should be a valid integer",
                              {"json": {"question": "Which port?", "top_k": "5"}})),
    ("ask-top-k-bool", Case("POST", "/ask", 422, "body.top_k: Input should be a valid integer",
                            {"json": {"question": "Which port?", "top_k": True}})),
]


@pytest.fixture(scope="module")
def matrix_client(seed_index_dir: Path, embedder: Embedder,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path_factory.mktemp("matrix")
    index_dir = root / "index"
    shutil.copytree(seed_index_dir, index_dir)
    settings = Settings(index_dir=index_dir, seeds_dir=SEEDS)
    app = create_app(settings, QAService(IndexStore.open(index_dir, embedder), settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, root


def _snapshot(client: TestClient) -> dict[str, Any]:
    docs = client.get("/documents").json()
    return {"list": docs, "texts": {d["doc_id"]: client.get(f"/documents/{d['doc_id']}").content for d in docs}}


@pytest.fixture(scope="module")
def before(matrix_client: tuple[TestClient, Path]) -> dict[str, Any]:
    return _snapshot(matrix_client[0])


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_bad_input(case: Case, matrix_client: tuple[TestClient, Path], before: dict[str, Any]) -> None:
    client, _ = matrix_client
    kwargs = dict(case.kwargs)
    if kwargs.get("content") == "stream":
        kwargs["content"] = _stream_multipart(FIFTY_MB)
    response = client.request(case.method, case.path, **kwargs)
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert response.status_code in expected, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        assert isinstance(body["detail"], str) and body["detail"], body
        if case.detail is not None:
            assert case.detail in body["detail"]
    elif case.cleanup:
        (doc_id,) = body["documents"]
        data = kwargs.get("files", {}).get("file", (None, b""))[1]
        # the client's file name or doc_id never becomes a path; without a clean doc_id the id is the content hash
        if "data" in kwargs:
            assert doc_id.startswith("matrix_evil_id") or ".." not in doc_id
            assert "/" not in doc_id
        else:
            assert doc_id == f"upload_{hashlib.sha256(data).hexdigest()[:16]}"
        assert client.delete(f"/documents/{doc_id}").status_code == 200
    elif case.path == "/search":
        assert isinstance(body, list)
    else:
        assert body["answer"] is None or isinstance(body["answer"], str)


def test_after_the_matrix_the_index_is_unchanged(matrix_client: tuple[TestClient, Path],
                                                 before: dict[str, Any]) -> None:
    client, root = matrix_client
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert _snapshot(client) == before
    answer = client.post("/ask", json={"question": "Which port did the US patrol boats reach?"}).json()
    assert answer["citations"][0]["doc_id"] == "003_15bbf54440315bf5"
    # nothing named after the hostile upload names was written anywhere near the index or in /tmp
    assert not [p for p in root.parent.parent.rglob("matrix_evil*")]  # the whole pytest tmp tree
    for place in (Path("/tmp"), Path("/"), ROOT, ROOT.parent):
        assert not list(place.glob("matrix_evil*"))


# ---- CLI side ---------------------------------------------------------------------------------------------------
def _qa(args: list[str], index_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir)}
    return subprocess.run([str(QA), *args], capture_output=True, text=True, env=env, timeout=300, cwd=index_dir.parent)


def test_cli_empty_question_is_exit_2_one_line(seed_index_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    result = _qa(["ask", ""], index_dir)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: question is empty; ask something about the articles"]
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_index_skips_binary_and_indexes_the_good_files(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_bytes(GOOD_TEXT)
    (docs / "festival.md").write_bytes(b"# Zorblax Festival\n\nThe zorblax festival was held in Quenton in 1873.\n")
    (docs / "blob.txt").write_bytes(bytes(range(256)) * 16)
    (docs / "latin.md").write_bytes("caf\u00e9 ".encode("latin-1") * 10)
    index_dir = tmp_path / "index"
    result = _qa(["index", str(docs), "--quiet"], index_dir)
    assert result.returncode == 1, result.stderr  # 1: some files were skipped
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "documents: 3 added, 0 changed, 0 unchanged, 0 removed, 1 skipped"
    assert f"skipped {docs / 'blob.txt'}: file looks binary (contains NUL bytes)" in lines
    asked = _qa(["ask", "When was the zorblax bridge opened?", "--json"], index_dir)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["answer"] == "1901"
    assert answer["citations"][0]["quote"] == ("The zorblax bridge over the Quen river was opened in 1901 by the mayor "
                                               "of Quenton.")
