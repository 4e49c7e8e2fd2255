"""News-grade ingestion: saved news pages (trafilatura), PDF and DOCX files made here, dates normalised to ISO."""

from __future__ import annotations

import hashlib
import json
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from index.dates import normalise_date
from index.documents import Document, content_hash
from index.errors import InvalidInputError, TooLargeError
from index.formats import extract_html
from index.ingest import Skipped, load_files, parse_bytes

# The saved page of the HTML extraction eval (eval/data/html/): navigation, share buttons, ads, comments, footer.
NEWS_PAGE = (Path(__file__).resolve().parents[2] / "eval" / "data" / "html" / "harbour_times.html").read_text(
    encoding="utf-8")
ARTICLE_TEXT = (
    "Grain ships reach Odessa after defence chiefs talk\n\n"
    "Three grain ships reached the southern port of Odessa on Wednesday, a day after the Russian and American defence "
    "chiefs spoke by phone.\n\n"
    "The ships carried 90,000 tonnes of wheat bound for Egypt and Lebanon, the port authority said in a statement.\n\n"
    "Port officials said a fourth ship would follow next week if the weather held, and that inspections would take "
    "place at sea.\n\n"
    "Insurers have raised premiums for Black Sea voyages twice this year, shipping brokers in London said on Thursday."
)
BOILERPLATE = ["cookies", "Home", "World news", "Sport", "Advertisement", "Cheap flights", "Subscribe now!",
               "morning briefing", "Share on", "Related stories", "Wheat prices fall", "Comments", "sailor42",
               "Great reporting", "mark my words", "All rights reserved", "Privacy policy", "dataLayer",
               "display: block"]


# ---- HTML ------------------------------------------------------------------------------------------------------
def test_news_page_keeps_the_article_and_its_metadata_only() -> None:
    [doc] = parse_bytes(NEWS_PAGE.encode(), "odessa.html", "odessa")
    assert doc.text == ARTICLE_TEXT
    assert [b for b in BOILERPLATE if b in doc.text] == []
    assert (doc.title, doc.url, doc.author, doc.site_name) == (
        "Grain ships reach Odessa after defence chiefs talk", "https://harbour.example/2021/11/24/grain-ships-odessa",
        "Jane Doe", "The Harbour Times")
    assert (doc.published, doc.published_raw) == ("2021-11-24", "2021-11-24T10:00:00Z")


def test_html_blocks_become_paragraphs_and_br_a_line_break() -> None:
    page = ("<html><head><title>Council vote</title></head><body><article><h1>Council passes the harbour budget</h1>"
            "<p>The council voted 7 to 2 on Monday.<br>The mayor abstained.</p>"
            "<ul><li>Dredging: 2 million euros</li><li>New cranes: 5 million euros</li></ul>"
            "<p>The works start in <b>March</b>, the <a href='/port'>port</a> said.</p></article></body></html>")
    [doc] = parse_bytes(page.encode(), "vote.html", "vote")
    assert doc.text == ("Council passes the harbour budget\n\nThe council voted 7 to 2 on Monday.\nThe mayor abstained."
                        "\n\nDredging: 2 million euros\n\nNew cranes: 5 million euros\n\n"
                        "The works start in March, the port said.")


@pytest.mark.parametrize("doctype", [
    b'<!DOCTYPE html [<!ENTITY brand "Harbour Times">]>',
    # a ">" and a "]" inside a quoted entity value, a parameter entity, a public identifier, an XML declaration
    b'<?xml version="1.0"?>\n<!doctype html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "xhtml1-strict.dtd" [\n'
    b'  <!ENTITY brand "Harbour ]> Times">\n  <!ENTITY % style "plain">\n]>',
])
def test_html_entity_declarations_never_reach_the_text(doctype: bytes) -> None:
    page = doctype + b"<html><body><p>The &brand; reported a record harvest on Monday.</p></body></html>"
    [doc] = parse_bytes(page, "page.html", "page")
    # HTML has no internal subset: the declarations go, a reference to one stays as written (as a browser shows it)
    assert (doc.title, doc.text) == ("The &brand; reported a record harvest on Monday.",
                                     "The &brand; reported a record harvest on Monday.")


def test_html_page_with_far_more_text_than_an_article_is_refused_before_extraction() -> None:
    texts = [f"Item {n}: the harbour council voted on the pier budget for the {n}th time." for n in range(1, 9)]
    page = "<html><body><article>{}</article></body></html>"
    five = page.format("".join(f"<p>{t}</p>" for t in texts[:5]))  # 360 characters of page text: read
    [doc] = parse_bytes(five.encode(), "page.html", "page", max_chars=100)
    assert doc.text == "\n\n".join(texts[:5])
    eight = page.format("".join(f"<p>{t}</p>" for t in texts))  # 576: over 5 times the limit
    with pytest.raises(TooLargeError) as err:
        parse_bytes(eight.encode(), "page.html", "page", max_chars=100)
    assert str(err.value) == ("HTML page holds more than 500 characters of text (5 times the document limit, "
                              "QA_MAX_DOCUMENT_CHARS); save the article alone")


