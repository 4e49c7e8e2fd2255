"""Value objects for the indexing side: documents, sentences and passages with exact offsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from index.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Document:
    """One article. All offsets elsewhere index into ``text``."""

    doc_id: str
    title: str
    text: str
    url: str | None = None
    published: str | None = None  # ISO 8601 date YYYY-MM-DD, or None when unknown or unreadable
    source: str | None = None
    published_raw: str | None = None  # the date as the file wrote it ("Nov. 24, 2021 10:05 AM EST")
    author: str | None = None
    site_name: str | None = None
    # How the file was read, not what it says: the encoding a non-UTF-8 file was decoded as, for the indexing
    # summary. Neither stored, hashed nor compared, so re-reading the same text from a UTF-8 copy is "unchanged".
    encoding: str | None = field(default=None, compare=False)
    # The article this one is a copy of (index.duplicates: the same text, or a near-duplicate such as a wire story
    # another outlet ran), set when it is indexed; the original answers, the copy is counted as another outlet.
    duplicate_of: str | None = None

    @property
    def sha256(self) -> str:
        return content_hash(self)

    def metadata(self) -> dict[str, str | None]:
        """Every field but ``text``, as stored beside it in ``documents.jsonl``."""
        return {name: getattr(self, name) for name in _FIELDS if name != "text"}

    @classmethod
    def from_stored(cls, record: dict[str, object]) -> Document:
        """A Document from a stored record; fields added after the record was written (``published_raw``,
        ``author``, ``site_name``) are None, and keys this version does not know are ignored."""
        doc_id, title, text = record["doc_id"], record["title"], record["text"]
        if not (isinstance(doc_id, str) and isinstance(title, str) and isinstance(text, str)):
            raise ValueError("a stored document needs string doc_id, title and text")

        def optional(name: str) -> str | None:
            value = record.get(name)
            return value if isinstance(value, str) else None

        return cls(doc_id, title, text, optional("url"), optional("published"), optional("source"),
                   optional("published_raw"), optional("author"), optional("site_name"),
                   duplicate_of=optional("duplicate_of"))


_FIELDS = ("doc_id", "title", "text", "url", "published", "source", "published_raw", "author", "site_name",
           "duplicate_of")
_LATER_FIELDS = ("published_raw", "author", "site_name", "duplicate_of")


def content_hash(doc: Document) -> str:
    """Hash of everything that affects what is indexed or served for a document. Fields added later count only when
    set, so a document without them keeps the hash it was stored under."""
    h = hashlib.sha256()
    for part in (doc.title, doc.url or "", doc.published or "", doc.text):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    for name in _LATER_FIELDS:
        value = getattr(doc, name)
        if value is not None:
            h.update(f"{name}={value}".encode("utf-8", "surrogatepass"))
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


def check_storable(doc: Document) -> None:
    """Refuse a document the index could not write: text fields must be valid Unicode (no lone surrogates, which
    JSON allows as escapes but UTF-8 cannot encode)."""
    for name, value in {**doc.metadata(), "text": doc.text}.items():
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInputError(f"document {doc.doc_id!r}: {name} holds an invalid character "
                                    f"({value[exc.start]!r} at position {exc.start}, a lone surrogate); "
                                    "send valid Unicode text") from None
