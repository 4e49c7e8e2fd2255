"""Reading through the Milvus backend: document versions cached by version (content and layout) are never served
stale, even after another replica replaced the document; the cache drops the least recently read versions first; a
document reads back split as it was written, whatever the rules of the reading code."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from index.chunking import ChunkParams, chunk_document
from index.documents import Document, content_hash
from index.embedder import Embedder
from index.errors import IndexMismatchError
from index.milvus import MilvusStore, document_rows, start_lite
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
    assert cache.get("a", first.version) is first  # now b is the least recently read
    cache.put(third)  # 300 characters: over the budget, b goes
    assert (cache.get("a", first.version), cache.get("b", second.version), cache.get("c", third.version)) == \
        (first, None, third)
    assert cache.get("a", "another version") is None
    assert cache.terms(first) == frozenset({"ship", "sail"})


def test_a_document_written_before_layouts_were_stored_is_named_then_split_again(two_replicas) -> None:  # type: ignore[no-untyped-def]
    """A collection written before each document's layout was stored re-split the text when reading it; a document
    split by other rules then (the headline line a sentence, as the rules were) is refused with the command that
    mends it, and ``qa index --resplit`` (the stored documents given back to ``update``) writes every such older
    document anew from its stored text, layout included."""
    a, b = two_replicas
    ferry = Document("ferry", "Ferry fares rise", "Ferry fares rise\n\nThe ferry to Kestrel Island leaves at nine.")
    harbour = Document("harbour", "Harbour", "The harbour master is Ada Lind.")  # split alike then and now
    for doc in (ferry, harbour):
        earlier, chunks = chunk_document(doc.doc_id, doc.text, ChunkParams())  # the headline line a sentence
        rows = document_rows(doc, earlier, chunks, a.embedder.encode([s.text for s in earlier]))
        head = rows["heads"][0]
        meta = json.loads(head["meta"])
        rows["documents"] = rows["documents"][:meta.pop("layout_parts") * -1]  # as written then: the text alone
        head["meta"] = json.dumps(meta)
        a.write_rows([rows])
    assert b.snapshot.document("harbour") == harbour
    with pytest.raises(IndexMismatchError, match=r"'ferry' .* split into sentences by an earlier version.* "
                                                 r"`qa index --resplit`"):
        b.snapshot.document("ferry")
    assert sorted(b.update(list(b.stored_documents())).changed) == ["ferry", "harbour"]
    view = a.snapshot
    assert (view.document("ferry"), view.document("harbour")) == (ferry, harbour)
    assert [s.text for s in view.entries["ferry"].sentences] == ["The ferry to Kestrel Island leaves at nine."]
    assert view.n_sentences == 2
    assert sorted(b.update(list(b.stored_documents())).unchanged) == ["ferry", "harbour"]
