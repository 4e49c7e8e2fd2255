"""Article text and metadata out of HTML (trafilatura), PDF (pypdf) and DOCX (a streaming lxml reader) files."""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from index.errors import InvalidInputError, TooLargeError

# pypdf warns about damaged files through logging, which without a handler Python prints to stderr: the file's
# InvalidInputError already says what is wrong (an application that configures logging still gets the warnings)
logging.getLogger("pypdf").addHandler(logging.NullHandler())

# libxml2 stops nesting at 256 levels and silently drops what lies deeper: refuse such a page instead of indexing
# part of it. Real news pages nest a few dozen levels.
MAX_HTML_DEPTH = 256  # counting <html> and <body>
# trafilatura's work grows faster than the page: 25,000 elements take about 3 s, 110,000 (a 9 MB page) a minute.
# A news article has a few thousand.
MAX_HTML_ELEMENTS = 25_000
# A DOCX is a ZIP: refuse one that would unpack to more than this many times the upload limit (a ZIP bomb).
MAX_DOCX_UNPACK_RATIO = 10
DEFAULT_MAX_CHARS = 200_000  # QA_MAX_DOCUMENT_CHARS' default: one article's extracted text
# A news page's text (navigation, comments, related stories) is a few times its article's; a page with more text than
# this many articles of the limit cannot hold one that fits, or is not a news page.
MAX_HTML_TEXT_RATIO = 5
_PDF_MAGIC = b"%PDF-"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted Office files and old binary .doc are OLE containers
_DOCX_TEMPLATE_AUTHOR = "python-docx"  # what python-docx's blank template says when nobody set an author
_MANY_NEWLINES = re.compile(r"\n{3,}")
# trafilatura's output elements that hold blocks of their own; any other element is read as one paragraph
_CONTAINERS = frozenset(["div", "list", "item", "quote", "table", "row", "cell", "body", "main", "article"])
_BLOCKS = frozenset(["p", "head", "code"])
# publication-date meta tags, most specific first (keys lowercased: property, name or itemprop)
_DATE_META = ("article:published_time", "og:article:published_time", "datepublished", "pubdate", "publishdate",
              "publish-date", "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date",
              "date")


@dataclass(frozen=True, slots=True)
class Extracted:
    """A file's article text (paragraphs separated by blank lines) and the metadata the file itself carries."""

    text: str
    title: str | None = None
    url: str | None = None
    published_raw: str | None = None
    author: str | None = None
    site_name: str | None = None


