"""Ingestion: metadata from seed articles, every supported format, and bad files skipped with a reason."""

from __future__ import annotations

import codecs
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.decoding import DecodedText, decode_text
from index.documents import Document
from index.errors import InvalidInputError, TooLargeError
from index.ingest import Skipped, document_from_record, load_files, make_doc_id, parse_bytes, parse_records

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_seed_metadata_and_text_are_exact() -> None:
    docs = list(load_files([SEEDS]))
    assert [d.doc_id for d in docs] == ["000_674862a2fea0ee51", "003_15bbf54440315bf5"]
    d0, d3 = docs
    assert d0.title == "Top US military general holds talks with Russian counterpart"
    assert (d0.url, d0.published, d0.published_raw) == (None, None, None)
    assert d3.title == "U.S., Russian Military Chiefs Speak on the Phone"
    assert d3.url == "https://www.themoscowtimes.com/2021/11/24/us-russian-military-chiefs-speak-on-the-phone-a75651"
    assert (d3.published, d3.published_raw) == ("2021-11-24", "November 24, 2021")
    for d in docs:  # offsets refer to the file's text, unchanged
        assert d.text == (SEEDS / f"{d.doc_id}.txt").read_text(encoding="utf-8")
        assert d.source == str((SEEDS / f"{d.doc_id}.txt").resolve())


def test_markdown_title_and_source_line() -> None:
    data = b"# Talks in Geneva\n\nPublished 3 March 2022.\n\nSource:\nhttps://example.org/geneva\n"
    [doc] = parse_bytes(data, "talks.md", "talks")
    assert (doc.doc_id, doc.title, doc.url, doc.published, doc.published_raw) == (
        "talks", "Talks in Geneva", "https://example.org/geneva", "2022-03-03", "3 March 2022")
    assert doc.text == "Talks in Geneva\n\nPublished 3 March 2022.\n\nSource: https://example.org/geneva"


def test_html_drops_scripts_and_takes_head_metadata() -> None:
    # trafilatura takes a page's only <h1> as its title (the headline; <title> often ends in " | Site Name")
    html = (b"<html><head><title>Page Title</title><script>var leak = 1;</script>"
            b'<meta property="article:published_time" content="2021-11-24">'
            b'<link rel="canonical" href="https://example.org/p"></head>'
            b"<body><h1>Heading</h1><p>Para one. Two.</p><script>alert('x')</script><style>p{color:red}</style>"
            b"<noscript>enable js</noscript><p>Last &amp; final</p></body></html>")
    [doc] = parse_bytes(html, "page.html", "page")
    assert doc.title == "Heading"
    assert doc.text == "Heading\n\nPara one. Two.\n\nLast & final"
    assert (doc.url, doc.published, doc.published_raw) == ("https://example.org/p", "2021-11-24", "2021-11-24")


def test_html_without_head_uses_first_heading() -> None:
    [doc] = parse_bytes(b"<h1>Only Heading</h1><p>Body text.</p>", "x.htm", "x")
    assert (doc.title, doc.text) == ("Only Heading", "Only Heading\n\nBody text.")


