"""Turn article files (.txt, .md, .html, .pdf, .docx, .json, .jsonl) into Documents; bad files are skipped with a
reason."""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from index.dates import normalise_date
from index.decoding import DecodedText, decode_text
from index.documents import Document, check_storable
from index.errors import InvalidInputError, QAError, TooLargeError
from index.formats import DEFAULT_MAX_CHARS, Extracted, brief, extract_docx, extract_html, extract_pdf
from index.header import read_header

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".json", ".jsonl")
BINARY_SUFFIXES = (".pdf", ".docx")  # parsed from their bytes, never decoded as text
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_DOC_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file (or record) that was not indexed, and why; ``path`` is the file's resolved path, so a folder sync keeps
    the documents a skipped file gave before (a file that cannot be read now is not a file that is gone)."""

    source: str
    reason: str
    path: str | None = None
    duplicate_of: str | None = None  # not indexed because the document ``doc_id`` has the same text as this one
    doc_id: str | None = None


@dataclass(frozen=True, slots=True)
class DetectedEncoding:
    """A document read from a file that was not UTF-8, and the encoding its text was decoded as."""

    doc_id: str
    source: str
    encoding: str


def make_doc_id(name: str) -> str:
    """A safe document id from a file stem or title: letters, digits, ``_ . -`` only."""
    cleaned = _DOC_ID.sub("-", name).strip("-.")[:80]
    if not cleaned:
        raise InvalidInputError(f"cannot derive a document id from {name!r}; use letters or digits")
    if cleaned == "CURRENT":
        raise InvalidInputError("'CURRENT' is reserved (the index's own pointer file); choose another document id")
    return cleaned


def decode(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> DecodedText:
    """Bytes to text, refusing binary, undetectable, empty and oversized content."""
    _check_size(data, max_bytes)
    return decode_text(data)


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise TooLargeError(f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")


def parse_markdown(doc_id: str, markdown: str, source: str | None = None) -> Document:
    """A Markdown article indexed and served as its plain text: markdown-it-py parses it, and each block's inline
    text (emphasis, links and code without their markup) becomes one paragraph. A YAML front matter block (Jekyll,
    Hugo, Obsidian) gives the title, date, author, URL and site name and is not text."""
    from markdown_it import MarkdownIt

    meta, markdown = _front_matter(markdown)
    blocks = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "inline":
            text = "".join(_INLINE_TEXT.get(child.type, "") if child.type not in ("text", "code_inline")
                           else child.content for child in token.children or [])
            if text.strip():
                blocks.append(text.strip())
        elif token.type in ("code_block", "fence") and token.content.strip():
            blocks.append(token.content.strip())
    text = "\n\n".join(blocks)
    if not text:
        raise InvalidInputError("Markdown file has no text")
    if meta is None:
        return parse_text(doc_id, text, source)
    return _from_extracted(doc_id, Extracted(text, meta.get("title"), meta.get("url") or meta.get("link"),
                                             meta.get("date") or meta.get("published"), meta.get("author"),
                                             meta.get("site_name") or meta.get("source")), source)


FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
MAX_FRONT_MATTER_CHARS = 8192  # a title, a date and a few tags; more is not front matter


def _front_matter(markdown: str) -> tuple[dict[str, str] | None, str]:
    """The YAML front matter's text fields (scalars as strings, a list of names joined with ", ") and the Markdown
    after it; (None, markdown) when it has none, or none that parses as a mapping."""
    import yaml

    m = FRONT_MATTER.match(markdown)
    if m is None or len(m.group(1)) > MAX_FRONT_MATTER_CHARS:
        return None, markdown
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return None, markdown
    if not isinstance(data, dict):
        return None, markdown
    fields: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = ", ".join(value)  # authors: [A, B]
        if isinstance(value, (str, int, float, datetime.date)) and not isinstance(value, bool) and str(value).strip():
            fields[str(key).lower()] = str(value).strip()
    return fields, markdown[m.end():]


_INLINE_TEXT = {"softbreak": " ", "hardbreak": "\n"}


def _document(doc_id: str, title: str, text: str, url: str | None, published_raw: str | None, source: str | None,
              author: str | None = None, site_name: str | None = None) -> Document:
    """A Document whose date is normalised to ``YYYY-MM-DD`` (None when it does not parse); the date as written is
    kept in ``published_raw``."""
    return Document(doc_id, title, text, url, normalise_date(published_raw), source, published_raw=published_raw,
                    author=author, site_name=site_name)


def parse_text(doc_id: str, text: str, source: str | None = None) -> Document:
    """A plain-text or Markdown article, with the metadata its header lines write (``index.header``); offsets refer
    to ``text`` unchanged."""
    h = read_header(text)
    return _document(doc_id, h.title or doc_id, text, h.url, h.published_raw, source, h.author, h.site_name)


def _from_extracted(doc_id: str, page: Extracted, source: str | None) -> Document:
    """A Document from an HTML, PDF or DOCX file's text and metadata; what the file's metadata does not say is looked
    for in the text as in a plain-text article."""
    h = read_header(page.text)
    return _document(doc_id, (page.title or h.title)[:300] or doc_id, page.text, page.url or h.url,
                     page.published_raw or h.published_raw, source, page.author or h.author,
                     page.site_name or h.site_name)


def parse_html(doc_id: str, html: str, source: str | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> Document:
    """The article of a saved news page (trafilatura: no navigation, ads, cookie banner or comments), one paragraph
    per block, with the page's title, canonical URL, author, site name and publication date."""
    return _from_extracted(doc_id, extract_html(html, max_chars), source)