def _clean(text: str) -> str:
    """Whitespace runs inside lines become one space; line breaks stay, at most one blank line in a row."""
    lines = (" ".join(line.split()) for line in text.replace("\x00", "").split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


# ---- HTML ------------------------------------------------------------------------------------------------------
def extract_html(html: str, max_chars: int = DEFAULT_MAX_CHARS) -> Extracted:
    """The main text of a news page, without navigation, footer, ads, cookie banner, newsletter box or comments,
    and the page's title, canonical URL, author, site name and publication date. A page holding more than
    ``MAX_HTML_TEXT_RATIO * max_chars`` characters of text is refused before the extractor reads it."""
    import trafilatura

    tree = _parse_html(html)
    _check_page_text(tree, max_chars)
    result = trafilatura.bare_extraction(
        tree, with_metadata=True, include_comments=False, include_tables=True, include_images=False,
        include_links=False, include_formatting=False,
        deduplicate=False,  # its cache is process-wide: a page indexed twice would lose its "seen" paragraphs
        date_extraction_params={"original_date": True, "extensive_search": False},  # no dates guessed from prose
    )
    body = getattr(result, "body", None)
    text = _body_text(body) if body is not None else ""
    if not text:
        raise InvalidInputError("HTML page has no visible text")
    return Extracted(text, _meta_str(result, "title"), _meta_str(result, "url"),
                     _meta_date(tree) or _meta_str(result, "date"), _meta_str(result, "author"),
                     _meta_str(result, "sitename"))


# A DOCTYPE with an internal subset (``<!DOCTYPE html [<!ENTITY x "...">]>``): HTML has no such thing, and HTML
# parsers end the DOCTYPE at its first ``>``, so the declarations after it would become article text.
_DOCTYPE_SUBSET = re.compile(r"""<!DOCTYPE\b(?:[^\[>"']|"[^"]*"|'[^']*')*\[(?:[^\]"']|"[^"]*"|'[^']*')*\]\s*>""",
                             re.IGNORECASE)


def _parse_html(html: str) -> Any:
    """An lxml tree of the page without scripts and styles; a page nested deeper than libxml2 keeps, or with too
    many elements, is refused rather than truncated or left to run for minutes."""
    from lxml import etree
    from lxml.html import HTMLParser, document_fromstring

    parser = HTMLParser(encoding="utf-8", collect_ids=False, remove_comments=True, remove_pis=True)
    try:
        tree = document_fromstring(_DOCTYPE_SUBSET.sub("<!DOCTYPE html>", html).encode("utf-8", "replace"),
                                   parser=parser)
    except (etree.ParserError, ValueError):  # nothing but comments or processing instructions
        raise InvalidInputError("HTML page has no visible text") from None
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            if "depth" in error.message:
                raise InvalidInputError(f"HTML page is nested more than {MAX_HTML_DEPTH} elements deep; "
                                        "save the article as plain text or simpler HTML")
            raise TooLargeError(f"HTML page is over the HTML parser's limits ({error.message.strip()}); "
                                "save the article as plain text")
    # trafilatura's fallback for short pages would keep what these hold ("enable JavaScript")
    etree.strip_elements(tree, "script", "style", "noscript", "template", with_tail=False)
    elements = sum(1 for _ in tree.iter())
    if elements > MAX_HTML_ELEMENTS:
        raise TooLargeError(f"HTML page has {elements:,} elements, over the {MAX_HTML_ELEMENTS:,}-element limit; "
                            "save the article as plain text")
    return tree


def _check_page_text(tree: Any, max_chars: int) -> None:
    """The article is part of the page's text: a page with far more text than one article may hold is refused
    before trafilatura, whose time and memory grow with the page."""
    limit = MAX_HTML_TEXT_RATIO * max_chars
    chars = 0
    for text in tree.itertext():
        chars += len(text)
        if chars > limit:
            raise TooLargeError(f"HTML page holds more than {limit:,} characters of text ({MAX_HTML_TEXT_RATIO} times "
                                "the document limit, QA_MAX_DOCUMENT_CHARS); save the article alone")


def _body_text(body: Any) -> str:
    """trafilatura's XML body as text: one paragraph per block (heading, paragraph, list item, table row, quote),
    blank lines between them; a ``<br>`` inside a paragraph stays a line break."""
    for element in body.iter():
        # trafilatura trims its blocks' text: a newline left in it separates the blocks of its fallback extractors,
        # which put a whole short page into one <p>. Where a block marks its own breaks with <lb/> (the page's <br>,
        # as old pages separate paragraphs with <br><br>), a newline is only the page source's line wrap: a space.
        parent = element.getparent()
        element.text = element.text and element.text.replace("\n", " " if _has_breaks(element) else "\n\n")
        element.tail = element.tail and element.tail.replace(
            "\n", " " if parent is not None and _has_breaks(parent) else "\n\n")
    for lb in body.iter("lb"):
        lb.tail = "\n" + (lb.tail or "")
    return "\n\n".join(p for p in _blocks(body) if p)


def _has_breaks(element: Any) -> bool:
    return any(child.tag == "lb" for child in element)


def _blocks(element: Any) -> Iterator[str]:
    if element.tag == "row":
        yield " | ".join(c for c in (_clean("".join(cell.itertext())) for cell in element) if c)
    elif element.tag in _CONTAINERS and any(child.tag in _CONTAINERS or child.tag in _BLOCKS for child in element):
        yield _clean(element.text or "")
        for child in element:
            yield from _blocks(child)
            yield _clean(child.tail or "")
    else:
        yield _clean("".join(element.itertext()))


def _meta_str(result: object, name: str) -> str | None:
    value = getattr(result, name, None)
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def _meta_date(tree: Any) -> str | None:
    """The publication date exactly as the page's meta tags (or a ``<time itemprop=datePublished>``) write it."""
    found: dict[str, str] = {}
    for tag in tree.iter("meta", "time"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        value = (tag.get("content") or tag.get("datetime") or "").strip()
        if key in _DATE_META and value:
            found.setdefault(key, value)
    return next((found[key] for key in _DATE_META if key in found), None)


# ---- PDF -------------------------------------------------------------------------------------------------------
def extract_pdf(data: bytes, max_chars: int = DEFAULT_MAX_CHARS) -> Extracted:
    """Text of every page (pages separated by blank lines) and the document's title and author; reading stops at the
    page that takes the text past ``max_chars``."""
    from pypdf import PdfReader

    if _PDF_MAGIC not in data[:1024]:  # where the PDF specification lets readers look for it
        raise InvalidInputError("file is not a PDF (no '%PDF-' header in its first 1,024 bytes); check its type")
    try:
        reader = PdfReader(BytesIO(data))
        _decrypt(reader)
        pages = _pdf_pages(reader, max_chars)
        info = reader.metadata
    except (InvalidInputError, TooLargeError):
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files: each is the file's fault
        raise InvalidInputError(f"PDF file could not be read ({brief(exc)}); save or export it again") from None
    text = "\n\n".join(p for p in pages if p)
    if not text:
        raise InvalidInputError("PDF file has no extractable text (a scan?); run OCR on it or save the article as text")
    return Extracted(text, _meta_str(info, "title"), author=_meta_str(info, "author"))


def _pdf_pages(reader: Any, max_chars: int) -> list[str]:
    pages: list[str] = []
    chars = 0
    for page in reader.pages:
        pages.append(_clean(page.extract_text() or ""))
        chars += len(pages[-1])
        if chars > max_chars:
            raise TooLargeError(f"PDF file holds more than {max_chars:,} characters of text by page {len(pages)}, "
                                "over the document limit (QA_MAX_DOCUMENT_CHARS); split the article")
    return pages


def _decrypt(reader: Any) -> None:
    """Open a PDF encrypted only with an owner password (an empty user password); refuse any other."""
    if not reader.is_encrypted:
        return
    try:
        opened = bool(reader.decrypt(""))
    except Exception:  # an unsupported cipher (AES needs the optional cryptography package) or a damaged key
        opened = False
    if not opened:
        raise InvalidInputError("PDF file is encrypted with a password; save an unencrypted copy")


# ---- DOCX ------------------------------------------------------------------------------------------------------
def extract_docx(data: bytes, max_bytes: int, max_chars: int = DEFAULT_MAX_CHARS) -> Extracted:
    """Paragraph texts (blank lines between them); the title from the document properties or the first paragraph.

    The main part is parsed as a stream that keeps no tree and stops at ``max_chars`` characters of text or
    ``MAX_DOCX_XML_PER_CHAR * max_chars`` bytes of XML: a small package that unpacks to a huge document costs at most
    that much time and memory (see ``index.docx``)."""
    from index.docx import read_docx

    _check_docx_package(data, max_bytes)
    try:
        with zipfile.ZipFile(BytesIO(data)) as package:
            parts = read_docx(package, max_chars)
    except (InvalidInputError, TooLargeError):
        raise
    except Exception as exc:  # zipfile and lxml raise many kinds of errors on damaged packages
        raise InvalidInputError(f"DOCX file could not be read ({brief(exc)}); save it again as .docx") from None
    paragraphs = [p for p in (_clean(p) for p in parts.paragraphs) if p]
    if not paragraphs:
        raise InvalidInputError("DOCX file has no text")
    return Extracted("\n\n".join(paragraphs), parts.title or paragraphs[0],
                     author=None if parts.author == _DOCX_TEMPLATE_AUTHOR else parts.author)


def _check_docx_package(data: bytes, max_bytes: int) -> None:
    if data.startswith(_OLE_MAGIC):
        raise InvalidInputError("DOCX file is password-protected or an old binary .doc; save an unprotected .docx")
    try:
        with zipfile.ZipFile(BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInputError("DOCX file could not be read (not a ZIP package); save it again as .docx") from None
    limit = MAX_DOCX_UNPACK_RATIO * max_bytes
    if unpacked > limit:
        raise TooLargeError(f"DOCX file unpacks to {unpacked:,} bytes, over the {limit:,}-byte limit")


def brief(exc: BaseException) -> str:
    """An exception's message on one line and short (a skipped file's reason is one line)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
