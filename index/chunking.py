"""Sentence splitting and sentence-aware passage chunking with exact character offsets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from index.documents import Chunk, Document, Span
from index.header import HEADER_LINES, is_link_line, is_signature_line

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "maj",
        "sen",
        "rep",
        "gov",
        "pres",
        "st",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "al",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "nos",
        "fig",
        "approx",
        "est",
        "dept",
        "univ",
        "mt",
        "ft",
        "hon",
        "rev",
        "u.s",
        "u.k",
        "u.n",
        "a.m",
        "p.m",
    ]
)
# Sentence-final punctuation (Latin, CJK, Devanagari, Arabic), then optional closing quotes/brackets.
_END = re.compile(r"[.!?。！？।؟]+[\"'”’»)\]]*")
_CJK_END = frozenset("。！？")


@dataclass(frozen=True, slots=True)
class ChunkParams:
    """Chunking settings; recorded in the index manifest."""

    max_words: int = 90
    min_words: int = 30
    overlap_sentences: int = 1
    max_sentence_chars: int = 600

    def as_dict(self) -> dict[str, int]:
        return {
            "max_words": self.max_words,
            "min_words": self.min_words,
            "overlap_sentences": self.overlap_sentences,
            "max_sentence_chars": self.max_sentence_chars,
        }


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of non-empty lines; a hard-wrapped line continuing in lowercase joins the previous."""
    block: tuple[int, int] | None = None
    for m in re.finditer(r"[^\n]+", text):
        if not m.group(0).strip():
            if block:
                yield block
            block = None
            continue
        continues = block is not None and m.group(0).lstrip()[:1].islower() and text[block[1] - 1] not in ".!?:"
        if block is not None and continues and text[block[1] : m.start()] == "\n":
            block = (block[0], m.end())
            continue
        if block:
            yield block
        block = m.span()
    if block:
        yield block


