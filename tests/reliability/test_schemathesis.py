"""Schemathesis with every check (`st run --checks all`) against a real `qa serve` with an API key, whose OpenAPI
schema says exactly what it accepts and answers: documented status codes, content types (the event stream too) and
headers, schema-valid requests accepted, schema-invalid ones rejected, `Allow` on 405, the key enforced, deleted
documents gone.

The default run makes QA_FUZZ_EXAMPLES=25 examples per operation (about 2 minutes); `make fuzz` makes 200 (about 12
minutes on a loaded 2-core machine; QA_FUZZ_SEED picks another seed). schemathesis' own expected statuses apply: a
question or text over its QA_MAX_* limit is a 422 like any value the schema's maxLength refuses. What JSON Schema
cannot say is handled by the hooks below and the config, each with its reason:
- ``since`` after ``until`` is a 422 ("no date can match"), but a schema cannot relate two fields: a schema-valid
  request with both dates gets them in order (``map_case``).
- An upload's ``file`` must be a readable article (its name's suffix picks the parser), which no schema keyword can
  state, and schemathesis sends random bytes or a sample image as ``file``: a schema-valid upload refused for its
  content is not counted as "schema-valid request rejected" (``filter_failure``); every other check still applies.
- The server runs with QA_MAX_DOCUMENT_CHARS=5000 (see DOCUMENT_CHARS), which its schema states like any setting.
- `--checks all` includes a 10 s response-time check; this is no speed test, so the bound is 120 s (a hang).

Not checked here (the server answers them before the app, so the schema cannot describe them): hypercorn's own 400
for a malformed request and 431 for headers over 64 KiB, with an empty body (docs/limits.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from conftest_server import ROOT, serve
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import NOT_BLANK, QUESTION_TEXT
from qa.config import Settings

ST = ROOT / ".venv" / "bin" / "st"
API_KEY = "fuzz-key"
# The schema's maxLength for a document's text (QA_MAX_DOCUMENT_CHARS): at the default 200,000 schemathesis' coverage
# phase cannot build a string that long matching the text's pattern and sends a placeholder body `0` it labels valid.
DOCUMENT_CHARS = 5_000
EXAMPLES = int(os.environ.get("QA_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("QA_FUZZ_SEED", "20240611")
# Why the server refuses a generated upload: schemathesis names a file after its signature (`file.png`, `file.pdf`,
# or `file` for random bytes), and the content is no article.
FILE_REFUSALS = ("unsupported file type", "PDF file ")
CONFIG = """\
hooks = "test_schemathesis"
headers = {{ Authorization = "Bearer {key}" }}

[checks]
# `--checks all` includes a response-time check (10 s by default). This is no speed test: the bound, like
# --request-timeout, only catches a hang (the first question after startup warms the models: seconds when busy).
max_response_time = 120
"""


# ---- hooks, loaded by the `st` process from this module (see CONFIG) ------------------------------------------
def _in_order(values: dict[str, Any]) -> None:
    """Swap ``since`` and ``until`` when both are dates and ``since`` is the later one."""
    since, until = values.get("since"), values.get("until")
    try:
        if date.fromisoformat(since) > date.fromisoformat(until):  # type: ignore[arg-type]
            values["since"], values["until"] = until, since
    except (TypeError, ValueError):
        pass


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """A schema-valid request's ``since`` and ``until`` in order (a schema cannot relate two fields)."""
    if case.meta is not None and case.meta.generation.mode.is_positive:
        for values in (case.body, case.query):
            if isinstance(values, dict):
                _in_order(values)
    return case


@schemathesis.hook
def filter_failure(context: schemathesis.HookContext, failure: Any, case: schemathesis.Case, response: Any) -> bool:
    """Keep every failure but "schema-valid request rejected" for an upload refused for what its generated file
    holds."""
    if failure.code != "ST202" or case.meta is None:
        return True
    refused_file = (case.media_type == "multipart/form-data" and response.status_code == 422
                    and response.json()["detail"].startswith(FILE_REFUSALS))
    return not refused_file


# ---- the test --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_server(seed_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index_dir = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(seed_index_dir, index_dir)
    for _, url in serve(index_dir, QA_API_KEY=API_KEY, QA_MAX_DOCUMENT_CHARS=str(DOCUMENT_CHARS)):
        yield url