def test_json_and_jsonl_records() -> None:
    one = json.dumps({"title": "T", "text": "Body.", "url": "https://e.org", "published": "2021", "author": "A. Writer",
                      "site_name": "E News"}).encode()
    [doc] = parse_bytes(one, "one.json", "one")
    assert (doc.doc_id, doc.title, doc.text, doc.url) == ("one", "T", "Body.", "https://e.org")
    # a year alone is no date: kept as written, not stored as a made-up day
    assert (doc.published, doc.published_raw, doc.author, doc.site_name) == (None, "2021", "A. Writer", "E News")
    many = b'{"title": "A", "text": "First."}\n\n{"id": "my id/2", "text": "Second."}\n'
    docs = parse_bytes(many, "many.jsonl", "many")
    assert [(d.doc_id, d.title, d.text) for d in docs] == [("many-0", "A", "First."), ("my-id-2", "my-id-2", "Second.")]
    arr = parse_bytes(b'[{"title": "X", "text": "x."}, {"title": "Y", "text": "y."}]', "arr.json", "arr")
    assert [d.doc_id for d in arr] == ["arr-0", "arr-1"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([1], "each JSON record must be an object with 'title' and 'text'"),
        ({"title": "t"}, "JSON record needs a non-empty string 'text'"),
        ({"title": 5, "text": "t"}, "JSON record 'title' must be a string"),
        ({"text": "t", "url": 3}, "JSON record 'url' must be a string"),
        ({"text": "t", "author": ["a"]}, "JSON record 'author' must be a string"),
    ],
)
def test_bad_records_are_rejected(record: object, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        document_from_record(record[0] if isinstance(record, list) else record, "r")
    assert str(err.value) == message


def test_doc_ids_are_safe() -> None:
    assert make_doc_id("../../etc/passwd") == "etc-passwd"
    assert make_doc_id("000_674862a2fea0ee51") == "000_674862a2fea0ee51"
    with pytest.raises(InvalidInputError):
        make_doc_id("../")


def test_bad_files_are_skipped_with_a_reason_and_the_rest_indexed(tmp_path: Path) -> None:
    files = {
        "a_good.txt": b"Good one\n\nA fine article.\n",
        "b_binary.txt": b"\x89PNG\x00\x00data",
        "c_latin1.txt": "café ok, très bien\n".encode("latin-1"),  # 16 bytes at least: enough to detect
        "d_empty.txt": b"",
        "e_blank.md": b"  \n\n",
        "f_big.txt": b"word " * 400,
        "g_doc.pdf": b"%PDF-1.4",  # binary formats are parsed, not refused for their bytes: this one is cut short
        "g_doc.png": b"\x89PNG",
        "h_broken.json": b'{"title": "x", "text": ',
        "i_broken.jsonl": b'{"title": "A", "text": "ok."}\nnot json\n',
        "j_good.html": b"<title>Z</title><p>Zed.</p>",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    items = list(load_files([tmp_path, tmp_path / "missing.txt"], max_bytes=1024))
    docs = [i.doc_id for i in items if not isinstance(i, Skipped)]
    skipped = {Path(i.source).name: i.reason for i in items if isinstance(i, Skipped)}
    # the good record of the half-broken JSON Lines file is kept; the Latin-1 file is decoded, not skipped
    assert docs == ["a_good", "c_latin1", "i_broken-0", "j_good"]
    assert next(i for i in items if getattr(i, "doc_id", None) == "c_latin1").text == "café ok, très bien\n"
    assert skipped == {
        "b_binary.txt": "file looks binary (contains NUL bytes)",
        "d_empty.txt": "file is empty",
        "e_blank.md": "file is empty",
        "f_big.txt": "file is 2,000 bytes, over the 1,024-byte limit",
        "g_doc.pdf": "PDF file could not be read (Stream has ended unexpectedly); save or export it again",
        "g_doc.png": "unsupported file type '.png'; use one of .txt, .md, .markdown, .html, .htm, .pdf, .docx, .json, "
                     ".jsonl",
        "h_broken.json": "invalid JSON at line 1: Expecting value",
        "i_broken.jsonl, line 2": "invalid JSON at line 2: Expecting value",
        "missing.txt": "no such file or directory",
    }
    assert all("\n" not in reason for reason in skipped.values())
    assert [i.source for i in items if isinstance(i, Skipped)][0] == str(tmp_path / "b_binary.txt")


def test_bad_records_are_skipped_one_by_one_and_ids_do_not_shift(tmp_path: Path) -> None:
    lines = [{"title": "A", "text": "Alpha."}, {"title": "B"}, "not an object", {"title": "D", "text": "Delta."}]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    (tmp_path / "arr.json").write_text(json.dumps([{"title": "X", "text": "x."}, {"title": 5, "text": "y."}]))
    items = list(load_files([tmp_path]))
    assert [(i.doc_id, i.text) for i in items if not isinstance(i, Skipped)] == [
        ("arr-0", "x."), ("feed-0", "Alpha."), ("feed-3", "Delta.")]
    assert [(Path(i.source).name, i.reason) for i in items if isinstance(i, Skipped)] == [
        ("arr.json, record 2", "JSON record 'title' must be a string"),
        ("feed.jsonl, line 2", "JSON record needs a non-empty string 'text'"),
        ("feed.jsonl, line 3", "each JSON record must be an object with 'title' and 'text'"),
        ("feed.jsonl, line 5", "invalid JSON at line 5: Expecting property name enclosed in double quotes"),
    ]


def test_a_record_with_a_lone_surrogate_is_one_bad_record_not_a_failed_run(tmp_path: Path) -> None:
    # JSON may escape a lone surrogate, which no index can store: it failed the whole write of every file at once
    (tmp_path / "news.jsonl").write_text('{"title": "Good", "text": "The Vltava flooded Prague."}\n'
                                         '{"title": "Bad", "text": "bad \\udfff here"}\n')
    (tmp_path / "other.txt").write_text("Other story\n\nEtna erupted on Thursday.\n")
    items = list(load_files([tmp_path]))
    assert [i.doc_id for i in items if not isinstance(i, Skipped)] == ["news-0", "other"]
    assert [(Path(i.source).name, i.reason) for i in items if isinstance(i, Skipped)] == [
        ("news.jsonl, line 2", "document 'news-1': text holds an invalid character ('\\udfff' at position 4, a "
                               "lone surrogate); send valid Unicode text")]


def test_an_upload_with_a_bad_record_is_refused_whole() -> None:
    data = b'{"title": "A", "text": "Alpha."}\n{"title": "B"}\nnope\n'
    with pytest.raises(InvalidInputError) as err:
        parse_bytes(data, "feed.jsonl", "feed")
    assert str(err.value) == ("line 2: JSON record needs a non-empty string 'text' (and 1 more bad records); "
                              "nothing from this file was added")


def test_parse_bytes_limits() -> None:
    with pytest.raises(TooLargeError, match="over the 1,024-byte limit"):
        parse_bytes(b"x" * 2048, "x.txt", "x", max_bytes=1024)
    with pytest.raises(InvalidInputError, match=r"unsupported file type '\(none\)'"):
        parse_bytes(b"text", "noext", "x")
    [doc] = parse_bytes("\ufeffBOM title\n\nBody.".encode(), "bom.txt", "bom")
    assert doc.text == "BOM title\n\nBody." and doc.title == "BOM title"


# JSON that Python's parser refuses with other errors than JSONDecodeError: nesting past its recursion limit, and an
# integer of more digits than sys.get_int_max_str_digits() (4,300)
DEEP_JSON = b"[" * 200_000 + b"]" * 200_000
HUGE_INT_RECORD = b'{"title": "T", "text": "Body.", "n": ' + b"7" * 5_000 + b"}"
DEEP_REASON = "invalid JSON at line 1: nested too deeply; an article record is an object of strings"
HUGE_INT_REASON = "invalid JSON at line 1: a number has more than 4,300 digits"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("deep.json", DEEP_JSON, DEEP_REASON),
    ("deep.jsonl", DEEP_JSON, DEEP_REASON),  # a one-record file: the file itself is bad
    ("big.json", HUGE_INT_RECORD, HUGE_INT_REASON),
    ("big.jsonl", HUGE_INT_RECORD + b'\n{"title": "U", "text": "Fine."}',
     f"line 1: {HUGE_INT_REASON}; nothing from this file was added"),
])
def test_hostile_json_upload_is_a_clear_error(name: str, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_bytes(data, name, "x")
    assert str(err.value) == message


def test_hostile_json_files_are_skipped_and_the_good_ones_indexed(tmp_path: Path) -> None:
    (tmp_path / "a_good.txt").write_text("Good one\n\nA fine article.\n")
    (tmp_path / "b_deep.json").write_bytes(DEEP_JSON)
    (tmp_path / "c_big.jsonl").write_bytes(HUGE_INT_RECORD + b'\n{"title": "U", "text": "Fine."}\n')
    items = list(load_files([tmp_path]))
    assert [(i.doc_id, i.text) for i in items if isinstance(i, Document)] == [
        ("a_good", "Good one\n\nA fine article.\n"), ("c_big-1", "Fine.")]
    assert [(Path(i.source).name, i.reason) for i in items if isinstance(i, Skipped)] == [
        ("b_deep.json", DEEP_REASON), ("c_big.jsonl, line 1", HUGE_INT_REASON)]


def test_same_name_in_two_folders_is_two_documents(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "2021").mkdir(parents=True)
    (tmp_path / "top.txt").write_text("Top\n\nZero.")
    (tmp_path / "a" / "same.txt").write_text("First\n\nOne.")
    (tmp_path / "b" / "2021" / "same.md").write_text("Second\n\nTwo.")
    items = list(load_files([tmp_path]))
    assert [(i.doc_id, i.title) for i in items if isinstance(i, Document)] == [
        ("a.same", "First"), ("b.2021.same", "Second"), ("top", "Top")]
    # a file named directly keeps its stem, as the same file at the top of a named folder does
    assert [i.doc_id for i in load_files([tmp_path / "a" / "same.txt"]) if isinstance(i, Document)] == ["same"]


def test_duplicate_ids_in_one_batch_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "same.txt").write_text("First\n\nOne.")
    (tmp_path / "a" / "same.md").write_text("Second\n\nTwo.")
    items = list(load_files([tmp_path]))
    assert [getattr(i, "doc_id", None) for i in items] == ["a.same", None]  # same.md sorts first
    assert items[1] == Skipped(str(tmp_path / "a" / "same.txt"), "duplicate document id 'a.same'",
                               str((tmp_path / "a" / "same.txt").resolve()))


