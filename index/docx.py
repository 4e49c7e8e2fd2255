"""A DOCX package's paragraphs, title and author, read as a stream with bounded time and memory.

python-docx parses the whole main part into a tree before anything can be counted: a 278 KB package whose XML is
96 MiB took 115 s and 1.3 GB. Here lxml's iterparse reads the part as a stream, each body paragraph is taken and then
dropped from the tree, and reading stops as soon as the text passes the document character limit or the XML passes
``MAX_DOCX_XML_PER_CHAR`` bytes per allowed character. The text is what python-docx's ``Document.paragraphs`` gives:
the body's own paragraphs (not tables, text boxes, headers or deleted text), each the text of its runs and of the runs
of its hyperlinks, with ``w:tab`` a tab, a text-wrapping ``w:br`` or a ``w:cr`` a line break.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from typing import IO

from lxml import etree

from index.errors import InvalidInputError, TooLargeError

# Word writes a few bytes of XML per character of text, up to some tens where every word is a run with its own
# formatting and revision ids. The bound is per *allowed* character (4 MB of XML at the default 200,000), so only an
# article near the character limit and heavily marked up can meet it; a part without text (a markup bomb) is read at
# most this far, in about a second on a loaded machine.
MAX_DOCX_XML_PER_CHAR = 20
MAX_PROPERTIES_BYTES = 1024 * 1024  # docProps/core.xml: a title and an author
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_BODY, _P, _R, _HYPERLINK, _T, _BR, _BR_TYPE = (f"{_W}{name}" for name in ("body", "p", "r", "hyperlink", "t", "br",
                                                                             "type"))
_RUN_CHARACTERS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}


@dataclass(frozen=True, slots=True)
class DocxParts:
    paragraphs: list[str]
    title: str | None
    author: str | None


def read_docx(package: zipfile.ZipFile, max_chars: int) -> DocxParts:
    """The body paragraphs, title and author of an open DOCX package; TooLargeError past the limits."""
    names = set(package.namelist())
    main = _main_part(package, names)
    with package.open(main) as stream:
        paragraphs = _body_paragraphs(_Bounded(stream, MAX_DOCX_XML_PER_CHAR * max_chars, f"DOCX main part {main}"),
                                      max_chars)
    title = author = None
    if "docProps/core.xml" in names:
        with package.open("docProps/core.xml") as stream:
            data = _Bounded(stream, MAX_PROPERTIES_BYTES, "DOCX properties part docProps/core.xml").read()
        properties = etree.fromstring(data, _safe_parser())
        title, author = (_one_line(properties.findtext(f"{_DC}{name}")) for name in ("title", "creator"))
    return DocxParts(paragraphs, title, author)


def _body_paragraphs(stream: _Bounded, max_chars: int) -> list[str]:
    """Each body paragraph's text, in order. lxml builds the tree in C; every paragraph is emptied once read and every
    finished element before it removed, so the tree holds one top-level element at a time."""
    paragraphs: list[str] = []
    chars = 0
    for _, element in etree.iterparse(stream, events=("end",), tag=_P, resolve_entities=False, load_dtd=False,
                                      no_network=True, huge_tree=False):
        parent = element.getparent()
        if parent is not None and parent.tag == _BODY:
            paragraphs.append(_paragraph_text(element))
            chars += len(paragraphs[-1])
            if chars > max_chars:
                raise TooLargeError(f"DOCX file holds more than {max_chars:,} characters of text, over the document "
                                    "limit (QA_MAX_DOCUMENT_CHARS); split the article")
            while element.getprevious() is not None:
                del parent[0]
        element.clear()
    return paragraphs


def _paragraph_text(paragraph: etree._Element) -> str:
    """What python-docx's ``Paragraph.text`` gives: the paragraph's runs and its hyperlinks' runs, in order."""
    parts: list[str] = []
    for child in paragraph:
        runs = [child] if child.tag == _R else child.iterchildren(_R) if child.tag == _HYPERLINK else ()
        for run in runs:
            for item in run:
                if item.tag == _T:
                    parts.append(item.text or "")
                elif item.tag == _BR:
                    parts.append("\n" if item.get(_BR_TYPE, "textWrapping") == "textWrapping" else "")
                elif item.tag in _RUN_CHARACTERS:
                    parts.append(_RUN_CHARACTERS[item.tag])
    return "".join(parts)


class _Bounded:
    """A part's stream that refuses to give more than ``max_bytes`` (a ZIP entry may unpack to far more than its
    compressed size suggests)."""

    def __init__(self, stream: IO[bytes], max_bytes: int, what: str) -> None:
        self.stream, self.max_bytes, self.what, self.given = stream, max_bytes, what, 0

    def read(self, size: int = -1) -> bytes:
        room = self.max_bytes + 1 - self.given  # at least 1: reading past the limit raises
        chunk = self.stream.read(room if size is None or size < 0 else min(size, room))
        self.given += len(chunk)
        if self.given > self.max_bytes:
            raise TooLargeError(f"{self.what} is over {self.max_bytes:,} bytes of XML; split the article")
        return chunk


def _main_part(package: zipfile.ZipFile, names: set[str]) -> str:
    """The main document part the package relationships name (``word/document.xml`` as Word writes it)."""
    if "_rels/.rels" not in names:
        raise InvalidInputError("DOCX file could not be read (no _rels/.rels: not a Word package); save it again "
                                "as .docx")
    with package.open("_rels/.rels") as stream:
        rels = etree.fromstring(_Bounded(stream, MAX_PROPERTIES_BYTES, "DOCX part _rels/.rels").read(), _safe_parser())
    for rel in rels.iter(_RELS):
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            target = posixpath.normpath(rel.get("Target", "").lstrip("/"))
            if target in names:
                return target
    raise InvalidInputError("DOCX file could not be read (it names no main document part); save it again as .docx")


def _safe_parser() -> etree.XMLParser:
    """No DTD loading, no entity expansion, no network: a package is data, never instructions."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def _one_line(value: str | None) -> str | None:
    return (" ".join(value.split()) or None) if value else None
