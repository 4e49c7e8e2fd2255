"""Shared fixtures: the real model and a real on-disk index of the seed articles, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.embedder import Embedder
from qa.config import Settings
from qa.service import QAService

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved index of the seeds; tests must copy it (see ``index_copy``) before writing to it."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    service = QAService.from_settings(Settings(index_dir=index_dir, seeds_dir=SEEDS), build_from_seeds=True)
    assert len(service.store.snapshot.entries) == 2
    return index_dir


@pytest.fixture(scope="session")
def seed_service(seed_index_dir: Path) -> QAService:
    """A read-only service over the seed index (do not add or delete documents through it)."""
    return QAService.from_settings(Settings(index_dir=seed_index_dir, seeds_dir=SEEDS))


@pytest.fixture
def index_copy(seed_index_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the seed index."""
    target = tmp_path / "index"
    shutil.copytree(seed_index_dir, target)
    return target
