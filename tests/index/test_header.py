"""News metadata from a plain-text article's lines: bylines, "Source:" / "Published:" lines, datelines."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.header import Header, is_link_line, is_signature_line, read_header
from index.ingest import parse_text

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Council votes\n\nBy Dana Whitfield\n\nPublished: 12 March 2024\n\nThe council voted 8-1 on Tuesday.",
         Header("Council votes", None, "12 March 2024", "Dana Whitfield", None)),
        ("Talks\n\nBy AFP\n\nNovember 24, 2021\n\nTalks began.", Header("Talks", None, "November 24, 2021", "AFP")),
        ("Talks\n\nby Dana Whitfield and Tom Ito\n\nTalks began.",
         Header("Talks", author="Dana Whitfield and Tom Ito")),
        # a dateline names the wire; its date has no year, so it dates nothing
        ("Ukraine talks\n\nMOSCOW, Nov 24 (Reuters) – Russia said on Wednesday it was ready.",
         Header("Ukraine talks", author="Reuters")),
        ("Ukraine talks\n\nPARIS (AFP) - France said it was ready.\n\nBy Dana Whitfield",
         Header("Ukraine talks", author="Dana Whitfield")),  # a byline outranks the dateline's wire
        ("Strike\n\nThe strike went on.\n\nSource: Al Jazeera and news agencies",
         Header("Strike", site_name="Al Jazeera")),
        ("Strike\n\nSource: https://www.reuters.com/strike\n\nPublished: 2024-03-12T10:00:00Z\n\nIt went on.",
         Header("Strike", "https://www.reuters.com/strike", "2024-03-12T10:00:00Z")),
        # a sentence starting "By" is not a byline, and a "Published:" line outranks an earlier date
        ("Strike\n\nBy noon the strike had spread to three ports.\n\nMarch 1, 2024\n\nPublished: March 12, 2024",
         Header("Strike", published_raw="March 12, 2024")),
    ],
)
def test_header_lines_give_author_site_and_date(text: str, expected: Header) -> None:
    assert read_header(text) == expected


def test_the_seeds_read_their_wire_and_their_site() -> None:
    afp = parse_text("003", (SEEDS / "003_15bbf54440315bf5.txt").read_text(encoding="utf-8"))
    assert (afp.author, afp.site_name, afp.published) == ("AFP", None, "2021-11-24")
    aljazeera = parse_text("000", (SEEDS / "000_674862a2fea0ee51.txt").read_text(encoding="utf-8"))
    assert (aljazeera.author, aljazeera.site_name, aljazeera.published) == (None, "Al Jazeera", None)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("https://www.reuters.com/world/strike-2024-03-12/", True),
        ("Original url:", True),
        ("Source: https://www.reuters.com/strike", True),
        ("URL: http://example.org/a", True),
        ("Related article: Putin Accuses West of 'Escalating Situation' in Ukraine", True),  # another story
        ("READ MORE: Kremlin says talks went well", True),
        ("See also: https://example.org/b", True),
        ("Source: Al Jazeera and news agencies", False),  # names the site: kept as text
        ("Published: 12 March 2024", False),
        ("Read more at https://example.org/a", False),  # a sentence holding a link
        ("The strike went on.", False),
        ("Related talks are planned for March.", False),  # no label
    ],
)
def test_link_lines_are_metadata_not_sentences(line: str, expected: bool) -> None:
    assert is_link_line(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("By AFP", True),
        ("By the Associated Press", True),
        ("November 24, 2021", True),
        ("2021-11-24", True),
        ("Published 14 March 2024 by the Eastern Energy Desk", True),
        ("Updated: Nov. 24, 2021 10:05 AM EST", True),
        ("Posted on 2021-11-24 | By AFP", True),
        ("On November 24, 2021, the ministry said it would act.", False),  # a sentence holding a date
        ("The meeting took place on 24 November 2021.", False),
        ("By the way, the talks failed.", False),
        ("Chief of the General Staff of the Russian Armed Forces Valery Gerasimov.", False),
    ],
)
def test_signature_lines_sign_or_date_the_article(line: str, expected: bool) -> None:
    assert is_signature_line(line) is expected