def test_markdown_is_indexed_as_its_plain_text() -> None:
    md = ("# Budget passes\n\nThe **town council** passed the [budget](http://x.org) on *Monday*,\n"
          "after `two` votes.\n\n"
          "> \"It is a good day,\" the mayor said.\n\n- item one\n- item two\n")
    [doc] = parse_records(md.encode(), "a.md", "a")
    assert doc.title == "Budget passes"
    assert doc.text == ("Budget passes\n\nThe town council passed the budget on Monday, after two votes.\n\n"
                        "\"It is a good day,\" the mayor said.\n\nitem one\n\nitem two")


@pytest.mark.parametrize(("text", "encoding"), [
    ("Zürich: Über 500 Bürger trafen sich am Montag.", "cp1252"),
    ("Москва сегодня объявила о новых мерах поддержки.", "cp1251"),
    ("Ελληνικά νέα από την Αθήνα σήμερα το πρωί.", "cp1253"),
])
def test_legacy_encodings_are_detected(text: str, encoding: str) -> None:
    [doc] = parse_records(text.encode(encoding), "n.txt", "n")
    assert doc.text == text


def test_windows_1252_file_is_read_not_skipped() -> None:
    text = ("Café owners in São Paulo said the price of coffee rose to 5 € this week. The naïve hope that prices "
            "would fall before the winter was dashed, owners told reporters on Monday. “We are worried,” said one.")
    [doc] = parse_records(text.encode("cp1252"), "b.txt", "b")
    assert doc.text == text
    assert doc.encoding == "cp1252"