def parse_binary(doc_id: str, data: bytes, suffix: str, source: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES, max_chars: int = DEFAULT_MAX_CHARS) -> Document:
    """A PDF (text per page) or DOCX (text per paragraph) article; a damaged or encrypted file is refused, and so is
    one whose text passes ``max_chars`` (found while reading: the rest is never extracted)."""
    _check_size(data, max_bytes)
    if not data.strip():
        raise InvalidInputError("file is empty")
    page = extract_pdf(data, max_chars) if suffix == ".pdf" else extract_docx(data, max_bytes, max_chars)
    return _from_extracted(doc_id, page, source)


def document_from_record(record: object, doc_id: str, source: str | None = None) -> Document:
    """A JSON record ``{title, text, url?, published?, author?, site_name?}``; ``id`` in the record overrides
    ``doc_id``."""
    if not isinstance(record, dict):
        raise InvalidInputError("each JSON record must be an object with 'title' and 'text'")
    text, title = record.get("text"), record.get("title")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("JSON record needs a non-empty string 'text'")
    if title is not None and not isinstance(title, str):
        raise InvalidInputError("JSON record 'title' must be a string")
    for key in ("url", "published", "author", "site_name"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise InvalidInputError(f"JSON record '{key}' must be a string")
    rid = record.get("id")
    final_id = make_doc_id(str(rid)) if isinstance(rid, (str, int)) and str(rid).strip() else doc_id
    doc = _document(final_id, (title or "").strip() or final_id, text, record.get("url"), record.get("published"),
                    source, record.get("author"), record.get("site_name"))
    check_storable(doc)  # a JSON escape can make a lone surrogate: this record is bad, not the whole write
    return doc


@dataclass(frozen=True, slots=True)
class RecordError:
    """A JSON record that could not become a Document: where it is (``line N`` / ``record N``) and why."""

    where: str
    reason: str


def _json_records(text: str, jsonl: bool) -> list[tuple[str, object]]:
    """(where, record) pairs; a JSON Lines line that does not parse becomes a RecordError, not a failure of the file."""
    if jsonl:
        out: list[tuple[str, object]] = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append((f"line {n}", _json_loads(line, n)))
                except InvalidInputError as exc:
                    out.append((f"line {n}", RecordError(f"line {n}", str(exc))))
        return out
    data = _json_loads(text, 1)
    records = data if isinstance(data, list) else [data]
    return [(f"record {i + 1}", r) for i, r in enumerate(records)]


def _json_loads(text: str, first_line: int) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"invalid JSON at line {first_line + exc.lineno - 1}: {exc.msg}") from None
    except RecursionError:  # Python's parser gives up at about a thousand levels; an article record has two or three
        raise InvalidInputError(f"invalid JSON at line {first_line}: nested too deeply; an article record is an "
                                "object of strings") from None
    except ValueError:  # Python refuses to convert an integer of more digits than sys.get_int_max_str_digits()
        raise InvalidInputError(f"invalid JSON at line {first_line}: a number has more than "
                                f"{sys.get_int_max_str_digits():,} digits") from None


def parse_records(data: bytes, filename: str, doc_id: str, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_chars: int = DEFAULT_MAX_CHARS) -> list[Document | RecordError]:
    """Parse one file's bytes into its documents; in a JSON / JSON Lines file each bad record becomes a RecordError
    and the good ones are kept. ``filename`` is used only for its suffix, never as a path."""
    suffix = Path(filename.replace("\x00", "")).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(SUPPORTED_SUFFIXES)
        raise InvalidInputError(f"unsupported file type {suffix or '(none)'!r}; use one of {allowed}")
    try:
        if suffix in BINARY_SUFFIXES:
            return [parse_binary(doc_id, data, suffix, filename, max_bytes, max_chars)]
        decoded = decode(data, max_bytes)
        parsed = _parse_decoded(decoded.text, suffix, filename, doc_id, max_chars)
    except (QAError, MemoryError):
        raise
    except Exception as exc:  # whatever else a parser raises on a hostile file is the file's fault, never a crash
        raise InvalidInputError(f"{suffix} file could not be parsed ({brief(exc)}); check that it is a valid "
                                f"{suffix} file") from None
    if decoded.encoding is None:
        return parsed
    return [replace(p, encoding=decoded.encoding) if isinstance(p, Document) else p for p in parsed]


