"""Value objects for the indexing side: documents, sentences and passages with exact offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Document:
    """One article. All offsets elsewhere index into ``text``."""

    doc_id: str
    title: str
    text: str
    url: str | None = None
    published: str | None = None
    source: str | None = None

    @property
    def sha256(self) -> str:
        return content_hash(self)


def content_hash(doc: Document) -> str:
    """Hash of everything that affects what is indexed or served for a document."""
    h = hashlib.sha256()
    for part in (doc.title, doc.url or "", doc.published or "", doc.text):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence: ``document.text[start:end] == text``."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage made of consecutive sentences ``[first_sentence, last_sentence]``."""

    doc_id: str
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int
