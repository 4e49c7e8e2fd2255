"""An immutable, searchable view of the index: sentence vectors in FAISS, passages in BM25.

Sentences and passages live in append-only rows (``Tables``) shared by every snapshot of one build; a sentence's row
number is its FAISS id. A write appends the rows of the documents it adds and gives the next snapshot its own live
masks and counts, so its cost follows the change, not the collection. Rows of removed documents stay (masked) until
the next build: loading or compacting the index (see index/STORAGE.md).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import faiss
import numpy as np

from index.bm25 import Postings, bm25_scores, passage_counts
from index.documents import Chunk, Document, Span
from index.faiss_index import (  # noqa: F401  (re-exported: eval/ and tests import them from here)
    EXACT_SEARCH_LIMIT,
    IVF_NPROBE,
    build_faiss,
    faiss_spec,
    forget,
    id_selector,
    one_thread,
    reusable,
    search_params,
    set_search_params,
    spec_of,
    supports_ids,
)
from index.lexicon import Idf, Lexicon, Vocabulary
from index.text import terms


@dataclass(frozen=True, slots=True)
class DocEntry:
    """One indexed document with its sentences, passages and sentence vectors; once placed in a snapshot, the row
    of its first sentence (= its first FAISS id) and of its first passage."""

    doc: Document
    sha256: str
    sentences: tuple[Span, ...]
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    first_sentence: int = -1
    first_passage: int = -1
    terms: frozenset[str] = frozenset()  # every term of its sentences, set when placed (for entity coverage)


class Tables:
    """Rows by number, appended by the single writer and never changed: a reader looks only below its bounds."""

    def __init__(self, lexicon: Lexicon, postings: Postings) -> None:
        self.spans: list[Span | None] = []
        self.terms: list[list[str]] = []
        self.sentence_passages: list[tuple[int, ...]] = []
        self.chunks: list[Chunk | None] = []
        self.passage_sentences: list[range] = []
        self.passage_titles: list[list[str]] = []  # the terms of each passage's article title (one list per article)
        self.lexicon = lexicon
        self.postings = postings

    def passage_terms(self, pid: int) -> list[str]:
        """What BM25 indexes a passage by: its article's title terms, then its sentences'."""
        return self.passage_titles[pid] + [t for sid in self.passage_sentences[pid] for t in self.terms[sid]]


class Rows(Sequence[Any]):
    """A snapshot's sentences or passages: indexed by row number; ``len`` and iteration cover the live rows."""

    def __init__(self, rows: list[Any], alive: np.ndarray, count: int) -> None:
        self._rows, self._alive, self._count = rows, alive, count

    def __getitem__(self, row: Any) -> Any:
        return self._rows[row]

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Any]:
        rows = self._rows
        return (rows[i] for i in np.flatnonzero(self._alive).tolist())


class IdBase(Mapping[str, int]):
    """doc_id -> the FAISS id of its first sentence (a document's sentences hold consecutive ids)."""

    def __init__(self, entries: dict[str, DocEntry]) -> None:
        self._entries = entries

    def __getitem__(self, doc_id: str) -> int:
        return self._entries[doc_id].first_sentence

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class SentenceVectors:
    """Sentence vectors by row, read from each document's own array (no collection-wide matrix is kept);
    ``np.asarray`` gives the live rows in row order, for tests and tools."""

    def __init__(self, snap: IndexSnapshot) -> None:
        self._snap = snap

    def __getitem__(self, rows: Any) -> np.ndarray:
        snap, out = self._snap, []
        for sid in np.atleast_1d(np.asarray(rows)).tolist():
            span = snap.tables.spans[sid]
            assert span is not None, f"sentence row {sid} is a gap"
            entry = snap.entries[span.doc_id]
            out.append(entry.vectors[sid - entry.first_sentence])
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, snap.dim), np.float32)

    def __len__(self) -> int:
        return self._snap.n_sentences

    @property
    def shape(self) -> tuple[int, int]:
        return (self._snap.n_sentences, self._snap.dim)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        parts = [e.vectors for e in sorted(self._snap.entries.values(), key=lambda e: e.first_sentence)]
        out = np.vstack(parts) if parts else np.zeros((0, self._snap.dim), np.float32)
        return out.astype(dtype or np.float32)


