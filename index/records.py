"""A document as stored on disk (in ``documents.jsonl`` and in log records) and back: text, metadata, sentence
offsets and passages as sentence ranges; the vectors travel beside it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.documents import Chunk, Document, Span
from index.snapshot import DocEntry


def layout(sentences: Sequence[Span], chunks: Sequence[Chunk]) -> dict[str, list[list[int]]]:
    """How a document was split, as stored: sentence offsets, and passages as sentence ranges."""
    return {"sentences": [[s.start, s.end] for s in sentences],
            "chunks": [[c.first_sentence, c.last_sentence] for c in chunks]}


def spans_of(doc_id: str, text: str, stored: dict) -> tuple[tuple[Span, ...], tuple[Chunk, ...]]:
    """The sentences and passages of a stored ``layout`` (raises ValueError/KeyError/TypeError/IndexError if bad)."""
    sents = tuple(Span(doc_id, s, e, text[s:e]) for s, e in stored["sentences"])
    chunks = tuple(Chunk(doc_id, sents[a].start, sents[b].end, text[sents[a].start : sents[b].end], a, b)
                   for a, b in stored["chunks"])
    return sents, chunks


def stored_record(entry: DocEntry) -> dict:
    """A document as stored in ``documents.jsonl`` and in log records (without its FAISS ids)."""
    d = entry.doc
    return {**d.metadata(), "sha256": entry.sha256, "text": d.text, **layout(entry.sentences, entry.chunks)}


def entry_of(record: dict, vectors: np.ndarray) -> DocEntry:
    """The DocEntry of a stored record with its sentence vectors (raises ValueError/KeyError/TypeError if bad)."""
    doc = Document.from_stored(record)
    sents, chunks = spans_of(doc.doc_id, doc.text, record)
    if len(vectors) != len(sents):
        raise ValueError(f"document {doc.doc_id!r} has {len(sents)} sentences but {len(vectors)} vectors")
    return DocEntry(doc, record["sha256"], sents, chunks, vectors)