def test_the_detected_encoding_rides_on_each_document_but_is_not_content() -> None:
    text = "Old notes\n\nThe café – naïve as it sounds – opened on Monday.\n"
    [legacy] = parse_records(text.encode("cp1252"), "old.txt", "old")
    [utf8] = parse_records(text.encode("utf-8"), "old.txt", "old")
    [bom] = parse_records(text.encode("utf-8-sig"), "old.txt", "old")
    assert (legacy.text, legacy.encoding, utf8.encoding, bom.encoding) == (text, "cp1252", None, None)
    # the same article re-saved as UTF-8 is the same document: "unchanged", not re-indexed
    assert legacy == utf8 and legacy.sha256 == utf8.sha256
    assert "encoding" not in legacy.metadata()
    lines = "".join(json.dumps({"title": t, "text": f"{t}: café – naïve"}, ensure_ascii=False) + "\n"
                    for t in ("One", "Two"))
    records = parse_records(lines.encode("cp1252"), "n.jsonl", "n")
    assert [(d.doc_id, d.text, d.encoding) for d in records if isinstance(d, Document)] == [
        ("n-0", "One: café – naïve", "cp1252"), ("n-1", "Two: café – naïve", "cp1252")]


# ---- UTF-16 and UTF-32 -----------------------------------------------------------------------------------------
WIDE = "Studio news\r\n\r\nThe glassblower Henrik Aalto opened a studio in Turku in March: café, Москва, 🎉.\r\n"
BOMS = {"utf_16_le": codecs.BOM_UTF16_LE, "utf_16_be": codecs.BOM_UTF16_BE,
        "utf_32_le": codecs.BOM_UTF32_LE, "utf_32_be": codecs.BOM_UTF32_BE}


