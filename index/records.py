"""A document as stored on disk (in ``documents.jsonl`` and in log records) and back: text, metadata, sentence
offsets and passages as sentence ranges; the vectors travel beside it."""

from __future__ import annotations

import numpy as np

from index.documents import Chunk, Document, Span
from index.snapshot import DocEntry


def stored_record(entry: DocEntry) -> dict:
    """A document as stored in ``documents.jsonl`` and in log records (without its FAISS ids)."""
    d = entry.doc
    return {**d.metadata(), "sha256": entry.sha256, "text": d.text,
            "sentences": [[s.start, s.end] for s in entry.sentences],
            "chunks": [[c.first_sentence, c.last_sentence] for c in entry.chunks]}


def entry_of(record: dict, vectors: np.ndarray) -> DocEntry:
    """The DocEntry of a stored record with its sentence vectors (raises ValueError/KeyError/TypeError if bad)."""
    doc = Document.from_stored(record)
    text = doc.text
    sents = tuple(Span(doc.doc_id, s, e, text[s:e]) for s, e in record["sentences"])
    chunks = tuple(Chunk(doc.doc_id, sents[a].start, sents[b].end, text[sents[a].start : sents[b].end], a, b)
                   for a, b in record["chunks"])
    if len(vectors) != len(sents):
        raise ValueError(f"document {doc.doc_id!r} has {len(sents)} sentences but {len(vectors)} vectors")
    return DocEntry(doc, record["sha256"], sents, chunks, vectors)