def test_html_nesting_is_bounded_with_a_clear_message() -> None:
    def nested(depth: int) -> bytes:
        return b"<html><body>" + b"<div>" * depth + b"Deep text." + b"</div>" * depth + b"</body></html>"

    [doc] = parse_bytes(nested(254), "ok.html", "ok")  # 256 elements deep with <html> and <body>
    assert doc.text == "Deep text."
    for depth in (255, 10_000):  # the parser would drop what lies deeper: refused, not half indexed
        with pytest.raises(InvalidInputError) as err:
            parse_bytes(nested(depth), "deep.html", "deep")
        assert str(err.value) == ("HTML page is nested more than 256 elements deep; save the article as plain text "
                                  "or simpler HTML")


def test_html_element_count_is_bounded() -> None:
    page = b"<html><body>" + b"<p>x</p>" * 25_000 + b"</body></html>"
    with pytest.raises(TooLargeError) as err:
        parse_bytes(page, "big.html", "big")
    assert str(err.value) == ("HTML page has 25,002 elements, over the 25,000-element limit; save the article as "
                              "plain text")


@pytest.mark.parametrize("page", [b"<html><body><script>var x = 1;</script></body></html>", b"<!-- only a comment -->",
                                  b"<html><head><title>Only a title</title></head><body></body></html>"])
def test_html_without_text_is_refused(page: bytes) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_bytes(page, "empty.html", "empty")
    assert str(err.value) == "HTML page has no visible text"


# ---- PDF -------------------------------------------------------------------------------------------------------
def make_pdf(pages: list[list[str]], title: str | None = None, user_password: str | None = None) -> bytes:
    """A PDF whose pages show the given lines in Helvetica (a standard font: nothing embedded)."""
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        stream = DecodedStreamObject()
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td", *(f"({line}) Tj T*" for line in lines), "ET"]
        stream.set_data("\n".join(ops).encode("latin-1"))
        page.replace_contents(stream)
    if title:
        writer.add_metadata({"/Title": title, "/Author": "Jane Doe"})
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_PAGES = [["Grain ships reach Odessa", "November 24, 2021", "Three ships reached the port on Wednesday."],
             ["A fourth ship follows next week."]]


def test_pdf_text_per_page_and_metadata() -> None:
    [doc] = parse_bytes(make_pdf(PDF_PAGES, title="Grain ships in Odessa"), "ships.pdf", "ships")
    assert doc.text == ("Grain ships reach Odessa\nNovember 24, 2021\nThree ships reached the port on Wednesday.\n\n"
                        "A fourth ship follows next week.")
    assert (doc.title, doc.author, doc.published, doc.published_raw) == (
        "Grain ships in Odessa", "Jane Doe", "2021-11-24", "November 24, 2021")
    [untitled] = parse_bytes(make_pdf(PDF_PAGES), "ships.pdf", "ships")
    assert (untitled.title, untitled.author) == ("Grain ships reach Odessa", None)


def test_pdf_with_only_an_owner_password_opens() -> None:
    [doc] = parse_bytes(make_pdf(PDF_PAGES, user_password=""), "ships.pdf", "ships")
    assert doc.text.startswith("Grain ships reach Odessa\n")


def test_pdf_text_stops_at_the_character_limit() -> None:
    pdf = make_pdf([[f"Page {n} of the harbour report, forty characters."] for n in range(1, 6)])
    with pytest.raises(TooLargeError) as err:
        parse_bytes(pdf, "report.pdf", "report", max_chars=120)  # 3 pages of 49 characters pass it: 4 and 5 unread
    assert str(err.value) == ("PDF file holds more than 120 characters of text by page 3, over the document limit "
                              "(QA_MAX_DOCUMENT_CHARS); split the article")


@pytest.mark.parametrize(("data", "message"), [
    (make_pdf(PDF_PAGES, user_password="secret"), "PDF file is encrypted with a password; save an unencrypted copy"),
    (b"%PDF-1.4", "PDF file could not be read (Stream has ended unexpectedly); save or export it again"),
    (make_pdf(PDF_PAGES)[:600], "PDF file could not be read (Stream has ended unexpectedly); save or export it again"),
    (b"this is not a PDF at all", "file is not a PDF (no '%PDF-' header in its first 1,024 bytes); check its type"),
    (make_pdf([[]]), "PDF file has no extractable text (a scan?); run OCR on it or save the article as text"),
])
def test_bad_pdf_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_bytes(data, "bad.pdf", "bad")
    assert str(err.value) == message


