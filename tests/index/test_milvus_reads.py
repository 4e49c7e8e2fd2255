"""Reading through the Milvus backend: document versions cached by content hash are never served stale, even after
another replica replaced the document; the cache drops the least recently read versions first."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from index.chunking import ChunkParams, chunk_document
from index.documents import Document, content_hash
from index.embedder import Embedder
from index.milvus import MilvusStore, start_lite
from index.milvus_view import Entry, EntryCache


@pytest.fixture
def two_replicas(tmp_path, embedder: Embedder) -> Iterator[tuple[MilvusStore, MilvusStore]]:  # type: ignore[no-untyped-def]
    engine, uri = start_lite(tmp_path / "reads.db")
    prefix = f"reads{os.getpid()}"
    a = MilvusStore.open(uri, embedder, prefix=prefix, create=True)
    b = MilvusStore.open(uri, embedder, prefix=prefix)
    yield a, b
    a.drop()
    b.close()
    a.close()
    engine.stop()


def test_a_document_replaced_through_another_replica_is_read_new(two_replicas) -> None:  # type: ignore[no-untyped-def]
    a, b = two_replicas
    old = Document("harbour", "Harbour", "The ferry to Kestrel Island leaves at nine. The fare is four crowns.")
    new = Document("harbour", "Harbour", "The ferry to Kestrel Island now leaves at noon.")
    a.update([old])
    assert a.snapshot.document("harbour") == old  # read once: cached by A
    assert a.snapshot.terms_of_document("harbour") >= {"crown", "fare"}
    assert b.update([new]).changed == ["harbour"]
    view = a.snapshot
    assert view.document("harbour") == new
    assert "crown" not in view.terms_of_document("harbour")
    b.remove("harbour")
    assert a.snapshot.document("harbour") is None


def _entry(doc_id: str, chars: int) -> Entry:
    doc = Document(doc_id, doc_id, ("Ships sail. " * chars)[:chars])
    sentences, chunks = chunk_document(doc_id, doc.text, ChunkParams())
    return Entry(doc, content_hash(doc), content_hash(doc)[:16], tuple(sentences), tuple(chunks))


def test_the_cache_drops_the_least_recently_read_versions_first() -> None:
    cache = EntryCache(max_chars=250)
    first, second, third = _entry("a", 100), _entry("b", 100), _entry("c", 100)
    cache.put(first)
    cache.put(second)
    assert cache.get("a", first.sha256) is first  # now b is the least recently read
    cache.put(third)  # 300 characters: over the budget, b goes
    assert (cache.get("a", first.sha256), cache.get("b", second.sha256), cache.get("c", third.sha256)) == \
        (first, None, third)
    assert cache.get("a", "another version") is None
    assert cache.terms(first) == frozenset({"ship", "sail"})
