"""Metadata filters on questions and searches (since, until, source): parsing and what they mean.

Retrieval applies a filter inside the search, not to its results (each backend in its own way: the embedded one
searches the FAISS ids of the allowed documents, Milvus a filter expression), so a filtered question still gets its
top k.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from index.documents import Document
from index.errors import InvalidInputError
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


def published_date(doc: Document) -> date | None:
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
            published = published_date(doc)
            if published is None or (self.since is not None and published < self.since) or (
                    self.until is not None and published > self.until):
                return False
        return self.source is None or self._source_matches(doc)

    def source_forms(self) -> tuple[str, str, str]:
        """``source`` as each rule compares it: folded (a doc_id prefix), without ``www.`` (a host), and as a name
        key (a site or author name; empty when it has no letter or digit)."""
        assert self.source is not None
        given = fold(self.source)
        value = given.removeprefix("www.")
        return given, value, _name_key(value)

    def _source_matches(self, doc: Document) -> bool:
        given, value, key = self.source_forms()
        return (fold(doc.doc_id).startswith(given) or bool(key) and key in name_keys(doc)
                or value in host_values(doc))

    def doc_ids(self, snap: Any) -> list[str]:
        """Ids of the view's documents these filters allow, in its order."""
        entries: Mapping[str, Any] = snap.entries
        return [doc_id for doc_id, entry in entries.items() if self.matches(entry.doc)]


def name_keys(doc: Document) -> frozenset[str]:
    """The name keys a ``source`` filter matches ``doc`` by: its site name's and author's (without ``www.``)."""
    return frozenset(_name_key(fold(name.strip()).removeprefix("www."))
                     for name in (doc.site_name, doc.author) if name is not None)


def host_values(doc: Document) -> frozenset[str]:
    """Every ``source`` value (without ``www.``) matching ``doc`` by its URL host: the host, its first label and every
    trailing run of its labels (``news.bbc.co.uk`` gives ``news.bbc.co.uk``, ``news``, ``bbc.co.uk``, ``co.uk``,
    ``uk``)."""
    host = _host(doc.url)
    if host is None:
        return frozenset()
    labels = host.split(".")
    return frozenset([host, labels[0]] + [".".join(labels[i:]) for i in range(1, len(labels))])
