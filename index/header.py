"""Metadata a plain-text news article writes in its first lines: title, byline, "Source:" / "Published:" / URL lines,
a date line and a wire dateline ("MOSCOW, Nov 24 (Reuters) –")."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER_LINES = 10  # metadata is looked for in an article's first lines only: dates further down are events it reports
MAX_NAME_CHARS = 80  # a byline or source name longer than this is a sentence, not a name

_URL = re.compile(r"https?://\S+")
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
          r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_TIME = r"(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s+[A-Z]{2,4}\b)?)?"
# "November 24, 2021", "Nov. 24, 2021 10:05 AM EST", "24 November 2021", "2021-11-24" or "2021-11-24T10:00:00Z"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}\b{_TIME}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b{_TIME}"
    r"|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d))"
)
# "By AFP", "By Dana Whitfield", "by Dana Whitfield and Tom Ito": a line of names only (each word capitalized, or
# "and" / "&" / "," between them; "de", "van" ... allowed inside a name)
_NAME_WORD = r"(?:[A-Z][\w'’.-]*|de|da|del|der|van|von|la|le|bin|al)"
_BYLINE = re.compile(rf"^[Bb]y:?\s+({_NAME_WORD}(?:(?:\s+|\s*,\s*|\s+and\s+|\s*&\s*){_NAME_WORD})*)\.?$")
_LABEL = re.compile(r"^(original url|source|url|published|publication date|date|author|byline|site)\s*:\s*(.*)$",
                    re.IGNORECASE)
# "Related article: Putin Accuses West …", "READ MORE: …", "See also: …": a link to another story, its headline
_TEASER = re.compile(r"^(?:related(?:\s+(?:article|story|stories|content|coverage))?|read\s+more|read\s+also"
                     r"|also\s+read|see\s+also|more\s+on\s+this(?:\s+story)?)\s*:", re.IGNORECASE)
# "Source: Al Jazeera and news agencies" names the site Al Jazeera
_AGENCIES = re.compile(r"\s+(?:and|&)\s+(?:news\s+)?agencies\.?$", re.IGNORECASE)
# "MOSCOW, Nov 24 (Reuters) –", "PARIS (AFP) -", "WASHINGTON, Nov. 24, 2021 (AP) —": the wire in parentheses
_DATELINE = re.compile(r"^[A-Z][A-Z .'’-]+(?:,[^()\n]{0,40})?\s*\(([A-Z][A-Za-z .&]{0,29})\)\s*[-–—]")


@dataclass(frozen=True, slots=True)
class Header:
    """What an article's first lines say about it (None where they say nothing)."""

    title: str
    url: str | None = None
    published_raw: str | None = None
    author: str | None = None
    site_name: str | None = None


def read_header(text: str) -> Header:
    """Title (the first non-empty line), URL, publication date as written, author and site name from the first
    ``HEADER_LINES`` non-empty lines of a plain-text article.

    A "Published:" (or "Date:") line gives the date, else the first date in those lines; a byline ("By AFP") or an
    "Author:" line the author, else the wire of a dateline ("MOSCOW, Nov 24 (Reuters) –" gives "Reuters"; its date
    has no year, so it dates nothing); "Source:" gives the URL when it is one and else the site name."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    head = lines[:HEADER_LINES]
    title = head[0].lstrip("# ").strip()[:300] if head else ""
    labels: dict[str, str] = {}  # "Source:", "Published:" ... lines anywhere (a page's footer holds some), first wins
    for i, line in enumerate(lines):
        found = _label(line)
        if found:
            value = found.group(2).strip() or (lines[i + 1] if i + 1 < len(lines) else "")
            labels.setdefault(found.group(1).lower(), value)
    byline = next((name for line in head if (name := _name(_BYLINE.match(line)))), None)
    wire = next((name for line in head if (name := _name(_DATELINE.match(line)))), None)
    url = next((m.group(0) for key in ("original url", "source", "url")
                if (m := _URL.search(labels.get(key, ""))) is not None), None)
    source = _AGENCIES.sub("", labels.get("source") or labels.get("site") or "")
    dated = labels.get("published") or labels.get("publication date") or labels.get("date")
    date = _DATE.search(dated) if dated else None
    date = date or _DATE.search("\n".join(head))
    author = _short(labels.get("author") or labels.get("byline")) or byline or wire
    return Header(title, url, date.group(0) if date else None, author,
                  _short(source) if source and not _URL.search(source) else None)


def is_link_line(line: str) -> bool:
    """A line that is only a link ("https://…"), a label whose value is one or is on the next line ("Original url:",
    "Source: https://…"), or a teaser linking to another article ("Related article: Putin Accuses West …", "Read
    more: …"): metadata ``read_header`` reads or a page's navigation, not the article's text, so it is not indexed as a
    sentence (a URL's slug or another story's headline would otherwise match questions by its words)."""
    line = line.strip()
    if _URL.fullmatch(line) or _TEASER.match(line):
        return True
    found = _label(line)
    value = found.group(2).strip() if found else None
    return value is not None and (not value or _URL.fullmatch(value) is not None)


# what a date line says besides the date: "Published 14 March 2024 by the Eastern Energy Desk", "Updated: Nov. 24, 2021
# 10:05 AM EST", "Posted on 2021-11-24 | By AFP"
_DATE_WORDS = re.compile(r"\b(?:(?:first|last)\s+)?(?:published|updated|posted|modified)\b|\b(?:on|at)\b|[|·•,:;–—-]",
                         re.IGNORECASE)
# a byline as _BYLINE reads it, and also "By the Associated Press", "by the Eastern Energy Desk"
_BY_NAMES = re.compile(rf"^[Bb]y:?\s+(?:the\s+)?{_NAME_WORD}(?:(?:\s+|\s*,\s*|\s+and\s+|\s*&\s*|\s+of\s+(?:the\s+)?)"
                       rf"{_NAME_WORD})*\.?$")


def is_signature_line(line: str) -> bool:
    """A header line that only signs or dates the article: a byline ("By AFP"), a date ("November 24, 2021"), or a date
    with its label and byline ("Published 14 March 2024 by the Eastern Energy Desk"). ``read_header`` reads them as the
    author and the publication date; as sentences they would answer "When will construction start?" with the day the
    article was published, so the first ``HEADER_LINES`` lines of an article are not indexed as sentences when they
    are one (a date line further down is an event the article reports)."""
    line = line.strip()
    if _BYLINE.match(line) or (len(line) <= MAX_NAME_CHARS and _BY_NAMES.match(line)):
        return True
    found = _DATE.search(line)
    if found is None:
        return False
    rest = " ".join(_DATE_WORDS.sub(" ", f"{line[:found.start()]} {line[found.end():]}").split())
    return not rest or (len(rest) <= MAX_NAME_CHARS and _BY_NAMES.match(rest) is not None)


def _label(line: str) -> re.Match[str] | None:
    """A stripped line's "Label: value" (group 1 the label, group 2 the value), for the labels ``_LABEL`` knows."""
    return _LABEL.match(line) if ":" in line[:20] else None


def _name(found: re.Match[str] | None) -> str | None:
    return _short(found.group(1)) if found else None


def _short(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else None
    return value if value and len(value) <= MAX_NAME_CHARS else None