class IndexSnapshot:
    """What readers search: documents, live rows, counts, and a FAISS index updated in place by id."""

    def __init__(self, tables: Tables, entries: dict[str, DocEntry], dim: int, faiss_index: faiss.Index,
                 faiss_lock: threading.Lock, version: int, sentence_alive: np.ndarray, passage_alive: np.ndarray,
                 n_sentences: int, n_passages: int, total_length: int) -> None:
        self.tables, self.entries, self.dim = tables, entries, dim
        # Successive snapshots share one FAISS index that writes mutate in place: search and mutation take the lock.
        self.faiss_index, self.faiss_lock = faiss_index, faiss_lock
        self.version = version
        self.sentence_alive, self.passage_alive = sentence_alive, passage_alive
        self.n_sentences, self.n_passages, self.total_length = n_sentences, n_passages, total_length
        self.sentences = Rows(tables.spans, sentence_alive, n_sentences)
        self.passages = Rows(tables.chunks, passage_alive, n_passages)
        self.sentence_terms = tables.terms
        self.sentence_passages = tables.sentence_passages
        self.passage_sentences = tables.passage_sentences

    # ---- building ------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, entries: Mapping[str, DocEntry], dim: int, faiss_index: faiss.Index | None = None,
              id_base: Mapping[str, int] | None = None) -> IndexSnapshot:
        """A snapshot of ``entries`` built from scratch: sentence rows from ``id_base`` (the FAISS ids that
        ``faiss_index`` holds them under) or numbered in order, passages numbered in order."""
        placed: dict[str, DocEntry] = {}
        next_row = 0
        for doc_id, e in entries.items():
            first = next_row if id_base is None else int(id_base[doc_id])
            placed[doc_id] = dataclasses.replace(e, first_sentence=first, first_passage=-1)
            next_row = max(next_row, first + len(e.sentences))
        tables = Tables(Lexicon({}), Postings())
        tables.spans = [None] * next_row
        tables.terms = [[]] * next_row  # gaps share one empty list; rows are replaced, never mutated
        tables.sentence_passages = [()] * next_row
        alive = np.zeros(next_row, bool)
        sdf: Counter[str] = Counter()
        pdf: Counter[str] = Counter()
        counted, total = [], 0
        for doc_id, e in placed.items():
            s0, p0 = e.first_sentence, len(tables.chunks)
            alive[s0 : s0 + len(e.sentences)] = True
            for i, span in enumerate(e.sentences):
                tables.spans[s0 + i] = span
                tables.terms[s0 + i] = ts = terms(span.text)
                sdf.update(set(ts))
            title = terms(e.doc.title)
            placed[doc_id] = dataclasses.replace(e, first_passage=p0, terms=frozenset(
                term for ts in tables.terms[s0 : s0 + len(e.sentences)] for term in ts).union(title))
            for c, chunk in enumerate(e.chunks):
                rows = range(s0 + chunk.first_sentence, s0 + chunk.last_sentence + 1)
                for sid in rows:
                    tables.sentence_passages[sid] += (p0 + c,)
                tables.chunks.append(chunk)
                tables.passage_sentences.append(rows)
                tables.passage_titles.append(title)
                counts, length = passage_counts(tables.passage_terms(p0 + c))
                counted.append((p0 + c, counts, length))
                pdf.update(counts.keys())
                total += length
        tables.lexicon = Lexicon({t: (sdf.get(t, 0), pdf.get(t, 0)) for t in sdf.keys() | pdf.keys()})
        tables.postings = Postings.bulk(counted)
        if faiss_index is None:
            faiss_index = _faiss_of(placed.values(), dim, int(alive.sum()))
        n_pass = len(tables.chunks)
        return cls(tables, placed, dim, faiss_index, threading.Lock(), 0, alive, np.ones(n_pass, bool),
                   int(alive.sum()), n_pass, total)

    def apply(self, added: Sequence[DocEntry], removed: Sequence[str]) -> IndexSnapshot:
        """The snapshot after removing the documents ``removed`` names and adding ``added`` (a replaced document is
        in both), updating the shared rows, frequencies and FAISS index by the change only."""
        t, version = self.tables, self.version + 1
        # The one O(documents) step: a pointer copy. ``copy()`` clones the table (1.2 ms at 100k documents); ``dict()``
        # re-inserts every key once the dict has had a deletion (5.8 ms). See index/STORAGE.md.
        entries = self.entries.copy()
        changes: dict[str, list[int]] = {}
        n_sent, n_pass, total = self.n_sentences, self.n_passages, self.total_length
        dead_s: list[range] = []
        dead_p: list[range] = []
        for doc_id in removed:
            e = entries.pop(doc_id)
            s_rows = range(e.first_sentence, e.first_sentence + len(e.sentences))
            p_rows = range(e.first_passage, e.first_passage + len(e.chunks))
            for sid in s_rows:
                for term in set(t.terms[sid]):
                    changes.setdefault(term, [0, 0])[0] -= 1
            for pid in p_rows:
                counts, length = passage_counts(t.passage_terms(pid))
                for term in counts:
                    changes.setdefault(term, [0, 0])[1] -= 1
                total -= length
            n_sent, n_pass = n_sent - len(s_rows), n_pass - len(p_rows)
            dead_s.append(s_rows)
            dead_p.append(p_rows)
        new_entries = []
        for e in added:
            placed, added_length = self._append_rows(e, changes)
            entries[e.doc.doc_id] = placed
            new_entries.append(placed)
            n_sent, n_pass = n_sent + len(e.sentences), n_pass + len(e.chunks)
            total += added_length
        t.lexicon.record(version, {k: (v[0], v[1]) for k, v in changes.items()})
        s_alive, p_alive = _grow(self.sentence_alive, len(t.spans), dead_s), _grow(self.passage_alive,
                                                                                   len(t.chunks), dead_p)
        index, lock = self._update_faiss(entries, dead_s, new_entries, n_sent)
        return IndexSnapshot(t, entries, self.dim, index, lock, version, s_alive, p_alive, n_sent, n_pass, total)

    def _append_rows(self, e: DocEntry, changes: dict[str, list[int]]) -> tuple[DocEntry, int]:
        """Append ``e``'s sentence and passage rows; its placed entry and its passages' summed BM25 length."""
        t = self.tables
        total = 0
        s0, p0 = len(t.spans), len(t.chunks)
        sent_terms = [terms(s.text) for s in e.sentences]
        for ts in sent_terms:
            for term in set(ts):
                changes.setdefault(term, [0, 0])[0] += 1
        owners: list[tuple[int, ...]] = [()] * len(e.sentences)
        for c, chunk in enumerate(e.chunks):
            for i in range(chunk.first_sentence, chunk.last_sentence + 1):
                owners[i] += (p0 + c,)
        t.terms.extend(sent_terms)
        t.sentence_passages.extend(owners)
        t.spans.extend(e.sentences)
        title = terms(e.doc.title)
        for c, chunk in enumerate(e.chunks):
            rows = range(s0 + chunk.first_sentence, s0 + chunk.last_sentence + 1)
            t.passage_sentences.append(rows)
            t.passage_titles.append(title)
            t.chunks.append(chunk)
            counts, length = passage_counts(t.passage_terms(p0 + c))
            t.postings.add(p0 + c, counts, length)
            total += length
            for term in counts:
                changes.setdefault(term, [0, 0])[1] += 1
        return dataclasses.replace(e, first_sentence=s0, first_passage=p0,
                                   terms=frozenset(term for ts in sent_terms for term in ts).union(title)), total

    def _update_faiss(self, entries: dict[str, DocEntry], dead: list[range], added: list[DocEntry],
                      n_sent: int) -> tuple[faiss.Index, threading.Lock]:
        """Forget the dead rows' vectors and add the new ones in place (see ``forget``); a new index only when the
        collection crosses into another index family (Flat <-> IVF)."""
        if not reusable(self.faiss_index, n_sent):
            return _faiss_of(entries.values(), self.dim, n_sent), threading.Lock()
        index = self.faiss_index
        with self.faiss_lock, one_thread():
            gone = [np.arange(r.start, r.stop, dtype=np.int64) for r in dead if len(r)]
            if gone:
                forget(index, np.concatenate(gone))
            vecs = [e.vectors for e in added if len(e.sentences)]
            if vecs:
                ids = np.concatenate([np.arange(e.first_sentence, e.first_sentence + len(e.sentences),
                                                dtype=np.int64) for e in added if len(e.sentences)])
                index.add_with_ids(np.ascontiguousarray(np.vstack(vecs), dtype=np.float32), ids)
        return index, self.faiss_lock

    # ---- reading -------------------------------------------------------------------------------------------
    @property
    def next_id(self) -> int:
        """Rows (= FAISS ids) used so far in this build, live or not."""
        return len(self.sentence_alive)

    @property
    def passage_slots(self) -> int:
        """Length of a per-passage score array: passage rows of this snapshot, live or not."""
        return len(self.passage_alive)

    @cached_property
    def live_passages(self) -> np.ndarray | None:
        """Row numbers of the live passages, or None when every row is live."""
        return None if self.n_passages == len(self.passage_alive) else np.flatnonzero(self.passage_alive)

    @cached_property
    def copies(self) -> dict[str, tuple[str, ...]]:
        """Each article that others duplicate (``Document.duplicate_of``), with the ids of its live copies."""
        out: dict[str, list[str]] = {}
        for doc_id, e in self.entries.items():
            root = e.doc.duplicate_of
            if root is not None and root in self.entries:
                out.setdefault(root, []).append(doc_id)
        return {root: tuple(ids) for root, ids in out.items()}

    def original(self, doc_id: str) -> str:
        """The article ``doc_id`` is a copy of when that one is indexed, else ``doc_id`` itself."""
        root = self.entries[doc_id].doc.duplicate_of
        return root if root is not None and root in self.entries else doc_id

    def sentence_row(self, doc_id: str, index: int) -> int:
        return self.entries[doc_id].first_sentence + index

    @property
    def id_base(self) -> IdBase:
        return IdBase(self.entries)

    @cached_property
    def sentence_vectors(self) -> SentenceVectors:
        return SentenceVectors(self)

    @cached_property
    def idf(self) -> Idf:
        return Idf(self.tables.lexicon, self.version, self.n_sentences)

    @cached_property
    def vocab(self) -> Vocabulary:
        return Vocabulary(self.tables.lexicon, self.version)

    def default_idf(self) -> float:
        """IDF of a term never seen in the collection."""
        return math.log(1 + (self.n_sentences + 0.5) / 0.5)

    def bm25_scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 of every passage row for the question's terms (dead rows score 0)."""
        lexicon, version = self.tables.lexicon, self.version
        return bm25_scores(query_terms, self.tables.postings, lambda term: lexicon.df(term, version)[1],
                           self.passage_alive, self.n_passages, self.total_length)

    def terms_of_document(self, doc_id: str) -> frozenset[str]:
        """Every term of the document's sentences (gathered once, when the document was placed)."""
        e = self.entries.get(doc_id)
        return e.terms if e is not None else frozenset()

    def search_vectors(self, qvecs: np.ndarray, k: int,
                       selector: faiss.IDSelector | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, sentence rows) per question; -1 marks a slot without a sentence of this snapshot.
        With ``selector`` (see ``id_selector``) only the vectors it selects are searched."""
        qvecs = np.ascontiguousarray(np.asarray(qvecs), dtype=np.float32)
        with self.faiss_lock:
            if self.faiss_index.ntotal == 0:
                return np.zeros((len(qvecs), 0), np.float32), np.zeros((len(qvecs), 0), np.int64)
            with one_thread():
                params = None if selector is None else search_params(self.faiss_index, selector)
                scores, ids = self.faiss_index.search(qvecs, min(k, self.faiss_index.ntotal), params=params)
        return scores, self.sentences_of_ids(ids)

    def sentences_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """This snapshot's sentence row for each FAISS id (the same number); -1 for ids of no live sentence here
        (added by a later write, removed, or never used)."""
        ids = np.asarray(ids, np.int64)
        inside = (ids >= 0) & (ids < len(self.sentence_alive))
        live = np.zeros(ids.shape, bool)
        live[inside] = self.sentence_alive[ids[inside]]
        return np.where(live, ids, -1)

    def document(self, doc_id: str) -> Document | None:
        entry = self.entries.get(doc_id)
        return entry.doc if entry else None

    # ---- the storage interface (index.backend.ReadView) ----------------------------------------------------
    @cached_property
    def _selections(self) -> Any:
        from index.embedded_search import Selections

        return Selections(self)

    def selection(self, filters: Any) -> Any:
        """What ``filters`` leave of this snapshot (index.embedded_search.Selection), computed once."""
        return self._selections.get(filters)

    def passage_scores(self, qvecs: np.ndarray, question_terms: Sequence[Sequence[str]],
                       filters: Sequence[Any]) -> list[Any]:
        from index.embedded_search import passage_scores

        return passage_scores(self, qvecs, question_terms, filters)

    def count_passages(self, filters: Any) -> int:
        ids = None if filters is None else self.selection(filters).passage_ids
        return self.n_passages if ids is None else len(ids)

    def resolve(self, passage_ids: Any) -> None:
        """Every row of a snapshot is in memory: nothing to fetch."""


def _grow(alive: np.ndarray, size: int, dead: list[range]) -> np.ndarray:
    """A copy of the live mask extended to ``size`` rows (new rows live) with the ``dead`` rows cleared: a byte per
    row copied, the only per-row work of a write (0.05 ms per 200k rows)."""
    out = np.ones(size, bool)
    out[: len(alive)] = alive
    for r in dead:
        out[r.start : r.stop] = False
    return out


def _faiss_of(entries: Any, dim: int, n_live: int) -> faiss.Index:
    """A new FAISS index of the family for ``n_live`` vectors holding every entry's vectors under its rows."""
    placed = [e for e in entries if len(e.sentences)]
    vectors = (np.ascontiguousarray(np.vstack([e.vectors for e in placed]), dtype=np.float32) if placed
               else np.zeros((0, dim), np.float32))
    ids = (np.concatenate([np.arange(e.first_sentence, e.first_sentence + len(e.sentences), dtype=np.int64)
                           for e in placed]) if placed else np.zeros(0, np.int64))
    return build_faiss(vectors, faiss_spec(n_live), ids=ids)
