"""`qa migrate --to milvus` and `--to embedded`: every document and vector copied (nothing embedded again), resumable,
and the copy answers exactly as the original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filter_articles import documents

from api.cli import main
from index.embedder import Embedder
from index.milvus import MilvusStore
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

QUESTIONS = ["Where did Milley and Gerasimov meet?", "Which port did the American patrol boats reach?",
             "What did the generals discuss on the phone?"]


def test_migrate_to_milvus_and_back(index_copy: Path, tmp_path: Path, embedder: Embedder,
                                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    source = IndexStore.open(index_copy, embedder)
    source.update(documents()[:2])
    del source
    monkeypatch.setenv("QA_INDEX_DIR", str(index_copy))
    monkeypatch.setenv("QA_MILVUS_URI", str(tmp_path / "news.db"))
    monkeypatch.setenv("QA_MILVUS_COLLECTION_PREFIX", "migrated")

    def no_embedding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a migration must copy vectors, not embed")

    monkeypatch.setattr(Embedder, "encode", no_embedding)
    assert main(["migrate", "--to", "milvus", "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith("4 copied, 0 already there; index: milvus "
                                                    f"{tmp_path / 'news.db'} (collections migrated_*) (4 documents)")
    assert main(["migrate", "--to", "milvus", "--quiet"]) == 0  # again: an interrupted run resumes like this
    assert "0 copied, 4 already there" in capsys.readouterr().out
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "back"))
    assert main(["migrate", "--to", "embedded", "--quiet"]) == 0
    assert "4 copied, 0 already there" in capsys.readouterr().out
    monkeypatch.undo()

    settings = Settings(index_dir=index_copy)
    original = QAService(IndexStore.open(index_copy, embedder), settings)
    back = QAService(IndexStore.open(tmp_path / "back", embedder), settings)
    milvus = QAService(MilvusStore.open(str(tmp_path / "news.db"), embedder, prefix="migrated"), settings)
    try:
        for q in QUESTIONS:
            assert milvus.ask(q) == original.ask(q)
            assert back.ask(q) == original.ask(q)
        a, b = original.store.snapshot, back.store.snapshot
        assert sorted(a.entries) == sorted(b.entries)
        for doc_id, entry in a.entries.items():
            assert entry.doc == b.entries[doc_id].doc
            assert np.array_equal(entry.vectors, b.entries[doc_id].vectors)  # bit for bit: copied, not recomputed
    finally:
        milvus.store.close()  # type: ignore[attr-defined]
