"""Relative dates resolved against the publication date, as a news reader reads them."""

from __future__ import annotations

from datetime import date

import pytest

from qa.timeref import bounds, resolve, weekday_named

PATROL = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern port of "
          "Odessa.")


def test_the_seed_sentence_tuesday_is_the_day_before_publication() -> None:
    [ref] = resolve(PATROL, "2021-11-24")  # a Wednesday
    assert (ref.text, ref.resolved) == ("On Tuesday", "2021-11-23")
    assert PATROL[ref.start : ref.end] == "On Tuesday"


@pytest.mark.parametrize(
    ("phrase", "meaning"),
    [
        ("on Wednesday", "2021-11-24"),  # the publication day itself
        ("last Wednesday", "2021-11-17"),
        ("Thursday", "2021-11-18"),  # a bare weekday is in the past
        ("next Monday", "2021-11-29"),
        ("yesterday", "2021-11-23"),
        ("tomorrow", "2021-11-25"),
        ("last week", "2021-11-15/2021-11-21"),
        ("this month", "2021-11"),
        ("last month", "2021-10"),
        ("next year", "2022"),
    ],
)
def test_phrases(phrase: str, meaning: str) -> None:
    [ref] = resolve(f"The talks happened {phrase} in Helsinki.", "2021-11-24")
    assert (ref.text, ref.resolved) == (phrase, meaning)


def test_january_last_month_is_december_of_the_year_before() -> None:
    assert [r.resolved for r in resolve("It fell last month.", "2022-01-10")] == ["2021-12"]


def test_no_date_or_a_bad_date_resolves_nothing() -> None:
    assert resolve(PATROL, None) == []
    assert resolve(PATROL, "November 2021") == []
    assert resolve("Mondays are quiet.", "2021-11-24") == []  # a habit, not a day


@pytest.mark.parametrize(
    ("resolved", "first", "last"),
    [
        ("2021-11-23", "2021-11-23", "2021-11-23"),
        ("2021-11-15/2021-11-21", "2021-11-15", "2021-11-21"),
        ("2021-11", "2021-11-01", "2021-11-30"),
        ("2021-12", "2021-12-01", "2021-12-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2022", "2022-01-01", "2022-12-31"),
    ],
)
def test_bounds_of_each_kind_of_meaning(resolved: str, first: str, last: str) -> None:
    assert bounds(resolved) == (date.fromisoformat(first), date.fromisoformat(last))


def test_weekday_named_by_a_phrase() -> None:
    refs = resolve("Last Tuesday, on Friday, yesterday and next week.", "2021-11-24")
    assert [weekday_named(r) for r in refs] == [1, 4, None, None]