@pytest.mark.parametrize("codec", list(BOMS))
def test_utf16_and_utf32_with_a_byte_order_mark_are_read_like_utf8(codec: str) -> None:
    # Notepad's "Unicode" and Excel's "Unicode text": NUL bytes in every ASCII character, yet text
    [doc] = parse_records(BOMS[codec] + WIDE.encode(codec), "wide.txt", "wide")
    [utf8] = parse_records(WIDE.encode("utf-8"), "wide.txt", "wide")
    assert (doc.text, doc.title, doc.encoding) == (WIDE, "Studio news", codec)  # the mark is not text
    assert doc == utf8 and doc.sha256 == utf8.sha256  # offsets index the same string: the same document


def test_utf16_json_lines_and_html_are_decoded_before_parsing() -> None:
    lines = "".join(json.dumps({"title": t, "text": f"{t}: café – naïve"}, ensure_ascii=False) + "\r\n"
                    for t in ("One", "Two"))
    records = parse_records(codecs.BOM_UTF16_LE + lines.encode("utf_16_le"), "n.jsonl", "n")
    assert [(d.doc_id, d.text, d.encoding) for d in records if isinstance(d, Document)] == [
        ("n-0", "One: café – naïve", "utf_16_le"), ("n-1", "Two: café – naïve", "utf_16_le")]
    page = '<meta charset="utf-16"><h1>Kiosk</h1><p>The kiosk in Vaasa reopened.</p>'
    [html] = parse_records(codecs.BOM_UTF16_BE + page.encode("utf_16_be"), "k.html", "k")
    assert (html.title, html.text, html.encoding) == ("Kiosk", "Kiosk\n\nThe kiosk in Vaasa reopened.", "utf_16_be")


@pytest.mark.parametrize("codec", ["utf_16_le", "utf_16_be"])
def test_utf16_without_a_mark_is_refused_as_binary(codec: str) -> None:
    # nothing declares it, and no rule tells it from binary but a guess; with its mark it is read
    text = "The ferry to Åland left at 7:40 – on time, said the “captain”.\n"
    with pytest.raises(InvalidInputError) as err:
        parse_records(text.encode(codec), "ferry.txt", "ferry")
    assert str(err.value) == "file looks binary (contains NUL bytes)"
    [doc] = parse_records(codecs.BOM_UTF16_LE + text.encode("utf_16_le"), "ferry.txt", "ferry")
    assert (doc.text, doc.encoding) == (text, "utf_16_le")


