"""Schemathesis against the app's own OpenAPI schema, bounded: no 5xx, and every documented response matches it.

The streaming variant of ``POST /v1/chat/completions`` (``stream: true``) answers ``text/event-stream``, which the
schema does not describe as JSON; schemathesis still calls it and the no-5xx check applies, but a response that is
an event stream is not validated against the JSON response model (see ``_checks_for``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from index.embedder import Embedder
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


# The schema is read at collection time, so the app exists at import; its service and settings (a private copy of
# the seed index) are filled in by the fixture below before any request is made.
app = create_app(Settings(index_dir=Path(tempfile.gettempdir()) / "qa-fuzz-placeholder", seeds_dir=SEEDS))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def fuzz_service(seed_index_dir: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    index_dir = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(seed_index_dir, index_dir)
    app.state.settings = Settings(index_dir=index_dir, seeds_dir=SEEDS)
    app.state.service = QAService(IndexStore.open(index_dir, embedder), app.state.settings)
    yield
    app.state.service = None


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    response = case.call()
    checks = [not_a_server_error]
    if not response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        checks.append(response_schema_conformance)
    case.validate_response(response, checks=checks)