def test_api_passes_every_schemathesis_check(fuzz_server: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(key=API_KEY))
    report = tmp_path / "report.json"
    result = subprocess.run(
        [str(ST), "--config-file", str(config), "run", f"{fuzz_server}/openapi.json", "--checks", "all",
         "--max-examples", str(EXAMPLES), "--seed", SEED, "--workers", "1", "--no-color", "--request-timeout", "120",
         "--report", "json", "--report-json-path", str(report)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
        capture_output=True, text=True, timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-30_000:] + result.stderr[-5_000:]
    summary = json.loads(report.read_text())
    operations = sum(len(methods) for methods in httpx.get(f"{fuzz_server}/openapi.json").json()["paths"].values())
    assert summary["operations"] == {"total": operations, "selected": operations, "tested": operations, "errored": 0,
                                     "skipped": 0, "skip_reasons": []}
    phases = {name: phase["status"] for name, phase in summary["phases"].items()}
    assert (phases["coverage"], phases["fuzzing"], phases["stateful"]) == ("success", "success", "success")
    assert phases["examples"] in ("skip", "success")  # skipped: the schema carries no request examples
    assert (summary["failures"], summary["errors"], summary["test_cases"]["with_failures"]) == ([], [], 0)


# ---- what the schema promises, checked exactly (in process, no server) -------------------------------------------
@pytest.fixture(scope="module")
def keyed_app(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The app without a service (no lifespan): routing, body parsing and the schema need none."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("no-index"), api_key=API_KEY, max_question_chars=300,
                        max_top_k=7)
    return TestClient(create_app(settings))


def test_blank_patterns_are_what_the_service_strips() -> None:
    """The schema's "not blank" is exactly Python's: a question with only these characters is refused as empty."""
    every = "".join(map(chr, range(0x110000)))
    assert re.sub(NOT_BLANK, "", every) == "".join(c for c in every if not c.strip())
    assert re.sub(QUESTION_TEXT, "", every) == "".join(c for c in every if not c.replace("\x00", " ").strip())


def test_schema_states_the_configured_limits_and_key(keyed_app: TestClient) -> None:
    schema = keyed_app.get("/openapi.json").json()
    ask = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert (ask["question"]["maxLength"], ask["top_k"]["minimum"], ask["top_k"]["maximum"]) == (300, 1, 7)
    secured = sorted(f"{method.upper()} {path}" for path, methods in schema["paths"].items()
                     for method, operation in methods.items() if "security" in operation)
    assert secured == ["DELETE /documents", "DELETE /documents/{doc_id}", "DELETE /jobs/{job_id}", "POST /documents"]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert sorted(schema["paths"]["/ask"]["post"]["responses"]) == ["200", "400", "403", "408", "413", "415", "422",
                                                                    "500", "503"]
    assert sorted(schema["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]) == [
        "application/json", "text/event-stream"]
    open_schema = TestClient(create_app(Settings(index_dir=Path("unused")))).get("/openapi.json").json()
    assert "securitySchemes" not in open_schema["components"]
    assert "401" not in open_schema["paths"]["/documents"]["post"]["responses"]


def test_405_lists_every_method_of_the_path(keyed_app: TestClient) -> None:
    for method, path, allow in [("PUT", "/documents/x", "DELETE, GET"), ("OPTIONS", "/documents/x", "DELETE, GET"),
                                ("PATCH", "/documents", "DELETE, GET, POST"), ("GET", "/ask", "POST")]:
        response = keyed_app.request(method, path)
        assert (response.status_code, response.headers["allow"], response.json()) == (
            405, allow, {"detail": "Method Not Allowed"}), (method, path)


def test_json_that_is_not_utf8_is_422_like_any_invalid_json(keyed_app: TestClient) -> None:
    response = keyed_app.post("/ask", content=b'{"question": "\xff"}', headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (422, {"detail": "body: invalid JSON ('utf-8' codec can't "
                                                                       "decode byte 0xff in position 14: invalid "
                                                                       "start byte)"})
    response = keyed_app.post("/chat", content=b"[" * 100_000, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"detail": "There was an error parsing the body: JSON "
                                                                       "nested too deeply"})