def test_binary_with_nul_bytes_is_refused_whatever_its_first_bytes(tmp_path: Path) -> None:
    rng = random.Random(0)
    blobs = {
        "png.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00",
        "bom_then_nul.txt": codecs.BOM_UTF16_LE + b"A\x00\x00\x00B\x00" * 8,  # NUL characters: not the encoding's
        "utf32_mark_zeros.txt": codecs.BOM_UTF32_BE + b"\x00\x00\x00\x00" * 8,
        "int16.txt": bytes(b for v in range(1, 40) for b in (v, 0)),  # little-endian samples: controls, no text
        "odd.txt": b"T\x00e\x00x\x00t\x00 \x00i\x00s\x00 \x00o\x00d\x00d\x00!",
    }
    blobs.update({f"random{i}.txt": bytes(rng.randrange(256) for _ in range(rng.randrange(16, 4096))) + b"\x00"
                  for i in range(50)})
    for name, data in blobs.items():
        (tmp_path / name).write_bytes(data)
    items = list(load_files([tmp_path]))
    assert {Path(i.source).name: i.reason for i in items if isinstance(i, Skipped)} == dict.fromkeys(
        blobs, "file looks binary (contains NUL bytes)")


def test_a_mark_that_does_not_decode_proves_nothing() -> None:
    # judged as if it had no mark: a cut-off UTF-16 file has NULs no encoding explains, three bytes are too few
    cut = codecs.BOM_UTF16_LE + "Cut off mid-charac".encode("utf_16_le")[:-1]
    for data, message in ((cut, "file looks binary (contains NUL bytes)"),
                          (b"\xff\xfe\xfa", "file is not valid UTF-8 (byte 0) and too short to detect its encoding"),
                          (codecs.BOM_UTF16_BE, "file is empty")):
        with pytest.raises(InvalidInputError) as err:
            parse_records(data, "cut.txt", "cut")
        assert str(err.value) == message


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1).filter(str.strip),
       st.sampled_from(list(BOMS)))
def test_any_text_with_a_byte_order_mark_decodes_to_itself(text: str, codec: str) -> None:
    assert decode_text(BOMS[codec] + text.encode(codec)) == DecodedText(text, codec)


def test_a_link_to_nothing_in_a_folder_is_named_as_skipped(tmp_path: Path) -> None:
    # it was passed over in silence, though naming it directly is an error
    (tmp_path / "a.txt").write_text("Alpha story\n\nThe alpha rocket launched from Kiruna on Monday.\n")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere" / "gone.txt")
    items = list(load_files([tmp_path]))
    assert [i.doc_id for i in items if not isinstance(i, Skipped)] == ["a"]
    assert [(Path(i.source).name, i.reason) for i in items if isinstance(i, Skipped)] == [
        ("gone.txt", "a link to a file that does not exist")]


def test_markdown_front_matter_is_metadata_not_text() -> None:
    # Jekyll, Hugo and Obsidian write it: it was the title ("title: Glacier ... date: ... author: ...") and the text
    md = ("---\ntitle: Glacier retreats in Svalbard\ndate: 2023-01-02\nauthor: [Jane Roe, Ola Nordmann]\n"
          "tags: [ice, arctic]\n---\n\n# Glacier retreats\n\nThe Nordenskiöld glacier lost 2 km of ice.\n")
    [doc] = parse_records(md.encode(), "glacier.md", "glacier")
    assert (doc.title, doc.published, doc.author, doc.text) == (
        "Glacier retreats in Svalbard", "2023-01-02", "Jane Roe, Ola Nordmann",
        "Glacier retreats\n\nThe Nordenskiöld glacier lost 2 km of ice.")
    # a thematic break further down, or a block that is not a mapping, is Markdown as before
    [rule] = parse_records(b"# Plain\n\n---\n\nText after a rule.\n", "plain.md", "plain")
    assert (rule.title, rule.text) == ("Plain", "Plain\n\nText after a rule.")
