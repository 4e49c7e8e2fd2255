"""Fixtures of the end-to-end tests: a real server over a copy of the seed index, and a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from page_helpers import CHROMIUM, CHROMIUM_ARGS, seed_service, serve

from api.app import create_app
from index.embedder import Embedder


@pytest.fixture(scope="module")
def live_server(seed_index_dir: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running server; started in a thread, stopped after the module's tests."""
    service = seed_service(seed_index_dir, embedder, tmp_path_factory.mktemp("live-index") / "index")
    served = serve(create_app(service.settings, service))
    yield served.url
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
