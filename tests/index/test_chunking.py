"""Sentence splitting and chunking: exact offsets as properties over awkward generated texts, plus seed examples."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.chunking import ChunkParams, _word_before, chunk_document, split_sentences

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

_WORDS = [
    "Milley", "met", "Gerasimov", "in", "Helsinki", "U.S.", "Dr.", "e.g.", "i.e.", "Mr.", "a.m.", "No.", "J.",
    "“quoted", "text”", '"straight', 'quote"', "'single'", "‘curly’", "“unbalanced", "closing”", "(aside)",
    "北京", "会谈。", "东京！", "مرحبا", "السلام؟", "नमस्ते", "भारत।", "Москва", "генерал.", "😀", "👍🏽", "e\u0301",
    "n\u0303o", "3.5", "10,000", "—", "-", "...", "?!", "end.", "stop!", "why?", "lower", "Upper", "x" * 40,
]
_SEPS = [" ", " ", " ", "  ", "\t", "\u00a0", "\n", "\r\n", "\n\n", "\n \n\n\t\n", "\r\n\r\n", "\u2003", ". ", "! "]


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Texts built from tricky tokens joined by tricky separators, sometimes with a very long sentence."""
    n = draw(st.integers(0, 120))
    parts = [draw(st.sampled_from(_SEPS)) if draw(st.booleans()) else ""]
    for _ in range(n):
        parts.append(draw(st.sampled_from(_WORDS) | st.text(min_size=1, max_size=6)))
        parts.append(draw(st.sampled_from(_SEPS)))
    if draw(st.booleans()):
        parts.append(" ".join(["word"] * draw(st.integers(100, 400))) + ".")
    return "".join(parts)


PARAMS = [ChunkParams(), ChunkParams(max_words=20, min_words=5, overlap_sentences=2, max_sentence_chars=80)]


def _check(text: str, params: ChunkParams) -> None:
    sentences, chunks = chunk_document("d", text, params)
    covered = [False] * len(text)
    prev_end = 0
    for s in sentences:
        assert s.doc_id == "d"
        assert text[s.start : s.end] == s.text
        assert s.start >= prev_end and s.start < s.end
        assert not s.text[0].isspace() and not s.text[-1].isspace()
        assert len(s.text) <= params.max_sentence_chars
        covered[s.start : s.end] = [True] * (s.end - s.start)
        prev_end = s.end
    lost = [c for c, cov in zip(text, covered, strict=True) if not cov and not c.isspace()]
    assert lost == []
    if not sentences:
        assert chunks == []
        return
    assert chunks[0].first_sentence == 0 and chunks[-1].last_sentence == len(sentences) - 1
    for prev, c in zip([None, *chunks], chunks, strict=False):
        assert text[c.start : c.end] == c.text
        assert c.start == sentences[c.first_sentence].start and c.end == sentences[c.last_sentence].end
        words = sum(len(s.text.split()) or 1 for s in sentences[c.first_sentence : c.last_sentence + 1])
        assert words <= params.max_words or c.first_sentence == c.last_sentence
        if prev is not None:  # consecutive, no gap, bounded overlap
            assert prev.first_sentence < c.first_sentence <= prev.last_sentence + 1
            assert prev.last_sentence - c.first_sentence + 1 <= params.overlap_sentences


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts())
def test_offsets_and_coverage_on_awkward_texts(text: str) -> None:
    for params in PARAMS:
        _check(text, params)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_offsets_and_coverage_on_arbitrary_unicode(text: str) -> None:
    for params in PARAMS:
        _check(text, params)


@settings(max_examples=500, deadline=None)
@given(texts() | st.text(max_size=200), st.integers(0, 10_000))
def test_the_word_before_a_period_is_what_the_regex_found(text: str, at: int) -> None:
    """The backward scan that replaced ``re.search(r"(\\S+)$", text[:dot])`` (quadratic over a long article) finds
    the same word wherever the period is, with every whitespace character and a newline right before it."""
    dot = at % (len(text) + 1)
    m = re.search(r"(\S+)$", text[:dot])
    assert _word_before(text, dot) == (m.group(1) if m else "")


def test_the_word_before_a_period_on_fixed_texts() -> None:
    assert _word_before("Met Dr. Smith", 6) == "Dr"
    assert _word_before("at 9 a.m. on", 8) == "a.m"
    assert _word_before("end of line\n.", 12) == "line"  # "$" matches before a final newline
    assert _word_before("line \n.", 6) == ""
    assert _word_before("(J. Doe", 2) == "(J"
    assert _word_before(".", 0) == ""


def test_empty_and_blank_texts_have_no_sentences() -> None:
    for text in ["", "   ", "\n\n\t\r\n", "\u00a0\u2003"]:
        assert chunk_document("d", text, ChunkParams()) == ([], [])


def _sentences(text: str) -> list[str]:
    return [s.text for s in split_sentences("d", text)]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "The U.S. Army met Dr. Smith at 9 a.m. on Monday. Mr. J. Doe, e.g. the envoy, spoke. It ended."
    assert _sentences(text) == [
        "The U.S. Army met Dr. Smith at 9 a.m. on Monday.",
        "Mr. J. Doe, e.g. the envoy, spoke.",
        "It ended.",
    ]