def _parse_decoded(text: str, suffix: str, filename: str, doc_id: str,
                   max_chars: int = DEFAULT_MAX_CHARS) -> list[Document | RecordError]:
    if suffix in (".html", ".htm"):
        return [parse_html(doc_id, text, filename, max_chars)]
    if suffix in (".md", ".markdown"):
        return [parse_markdown(doc_id, text, filename)]
    if suffix not in (".json", ".jsonl"):
        return [parse_text(doc_id, text, filename)]
    records = _json_records(text, suffix == ".jsonl")
    if not records:
        raise InvalidInputError("JSON file holds no records")
    # ids count every record, bad ones included, so fixing one record later does not renumber the others
    ids = [doc_id] if len(records) == 1 else [f"{doc_id}-{i}" for i in range(len(records))]
    out: list[Document | RecordError] = []
    for (where, record), rid in zip(records, ids, strict=True):
        if isinstance(record, RecordError):
            out.append(record)
            continue
        try:
            out.append(document_from_record(record, rid, filename))
        except InvalidInputError as exc:
            out.append(RecordError(where, str(exc)))
    if len(out) == 1 and isinstance(out[0], RecordError):
        raise InvalidInputError(out[0].reason)  # a one-record file: the file itself is bad
    return out


def parse_bytes(data: bytes, filename: str, doc_id: str, max_bytes: int = DEFAULT_MAX_BYTES,
                max_chars: int = DEFAULT_MAX_CHARS) -> list[Document]:
    """All documents of one uploaded file, or an error naming the first bad record: an upload is all or nothing."""
    parsed = parse_records(data, filename, doc_id, max_bytes, max_chars)
    bad = [p for p in parsed if isinstance(p, RecordError)]
    if bad:
        more = f" (and {len(bad) - 1} more bad records)" if len(bad) > 1 else ""
        raise InvalidInputError(f"{bad[0].where}: {bad[0].reason}{more}; nothing from this file was added")
    return [p for p in parsed if isinstance(p, Document)]


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Files under the given files and directories in a stable order, each with its path relative to the folder
    named (just its name for a file named directly); ``doc_id_for`` makes the document id from it."""
    for path in paths:
        if path.is_dir():
            # a link to nothing is named (load_files skips it with its reason), not passed over in silence
            for file in sorted(p for p in path.rglob("*") if (p.is_file() or (p.is_symlink() and not p.exists()))
                               and not p.name.startswith(".")):
                yield file, file.relative_to(path)
        else:
            yield path, Path(path.name)


def missing(path: Path) -> str | None:
    """Why a file ``iter_files`` listed cannot be read (a link to nothing, or gone since), or None."""
    if path.exists():
        return None
    return "a link to a file that does not exist" if path.is_symlink() else "no such file or directory"


def doc_id_for(rel: Path) -> str:
    """A file's document id: its stem at the top of the named folder, or its relative path joined by ``.`` in a
    subfolder (``2021/harbor_bridge.txt`` -> ``2021.harbor_bridge``), so two files of the same name in different
    folders are two documents."""
    return make_doc_id(".".join([*rel.parent.parts, rel.stem]))


def load_files(paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES,
               max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[Document | Skipped]:
    """Documents from files, streaming; every unreadable file, and every bad record of a JSON / JSON Lines file,
    becomes a Skipped with its reason (the file's good records are still indexed)."""
    seen: set[str] = set()
    for path, rel in iter_files(paths):
        try:
            doc_id = doc_id_for(rel)
            if (gone := missing(path)) is not None:
                raise InvalidInputError(gone)
            if path.stat().st_size > max_bytes:
                raise TooLargeError(f"file is {path.stat().st_size:,} bytes, over the {max_bytes:,}-byte limit")
            parsed = parse_records(path.read_bytes(), path.name, doc_id, max_bytes, max_chars)
        except (InvalidInputError, TooLargeError, OSError) as exc:
            yield Skipped(str(path), str(exc), str(path.resolve()))
            continue
        for item in parsed:
            if isinstance(item, RecordError):
                yield Skipped(f"{path}, {item.where}", item.reason, str(path.resolve()))
                continue
            doc = replace(item, source=str(path.resolve()))
            if doc.doc_id in seen:
                yield Skipped(str(path), f"duplicate document id {doc.doc_id!r}", str(path.resolve()))
                continue
            seen.add(doc.doc_id)
            yield doc
