"""Metadata filters on questions and searches (since, until, source) and what they leave of a snapshot.

Retrieval applies a filter inside the search, not to its results: dense search runs over the FAISS ids of the
allowed documents only, and BM25 and fusion rank only their passages, so a filtered question still gets its top k.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import faiss
import numpy as np

from index.documents import Document
from index.errors import InvalidInputError
from index.snapshot import IndexSnapshot, id_selector
from index.text import fold

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(name: str, value: str) -> date:
    """``value`` as a date; it must be written exactly YYYY-MM-DD (``name`` is the parameter, for the message)."""
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:  # 2021-02-30
        pass
    raise InvalidInputError(f"{name} must be an ISO date YYYY-MM-DD, got {value!r}")


def _published(doc: Document) -> date | None:
    """The document's publication date, or None when it has none (or a stored value that is no ISO date)."""
    try:
        return parse_date("published", doc.published) if doc.published is not None else None
    except InvalidInputError:
        return None


def _host(url: str | None) -> str | None:
    """The URL's host name, lower case, without ``www.`` and port: ``themoscowtimes.com``."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:  # a malformed URL, e.g. an unclosed IPv6 bracket
        return None
    return host.removeprefix("www.") if host else None


def _name_key(folded: str) -> str:
    """A folded site or author name without spaces and punctuation: ``al jazeera`` -> ``aljazeera``."""
    return "".join(c for c in folded if c.isalnum())


@dataclass(frozen=True, slots=True)
class Filters:
    """Which documents a question or search may use; every given condition must hold.

    - ``since`` / ``until``: the document's ``published`` date is on or after ``since`` and on or before ``until``
      (both inclusive). A document without a publication date never matches a date filter.
    - ``source`` matches a document, ignoring case, accents and surrounding spaces, when it
      (1) equals the document's ``site_name`` or ``author`` (a wire: ``AFP``, ``Reuters``) ignoring spaces and
      punctuation too (``aljazeera`` matches "Al Jazeera"; a leading ``www.`` ignored on both sides);
      (2) or, with a leading ``www.`` dropped, equals its URL's host name without ``www.`` (``themoscowtimes.com``),
      or that host's first label (``themoscowtimes``), or a trailing run of the host's labels (``bbc.co.uk`` and
      ``co.uk`` match ``news.bbc.co.uk``; ``com`` matches every ``.com`` host);
      (3) or is a prefix of its ``doc_id`` (``003_`` matches ``003_15bbf54440315bf5``).
    """

    since: date | None = None
    until: date | None = None
    source: str | None = None

    @classmethod
    def parse(cls, since: str | None = None, until: str | None = None, source: str | None = None) -> Filters | None:
        """Validated filters from the strings a caller sent; None when none is given (retrieval is then exactly the
        unfiltered one). Raises InvalidInputError (422) on a malformed date, ``since`` after ``until``, or an empty
        ``source``."""
        start = parse_date("since", since) if since is not None else None
        end = parse_date("until", until) if until is not None else None
        if start is not None and end is not None and start > end:
            raise InvalidInputError(f"since ({start}) is after until ({end}); no date can match")
        if source is not None and not source.strip():
            raise InvalidInputError("source is empty; give a site name, a host name or a doc_id prefix")
        if start is None and end is None and source is None:
            return None
        return cls(start, end, source.strip() if source is not None else None)

    def params(self) -> dict[str, str]:
        """The given filters as request fields (``since``, ``until``, ``source``), for a client to send."""
        values = {"since": self.since, "until": self.until, "source": self.source}
        return {name: str(value) for name, value in values.items() if value is not None}

    def describe(self) -> str:
        """The given filters for a message: ``since 2021-11-01, source themoscowtimes``."""
        return ", ".join(f"{name} {value}" for name, value in self.params().items())

    def matches(self, doc: Document) -> bool:
        if self.since is not None or self.until is not None:
            published = _published(doc)
            if published is None or (self.since is not None and published < self.since) or (
                    self.until is not None and published > self.until):
                return False
        return self.source is None or self._source_matches(doc)

    def _source_matches(self, doc: Document) -> bool:
        assert self.source is not None
        given = fold(self.source)
        if fold(doc.doc_id).startswith(given):
            return True
        value = given.removeprefix("www.")
        key = _name_key(value)
        if key and any(name is not None and _name_key(fold(name.strip()).removeprefix("www.")) == key
                       for name in (doc.site_name, doc.author)):
            return True
        host = _host(doc.url)
        return host is not None and (host == value or host.split(".")[0] == value or host.endswith("." + value))

    def doc_ids(self, snap: IndexSnapshot) -> list[str]:
        """Ids of the snapshot's documents these filters allow, in snapshot order."""
        return [doc_id for doc_id, entry in snap.entries.items() if self.matches(entry.doc)]


@dataclass(frozen=True, eq=False)
class Selection:
    """What filters leave of one snapshot: the allowed documents, their passages and a FAISS selector of their
    sentence vectors. ``passage_ids`` and ``selector`` are None when every document is allowed."""

    doc_ids: tuple[str, ...]
    passage_ids: np.ndarray | None
    selector: faiss.IDSelector | None

    @property
    def empty(self) -> bool:
        return not self.doc_ids


def select(snap: IndexSnapshot, filters: Filters) -> Selection:
    """The documents ``filters`` allow in ``snap`` with their passage numbers and FAISS ids (each document's
    sentences hold the contiguous ids ``first_sentence`` onwards, its passages the rows ``first_passage`` onwards)."""
    allowed = set(filters.doc_ids(snap))
    if len(allowed) == len(snap.entries):
        return Selection(tuple(snap.entries), None, None)
    passages: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    for doc_id, entry in snap.entries.items():
        if doc_id in allowed:
            first = entry.first_passage
            passages.append(np.arange(first, first + len(entry.chunks), dtype=np.int64))
            base = entry.first_sentence
            ids.append(np.arange(base, base + len(entry.sentences), dtype=np.int64))
    # in row order, as ranking over all passages sees them (ties keep that order)
    passage_ids = np.sort(np.concatenate(passages)) if passages else np.zeros(0, np.int64)
    faiss_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    return Selection(tuple(d for d in snap.entries if d in allowed), passage_ids, id_selector(faiss_ids))


class SelectionCache:
    """Selections of the latest snapshot seen, by filters (least recently used dropped beyond ``size``); a new
    snapshot starts afresh, and an old one is not kept alive by the cache."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._snap: weakref.ref[IndexSnapshot] | None = None
        self._items: OrderedDict[Filters, Selection] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, snap: IndexSnapshot, filters: Filters) -> Selection:
        with self._lock:
            if self._snap is None or self._snap() is not snap:
                self._snap, self._items = weakref.ref(snap), OrderedDict()
            found = self._items.get(filters)
            if found is not None:
                self._items.move_to_end(filters)
                return found
        selection = select(snap, filters)  # outside the lock: one slow selection does not hold up other questions
        with self._lock:
            if self._snap is not None and self._snap() is snap:
                self._items[filters] = selection
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return selection