# ---- DOCX ------------------------------------------------------------------------------------------------------
def make_docx(paragraphs: list[str], title: str = "", author: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    for text in paragraphs:
        document.add_paragraph(text)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


DOCX_PARAGRAPHS = ["Harbour budget passes", "By Jane Doe, Nov. 24, 2021 10:05 AM EST", "",
                   "The council   voted 7 to 2 on Monday.", "The works start in March."]


def test_docx_paragraphs_title_and_author() -> None:
    [doc] = parse_bytes(make_docx(DOCX_PARAGRAPHS, "Council budget vote", "Jane Doe"), "vote.docx", "vote")
    assert doc.text == ("Harbour budget passes\n\nBy Jane Doe, Nov. 24, 2021 10:05 AM EST\n\n"
                        "The council voted 7 to 2 on Monday.\n\nThe works start in March.")
    assert (doc.title, doc.author, doc.published, doc.published_raw) == (
        "Council budget vote", "Jane Doe", "2021-11-24", "Nov. 24, 2021 10:05 AM EST")
    [untitled] = parse_bytes(make_docx(DOCX_PARAGRAPHS), "vote.docx", "vote")
    assert (untitled.title, untitled.author) == ("Harbour budget passes", None)


def _zip(files: dict[str, str]) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, content in files.items():
            package.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 cut short", "DOCX file could not be read (not a ZIP package); save it again as .docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
     "DOCX file is password-protected or an old binary .doc; save an unprotected .docx"),
    (_zip({"notes.txt": "hello"}), "DOCX file could not be read (no _rels/.rels: not a Word package); save it again "
                                   "as .docx"),
    (make_docx(["", "  "]), "DOCX file has no text"),
])
def test_bad_docx_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_bytes(data, "bad.docx", "bad")
    assert str(err.value) == message


def test_docx_that_unpacks_too_large_is_refused() -> None:
    bomb = _zip({"word/document.xml": "a" * 2_000_000})
    assert len(bomb) < 10_000
    with pytest.raises(TooLargeError) as err:
        parse_bytes(bomb, "bomb.docx", "bomb", max_bytes=100_000)
    assert str(err.value) == "DOCX file unpacks to 2,000,000 bytes, over the 1,000,000-byte limit"


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(body: str, repeat: int = 1) -> bytes:
    """A python-docx package whose main part's body is ``body`` (``w:`` elements) ``repeat`` times, streamed in."""
    template = zipfile.ZipFile(BytesIO(make_docx(["placeholder"], "Title", "Author")))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for info in template.infolist():
            if info.filename != "word/document.xml":
                package.writestr(info, template.read(info))
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<w:document xmlns:w="{W_NS}"><w:body>'.encode())
            for _ in range(repeat):
                part.write(body.encode())
            part.write(b"</w:body></w:document>")
    return out.getvalue()


def test_docx_text_is_what_python_docx_reads_as_paragraphs() -> None:
    body = ('<w:p><w:r><w:t>Tabs</w:t><w:tab/><w:t>and</w:t><w:br/><w:t>breaks</w:t><w:br w:type="page"/></w:r>'
            '<w:hyperlink><w:r><w:t xml:space="preserve"> linked</w:t></w:r></w:hyperlink>'
            '<w:r><w:noBreakHyphen/><w:delText>deleted</w:delText></w:r></w:p>'
            '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>in a table</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
            '<w:p><w:ins><w:r><w:t>inserted</w:t></w:r></w:ins><w:r><w:t>Last one.</w:t></w:r></w:p>')
    data = docx_with_body(body)
    expected = ["Tabs\tand\nbreaks linked-", "Last one."]
    assert [p.text for p in docx.Document(BytesIO(data)).paragraphs] == expected
    [doc] = parse_bytes(data, "x.docx", "x")
    assert (doc.text, doc.title, doc.author) == ("Tabs and\nbreaks linked-\n\nLast one.", "Title", "Author")


def test_docx_text_stops_at_the_character_limit() -> None:
    data = docx_with_body("<w:p><w:r><w:t>Harbour news. </w:t></w:r></w:p>", repeat=100_000)  # 1.4 M characters
    assert len(data) < 50_000
    with pytest.raises(TooLargeError) as err:
        parse_bytes(data, "long.docx", "long", max_chars=10_000)
    assert str(err.value) == ("DOCX file holds more than 10,000 characters of text, over the document limit "
                              "(QA_MAX_DOCUMENT_CHARS); split the article")


def test_docx_markup_stops_at_its_byte_limit() -> None:
    data = docx_with_body("<w:p><w:r><w:rPr><w:b/></w:rPr></w:r></w:p>", repeat=100_000)  # 4.3 MB, no text
    with pytest.raises(TooLargeError) as err:
        parse_bytes(data, "empty.docx", "empty", max_chars=1_000)
    assert str(err.value) == "DOCX main part word/document.xml is over 20,000 bytes of XML; split the article"


