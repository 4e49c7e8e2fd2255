"""The HTML extraction eval: its scoring on fixed texts, its pages, and trafilatura's score on the tests' news page."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.quality.html_extract import PAGES, Score, extractor, load_pages, main, paragraphs, score_extraction
from index.errors import InvalidInputError

SENTENCES = ("The ferry Vega docked at Brest on Monday.", "It carried 300 passengers.", "The crossing took nine hours.")
BOILERPLATE = ("Home", "Share on Facebook", "Most read")


def test_score_counts_kept_cut_and_leaked_lines_exactly() -> None:
    extracted = ("Home | News\n\nThe ferry Vega docked at   Brest\non Monday. It carried 300\n\npassengers.\n\n"
                 "Most readWheat prices fall")  # a line glued to the next one's first word still leaked
    assert score_extraction(extracted, SENTENCES, BOILERPLATE) == Score(
        sentences=3, sentences_kept=2, sentences_intact=1, boilerplate=3, boilerplate_kept=2,
        missed=("The crossing took nine hours.",), broken=("It carried 300 passengers.",),
        leaked=("Home", "Most read"))


def test_shares_and_their_edges() -> None:
    score = score_extraction("The ferry Vega docked at Brest on Monday.\n\nShare on Facebook", SENTENCES, BOILERPLATE)
    assert (score.kept, score.intact, score.leak) == (1 / 3, 1 / 3, 1 / 3)
    empty = score_extraction("", (), ())
    assert (empty.kept, empty.intact, empty.leak) == (1.0, 1.0, 0.0)
    assert paragraphs("a\n b\n \n\n c  d\n") == ["a b", "c d"]


def test_pages_load_with_their_sidecars() -> None:
    pages = load_pages()
    assert [(p.name, len(p.sentences), len(p.boilerplate)) for p in pages] == [
        ("council_vote", 5, 0), ("harbour_times", 4, 23), ("haverby_daily_crane", 12, 34),
        ("millbrook_library_comments", 10, 39), ("nordic_ledger_windfarm", 11, 37), ("westcoast_storm_live", 18, 23)]
    harbour = pages[1]
    assert harbour.sentences[0] == ("Three grain ships reached the southern port of Odessa on Wednesday, a day after "
                                    "the Russian and American defence chiefs spoke by phone.")


def test_trafilatura_keeps_the_tests_news_page_whole_and_clean() -> None:
    [harbour] = [p for p in load_pages() if p.name == "harbour_times"]
    score = score_extraction(extractor("trafilatura")(harbour.html), harbour.sentences, harbour.boilerplate)
    assert (score.sentences_intact, score.boilerplate_kept) == (4, 0)


def test_unknown_extractors_and_clashing_sidecars_are_refused(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidInputError) as err:
        extractor("boilerpipe")
    assert str(err.value) == "unknown extractor 'boilerpipe'; choose from trafilatura, readability"
    (tmp_path / "p.html").write_text("<html><body><p>The ferry docked at Brest.</p></body></html>")
    (tmp_path / "p.txt").write_text("The ferry docked at Brest.\n")
    (tmp_path / "p.boilerplate.txt").write_text("Brest\n")
    assert main(["--pages", str(tmp_path), "--extractors", "trafilatura"]) == 2
    assert capsys.readouterr().err == "error: p.html: boilerplate lines occur in the article text: ['Brest']\n"


def test_without_out_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("harbour_times.html", "harbour_times.txt", "harbour_times.boilerplate.txt"):
        (tmp_path / name).write_bytes((PAGES / name).read_bytes())
    assert main(["--pages", str(tmp_path), "--extractors", "trafilatura"]) == 0
    assert "| trafilatura | 1.000 | 1.000 | 0.000 |" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "harbour_times.boilerplate.txt", "harbour_times.html", "harbour_times.txt"]