def test_non_latin_sentence_ends() -> None:
    assert _sentences("北京会谈。东京见面！好吗？") == ["北京会谈。", "东京见面！", "好吗？"]
    assert _sentences("यह भारत है। वह नेपाल है।") == ["यह भारत है।", "वह नेपाल है।"]
    assert _sentences("هل هذا صحيح؟ نعم.") == ["هل هذا صحيح؟", "نعم."]
    assert _sentences("Москва большая. Генерал приехал!") == ["Москва большая.", "Генерал приехал!"]


def test_crlf_and_blank_line_runs_split_paragraphs() -> None:
    text = "\r\n\r\nFirst line\r\n\r\n\r\n\tSecond one. Third\u00a0one.\r\n"
    spans = split_sentences("d", text)
    assert [s.text for s in spans] == ["First line", "Second one.", "Third\u00a0one."]
    assert [(s.start, s.end) for s in spans] == [(4, 14), (21, 32), (33, 43)]


def test_over_long_sentence_is_capped_at_spaces() -> None:
    text = " ".join(["word"] * 300) + "."
    spans = split_sentences("d", text, max_sentence_chars=600)
    # cuts fall on the last space before start + 600 (exclusive), never inside a word
    assert [(s.start, s.end) for s in spans] == [(0, 599), (600, 1194), (1195, 1500)]
    assert all(text[s.start : s.end] == s.text and s.text.split(" ")[0] == "word" for s in spans)


def test_seed_quote_sentence_is_kept_whole() -> None:
    text = (SEEDS / "000_674862a2fea0ee51.txt").read_text(encoding="utf-8")
    quote = ("“It was a productive meeting. When military leaders of great powers communicate, the world is a "
             "safer place,” Milley told The Associated Press.")
    sentences = split_sentences("000_674862a2fea0ee51", text)
    matching = [s for s in sentences if s.text == quote]
    assert len(matching) == 1
    assert text[matching[0].start : matching[0].end] == quote
    assert sentences[0].text == "Top US military general holds talks with Russian counterpart"
    assert sentences[0].start == 0


def test_seed_003_sentences_and_chunks() -> None:
    doc_id = "003_15bbf54440315bf5"
    text = (SEEDS / f"{doc_id}.txt").read_text(encoding="utf-8")
    sentences, chunks = chunk_document(doc_id, text, ChunkParams())
    texts_ = [s.text for s in sentences]
    # the byline "By AFP" and the date line "November 24, 2021" are the document's author and publication date
    assert texts_[:2] == ["U.S., Russian Military Chiefs Speak on the Phone",
                          "Chief of the General Staff of the Russian Armed Forces Valery Gerasimov."]
    assert "By AFP" not in texts_ and "November 24, 2021" not in texts_
    # the last sentence is the article's last; the footer's "Original url:" line and its link are the document's url
    assert texts_[-1] == ("Shoigu added that Russia has noticed a \"significant\" increase in the activity of U.S. "
                          "strategic bombers, saying they carried out 30 flights near Russia this month.")
    assert not any("themoscowtimes.com" in t or t.startswith("Original url") for t in texts_)
    for c in chunks:
        assert text[c.start : c.end] == c.text


def test_a_text_of_links_only_keeps_them_as_its_sentences() -> None:
    text = "Original url:\n\nhttps://example.org/talks-in-geneva\n"
    assert [s.text for s in split_sentences("links", text)] == ["Original url:", "https://example.org/talks-in-geneva"]
    text = "Talks began in Geneva.\n\nRead more: Talks end\n"
    assert [s.text for s in split_sentences("talks", text)] == ["Talks began in Geneva."]


def test_signature_lines_are_not_sentences_in_the_header_only() -> None:
    text = ("Gull Bank wind farm approved\n\nPublished 14 March 2024 by the Eastern Energy Desk\n\n"
            "Construction is due to start in 2026.\n\n" + "The farm has 62 turbines.\n\n" * 9 + "14 March 2024\n")
    texts_ = [s.text for s in split_sentences("gull", text)]
    assert texts_[:2] == ["Gull Bank wind farm approved", "Construction is due to start in 2026."]
    assert texts_[-1] == "14 March 2024"  # past the header a date line is an event the article reports
    assert [s.text for s in split_sentences("date", "November 24, 2021\n")] == ["November 24, 2021"]


def test_the_headline_line_is_not_a_sentence_when_it_is_the_title() -> None:
    text = "# Kestrel Bay council approves new harbour bridge\n\nThe council voted on Monday.\n"
    title = "Kestrel Bay council approves new harbour bridge"
    assert [s.text for s in split_sentences("bridge", text, title=title)] == ["The council voted on Monday."]
    # without the title, or with a first line that is not it, the first line is text like any other
    assert len(split_sentences("bridge", text)) == 2
    assert len(split_sentences("bridge", text, title="Harbour bridge approved")) == 2
    only = split_sentences("only", "Bridge approved\n", title="Bridge approved")
    assert [s.text for s in only] == ["Bridge approved"]  # a text holding nothing else keeps it