def test_folder_with_pdf_and_docx_is_indexed_and_their_bytes_not_called_binary(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(make_pdf(PDF_PAGES))
    (tmp_path / "b.docx").write_bytes(make_docx(DOCX_PARAGRAPHS))
    (tmp_path / "c.pdf").write_bytes(b"")
    items = list(load_files([tmp_path]))
    assert [(i.doc_id, i.title) for i in items if isinstance(i, Document)] == [
        ("a", "Grain ships reach Odessa"), ("b", "Harbour budget passes")]
    assert [i for i in items if isinstance(i, Skipped)] == [Skipped(str(tmp_path / "c.pdf"), "file is empty",
                                                                           str((tmp_path / "c.pdf").resolve()))]


# ---- dates -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "iso"), [
    ("June 30, 2024", "2024-06-30"),
    ("2024-05-06", "2024-05-06"),
    ("24 November 2021", "2021-11-24"),
    ("Nov. 24, 2021 10:05 AM EST", "2021-11-24"),
    ("2021-11-24T23:30:00-05:00", "2021-11-24"),  # the date the source wrote, not converted to another zone
    ("Tue, 23 Nov 2021 18:00:00 +0300", "2021-11-23"),
    ("November 2021", "2021-11-01"),  # no day: the first of the month
    ("24 novembre 2021", "2021-11-24"),  # not English: language detected
    ("garbage", None),
    ("2021", None),  # a year is no date
    ("yesterday", None),  # relative dates would depend on the day of indexing
    ("2024-02-30", None),
    ("", None),
    (None, None),
])
def test_dates_are_normalised_to_iso(raw: str | None, iso: str | None) -> None:
    assert normalise_date(raw) == iso


def test_unreadable_date_keeps_the_original() -> None:
    record = json.dumps({"title": "T", "text": "Body.", "published": "sometime last spring"}).encode()
    [doc] = parse_bytes(record, "t.json", "t")
    assert (doc.published, doc.published_raw) == (None, "sometime last spring")
    [text] = parse_bytes(b"Storm hits the coast\n\nNov. 24, 2021 10:05 AM EST\n\nWinds reached 120 km/h.", "s.txt", "s")
    assert (text.published, text.published_raw) == ("2021-11-24", "Nov. 24, 2021 10:05 AM EST")


def test_a_date_deep_in_the_text_is_not_the_articles_date() -> None:
    text = "Anniversary\n\n" + "".join(f"Paragraph {i}.\n\n" for i in range(10)) + "The bridge opened on 3 May 1901.\n"
    [doc] = parse_bytes(text.encode(), "a.txt", "a")
    assert (doc.published, doc.published_raw) == (None, None)


# ---- stored documents ------------------------------------------------------------------------------------------
def test_new_fields_round_trip_and_old_records_still_load() -> None:
    doc = Document("d", "T", "Body.", "https://e.org", "2021-11-24", "/src/d.html", "Nov. 24, 2021", "Jane Doe",
                   "E News")
    stored = json.loads(json.dumps({**doc.metadata(), "sha256": doc.sha256, "text": doc.text}))
    assert Document.from_stored(stored) == doc
    old = {"doc_id": "d", "title": "T", "url": None, "published": "November 24, 2021", "source": None, "text": "Body."}
    assert Document.from_stored(old) == Document("d", "T", "Body.", None, "November 24, 2021")


def test_hash_of_a_document_without_the_new_fields_is_unchanged() -> None:
    doc = Document("d", "T", "Body.", "https://e.org", "2021-11-24")
    before = hashlib.sha256(b"T\x00https://e.org\x002021-11-24\x00Body.\x00").hexdigest()  # the formula before them
    assert content_hash(doc) == before
    assert content_hash(Document("d", "T", "Body.", "https://e.org", "2021-11-24", author="Jane Doe")) != before


def test_paragraphs_marked_by_br_keep_their_sentences_whole() -> None:
    # an old table-layout page: paragraphs separated by <br><br>, the source wrapped inside them; a wrap is a space,
    # not a paragraph break that would cut a sentence in two
    pages = Path(__file__).resolve().parents[2] / "eval" / "data" / "html"
    text = extract_html((pages / "haverby_daily_crane.html").read_text(encoding="utf-8")).text
    paragraphs = text.split("\n\n")
    expected = (pages / "haverby_daily_crane.txt").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(expected) == 7
    assert all(p in paragraphs for p in expected)
    assert "harbourdad 14.03.2024 09:40\nMy brother works nights there. Everyone has known for years that crane was " \
           "shaking in the wind." in paragraphs  # a single <br> stays a line break (comments kept: see the eval)
