"""Fixtures for the HTTP API tests: the app on a writable copy of the seed index, reusing the session model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_test_data import API_KEY
from fastapi.testclient import TestClient

from api.app import create_app
from index.embedder import Embedder
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
def make_client(index_copy: Path, embedder: Embedder) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**settings)`` -> a TestClient (lifespan started) over a private copy of the seed index."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(index_dir=index_copy, seeds_dir=SEEDS, **overrides)
        service = QAService(IndexStore.open(index_copy, embedder), settings)
        client = TestClient(create_app(settings, service), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def keyed_client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(api_key=API_KEY)
