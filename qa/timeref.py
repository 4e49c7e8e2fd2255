"""Relative dates in an answer ("on Tuesday", "last week", "this month") resolved against the article's publication
date, the way a news reader does: a bare weekday is the latest such day on or before publication."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PATTERN = re.compile(
    r"\b(?:(?P<rel>last|this|next|on)\s+)?(?P<day>" + "|".join(WEEKDAYS) + r")\b"
    r"|\b(?P<word>yesterday|today|tonight|tomorrow)\b"
    r"|\b(?P<prel>last|this|next)\s+(?P<period>week|month|year)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TimeRef:
    """A relative date phrase at ``start:end`` of the text it was found in, and what it means: a day
    (``YYYY-MM-DD``), a week (``YYYY-MM-DD/YYYY-MM-DD``, Monday to Sunday), a month (``YYYY-MM``) or a year."""

    start: int
    end: int
    text: str
    resolved: str


def resolve(text: str, published: str | None) -> list[TimeRef]:
    """Every relative date phrase in ``text`` with what it means in an article published on ``published``
    (ISO ``YYYY-MM-DD``); nothing when the article has no date."""
    if not published:
        return []
    try:
        base = date.fromisoformat(published)
    except ValueError:
        return []
    out = []
    for m in _PATTERN.finditer(text):
        value = _meaning(m, base)
        if value is not None:
            out.append(TimeRef(m.start(), m.end(), m.group(0), value))
    return out


def weekday_named(ref: TimeRef) -> int | None:
    """The weekday a phrase names (0 = Monday: "on Tuesday", "last Tuesday" give 1), None for any other phrase."""
    m = _PATTERN.fullmatch(ref.text)
    return WEEKDAYS.index(m.group("day").lower()) if m is not None and m.group("day") else None


def bounds(resolved: str) -> tuple[date, date]:
    """The first and last day of a ``TimeRef.resolved`` value: a day, a week ``YYYY-MM-DD/YYYY-MM-DD``, a month
    ``YYYY-MM`` or a year ``YYYY``."""
    if "/" in resolved:
        first, last = resolved.split("/")
        return date.fromisoformat(first), date.fromisoformat(last)
    if len(resolved) == 4:
        return date(int(resolved), 1, 1), date(int(resolved), 12, 31)
    if len(resolved) == 7:
        year, month = int(resolved[:4]), int(resolved[5:])
        following = date(year + month // 12, month % 12 + 1, 1)
        return date(year, month, 1), following - timedelta(days=1)
    day = date.fromisoformat(resolved)
    return day, day


def _meaning(m: re.Match[str], base: date) -> str | None:
    if m.group("day"):
        target = WEEKDAYS.index(m.group("day").lower())
        rel = (m.group("rel") or "").lower()
        back = (base.weekday() - target) % 7
        if rel == "next":
            return (base + timedelta(days=(target - base.weekday()) % 7 or 7)).isoformat()
        if rel == "last" and back == 0:
            back = 7
        return (base - timedelta(days=back)).isoformat()
    if m.group("word"):
        shift = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}[m.group("word").lower()]
        return (base + timedelta(days=shift)).isoformat()
    step = {"last": -1, "this": 0, "next": 1}[m.group("prel").lower()]
    period = m.group("period").lower()
    if period == "week":
        monday = base - timedelta(days=base.weekday()) + timedelta(weeks=step)
        return f"{monday.isoformat()}/{(monday + timedelta(days=6)).isoformat()}"
    if period == "month":
        month = base.year * 12 + base.month - 1 + step
        return f"{month // 12:04d}-{month % 12 + 1:02d}"
    return f"{base.year + step:04d}"