def _word_before(text: str, dot: int) -> str:
    """The run of non-space characters ending at ``dot`` (or at the newline just before it), as
    ``re.search(r"(\\S+)$", text[:dot])`` finds it, without scanning (and copying) the text before it: that made
    splitting a long article quadratic in its length."""
    end = dot - 1 if dot > 0 and text[dot - 1] == "\n" else dot
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` ends an abbreviation or an initial, not a sentence."""
    word = _word_before(text, dot)
    if not word:
        return False
    word = word.lstrip("(\"'“‘[").lower()
    if word in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return "." in word and all(len(p) <= 2 for p in word.split("."))  # U.S, e.g, a.m


def _inside_quote(text: str, start: int, pos: int, end: int) -> bool:
    """True when ``pos`` lies inside a curly quotation that closes later in the block."""
    opened = text.count("“", start, pos) - text.count("”", start, pos)
    return opened > 0 and "”" in text[pos:end]


def _split_block(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split text[start:end] into sentence spans."""
    sent_start = start
    for m in _END.finditer(text, start, end):
        stop = m.end()
        if stop < end and not text[stop].isspace() and text[m.end() - 1] not in _CJK_END:
            continue
        if m.group(0)[0] == "." and len(m.group(0).rstrip("\"'”’»)]")) == 1 and _is_abbreviation(text, m.start()):
            continue
        nxt = text[stop:end].lstrip()
        if nxt and nxt[0].islower():
            continue  # "e.g. the" or a lowercase continuation after a quote
        if _inside_quote(text, sent_start, stop, end):
            continue  # keep a multi-sentence quotation in one sentence
        yield sent_start, stop
        sent_start = stop
    if sent_start < end:
        yield sent_start, end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cap_length(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Split an over-long sentence at whitespace so no piece exceeds ``max_chars``."""
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        piece = _trim(text, start, cut)
        if piece[0] < piece[1]:
            yield piece
        start = cut
    piece = _trim(text, start, end)
    if piece[0] < piece[1]:
        yield piece


def split_sentences(doc_id: str, text: str, max_sentence_chars: int = 600, title: str | None = None) -> list[Span]:
    """Split ``text`` into sentences; each Span satisfies ``text[start:end] == span.text``. A line that is only a link
    or a link's label (``index.header.is_link_line``), one of the first lines that only signs or dates the article
    (``index.header.is_signature_line``), or a first line that is the article's ``title`` gives none, unless the text
    holds nothing else. (The headline is indexed as every passage's, not as the first passage's: see
    ``index.snapshot``.)"""
    blocks = list(_blocks(text))
    prose = [b for i, b in enumerate(blocks) if not is_link_line(text[b[0]:b[1]])
             and not (i < HEADER_LINES and is_signature_line(text[b[0]:b[1]]))
             and not (i == 0 and title is not None and _headline(text[b[0]:b[1]]) == _headline(title))]
    spans: list[Span] = []
    for b_start, b_end in prose or blocks:
        for s_start, s_end in _split_block(text, b_start, b_end):
            s_start, s_end = _trim(text, s_start, s_end)
            for p_start, p_end in _cap_length(text, s_start, s_end, max_sentence_chars):
                spans.append(Span(doc_id, p_start, p_end, text[p_start:p_end]))
    return spans


def _paragraph_ids(text: str, sentences: list[Span]) -> list[int]:
    """Number paragraphs (separated by blank lines) so chunks prefer not to cross them."""
    ids, para, prev_end = [], 0, 0
    for s in sentences:
        if "\n\n" in text[prev_end : s.start].replace("\r", "").replace(" ", "").replace("\t", ""):
            para += 1
        ids.append(para)
        prev_end = s.end
    return ids


def _words(span: Span) -> int:
    return max(1, len(span.text.split()))


def chunk_sentences(text: str, sentences: list[Span], params: ChunkParams) -> list[Chunk]:
    """Group consecutive sentences into passages of at most ``max_words`` words with sentence overlap."""
    if not sentences:
        return []
    paras = _paragraph_ids(text, sentences)
    chunks: list[Chunk] = []
    first, words = 0, 0
    for i, sent in enumerate(sentences):
        n = _words(sent)
        crosses = i > first and paras[i] != paras[i - 1] and words >= params.min_words
        if i > first and (words + n > params.max_words or crosses):
            chunks.append(_make_chunk(text, sentences, first, i - 1))
            first = i if crosses else _overlap_start(sentences, first + 1, i, n, params)
            words = sum(_words(s) for s in sentences[first:i])
        words += n
    chunks.append(_make_chunk(text, sentences, first, len(sentences) - 1))
    return chunks


def _overlap_start(sentences: list[Span], lowest: int, i: int, n: int, params: ChunkParams) -> int:
    """First sentence of the next chunk: up to ``overlap_sentences`` before ``i``, fewer if they would overflow."""
    first = max(lowest, i - params.overlap_sentences)
    while first < i and sum(_words(s) for s in sentences[first:i]) + n > params.max_words:
        first += 1
    return first


def _make_chunk(text: str, sentences: list[Span], first: int, last: int) -> Chunk:
    start, end = sentences[first].start, sentences[last].end
    return Chunk(sentences[first].doc_id, start, end, text[start:end], first, last)


def _headline(line: str) -> str:
    return " ".join(line.lstrip("# ").split()).casefold()


def chunk_document(doc_id: str, text: str, params: ChunkParams,
                   title: str | None = None) -> tuple[list[Span], list[Chunk]]:
    """Sentences and passages of one document (``title``: see ``split_sentences``)."""
    sentences = split_sentences(doc_id, text, params.max_sentence_chars, title)
    return sentences, chunk_sentences(text, sentences, params)


def layout_digest(sentences: Sequence[Span], chunks: Sequence[Chunk]) -> str:
    """A digest of a document's sentence offsets and passages: equal digests, equal layouts."""
    h = hashlib.sha256()
    for s in sentences:
        h.update(f"{s.start},{s.end};".encode())
    for c in chunks:
        h.update(f"{c.start},{c.end},{c.first_sentence},{c.last_sentence};".encode())
    return h.hexdigest()[:16]


def split_today(doc: Document, params: ChunkParams) -> tuple[list[Span], list[Chunk], str]:
    """``chunk_document`` of ``doc`` with its layout digest. A stored document whose digest differs was split by
    earlier rules (a header line kept as a sentence, say): writing it again, though its text is the same, brings it
    to today's rules. Both backends store each document's layout, so reading never depends on these rules."""
    sentences, chunks = chunk_document(doc.doc_id, doc.text, params, doc.title)
    return sentences, chunks, layout_digest(sentences, chunks)
