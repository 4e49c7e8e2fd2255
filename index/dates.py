"""Publication dates as written ("June 30, 2024", "Nov. 24, 2021 10:05 AM EST", "2021-11-24T10:00:00Z") to ISO dates."""

from __future__ import annotations

import re

MAX_DATE_CHARS = 100
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")


def _settings() -> dict[str, object]:
    # Absolute dates only: "yesterday" or "Wednesday" would date an article by the day it was indexed. Month and year
    # are required ("2021" alone is no date); a missing day is the 1st. The time zone is dropped, not converted: the
    # date stays the one the source wrote ("11:55 PM EST" is still that day).
    return {"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False, "REQUIRE_PARTS": ["month", "year"],
            "PARSERS": ["custom-formats", "absolute-time"]}


def normalise_date(raw: str | None) -> str | None:
    """``raw`` as an ISO 8601 date ``YYYY-MM-DD``, or None when it is not a date with a four-digit year.

    English is tried first (fast); a value with words that English cannot read ("24 novembre 2021") is tried again
    with dateparser's language detection, whose first use loads every locale (about 2 s, once per process)."""
    if raw is None:
        return None
    value = " ".join(raw.split())
    if not value or len(value) > MAX_DATE_CHARS or not _YEAR.search(value):
        return None
    import dateparser

    try:
        parsed = dateparser.parse(value, languages=["en"], settings=_settings())
        if parsed is None and any(c.isalpha() for c in value):
            parsed = dateparser.parse(value, settings=_settings())
    except (ValueError, OverflowError):  # out-of-range parts that slip past dateparser's own checks
        return None
    return parsed.date().isoformat() if parsed is not None else None
