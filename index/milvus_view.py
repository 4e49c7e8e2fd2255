"""One request's view of the Milvus backend (index.backend.ReadView): searches in the engine, then reads only the
documents of the passages it ranked, numbering their sentences and passages with its own row ids.

A row answers only when its version is its document's head version: rows of an unfinished or replaced write (between
the upsert of a new version and the deletion of the old one, or left by a crash) are never ranked or read.

Every view reads the heads afresh (Strong consistency), but a document version's text, sentences and terms never
change (its key names its content and layout), so the store keeps the recently read ones (``EntryCache``) and a view
reads from Milvus only the versions it does not hold.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from index.backend import DocFilter, PassageScores
from index.chunking import split_today
from index.documents import Chunk, Document, Span
from index.errors import IndexMismatchError
from index.milvus_schema import OR_TERMS, doc_hash, filter_expr, quote, version_exprs
from index.records import spans_of
from index.text import terms

DENSE_CANDIDATES = 200  # sentences per question, as the embedded backend
LEXICAL_CANDIDATES = 200  # passages per question by BM25 (the embedded backend scores every passage)
TERMS_LIMIT = 16_384  # frequency rows read per term: more documents than this hold only very common terms
CACHE_CHARS = 16_000_000  # text kept in the EntryCache (with its sentences and terms: about 100 MB)


@dataclass(frozen=True, slots=True)
class Entry:
    """A document as read back: metadata, exact text, and its sentences and passages as stored."""

    doc: Document
    sha256: str
    version: str
    sentences: tuple[Span, ...]
    chunks: tuple[Chunk, ...]


class EntryCache:
    """Recently read document versions by (doc_id, version), least recently used dropped first, with the terms of
    their sentences; shared by the views of one store (their threads). A version names a document's content and
    layout, so a cached one is never stale."""

    def __init__(self, max_chars: int = CACHE_CHARS) -> None:
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], tuple[Entry, frozenset[str] | None]] = OrderedDict()
        self._chars = 0

    def get(self, doc_id: str, version: str) -> Entry | None:
        with self._lock:
            item = self._items.get((doc_id, version))
            if item is None:
                return None
            self._items.move_to_end((doc_id, version))
            return item[0]

    def put(self, entry: Entry) -> None:
        key = (entry.doc.doc_id, entry.version)
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (entry, None)
            self._chars += len(entry.doc.text)
            while self._chars > self.max_chars and len(self._items) > 1:
                _, (old, _) = self._items.popitem(last=False)
                self._chars -= len(old.doc.text)

    def terms(self, entry: Entry) -> frozenset[str]:
        """The terms of the entry's sentences (computed once per cached version)."""
        key = (entry.doc.doc_id, entry.version)
        with self._lock:
            item = self._items.get(key)
        if item is not None and item[1] is not None:
            return item[1]
        found = frozenset(t for s in entry.sentences for t in terms(s.text)).union(terms(entry.doc.title))
        with self._lock:
            if key in self._items:
                self._items[key] = (self._items[key][0], found)
        return found


class _Rows(Sequence[Any]):
    """Rows by the view's own numbers; iteration (``every``) covers every row of the collection."""

    def __init__(self, get: Any, count: Any, every: Any = None) -> None:
        self._get, self._count, self._every = get, count, every

    def __getitem__(self, row: Any) -> Any:
        return self._get(row)

    def __len__(self) -> int:
        return self._count()

    def __iter__(self) -> Iterator[Any]:
        if self._every is None:
            return (self._get(i) for i in range(self._count()))
        return self._every()


class _Entries(Mapping[str, Entry]):
    """doc_id -> Entry, read on first use; iteration and length cover every document of the collection."""

    def __init__(self, view: MilvusView) -> None:
        self._view = view

    def __getitem__(self, doc_id: str) -> Entry:
        found = self._view.load([doc_id]).get(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found

    def __iter__(self) -> Iterator[str]:
        return (row["doc_id"] for row in self._view.store.iter_heads(("doc_id",)))

    def __len__(self) -> int:
        return self._view.store.count("heads")

    def values(self) -> Any:  # pages of documents, each page read in two queries
        ids = list(self)
        for i in range(0, len(ids), 100):
            loaded = self._view.load(ids[i:i + 100])
            yield from (loaded[d] for d in ids[i:i + 100] if d in loaded)


class MilvusView:
    def __init__(self, store: Any) -> None:
        self.store = store
        self._heads: dict[str, dict | None] = {}
        self._entries: dict[str, Entry] = {}
        self._passage_keys: list[tuple[str, int]] = []
        self._passage_ids: dict[tuple[str, int], int] = {}
        self._sentence_keys: list[tuple[str, int]] = []
        self._sentence_ids: dict[tuple[str, int], int] = {}
        self._vectors: dict[tuple[str, int], np.ndarray] = {}
        self._df: dict[str, int] = {}
        self._held: set[str] = set()  # terms with a row at all: a headline's word counts no sentence but is held
        self._counts: dict[Any, int] = {}
        self.entries = _Entries(self)
        self.passages = _Rows(self._passage, lambda: self.n_passages,
                              lambda: (c for e in self.entries.values() for c in e.chunks))
        self.sentences = _Rows(self._sentence, lambda: self.n_sentences,
                               lambda: (s for e in self.entries.values() for s in e.sentences))
        self.passage_sentences = _Rows(self._passage_sentences, lambda: len(self._passage_keys))
        self.sentence_terms = _Rows(lambda sid: terms(self._sentence(sid).text), lambda: len(self._sentence_keys))
        self.sentence_vectors = _Rows(self._sentence_vectors, lambda: len(self._sentence_keys))

    # ---- counts --------------------------------------------------------------------------------------------
    @cached_property
    def n_passages(self) -> int:
        return self.count_passages(None)

    @cached_property
    def n_sentences(self) -> int:
        return self.store.count("sentences")

    def count_passages(self, filters: DocFilter | None) -> int:
        if filters not in self._counts:
            self._counts[filters] = self.store.count("passages", filter_expr(filters))
        return self._counts[filters]

    # ---- searching -----------------------------------------------------------------------------------------
    def passage_scores(self, qvecs: np.ndarray, question_terms: Sequence[Sequence[str]],
                       filters: Sequence[DocFilter | None]) -> list[PassageScores | None]:
        """Dense: the best ``DENSE_CANDIDATES`` sentences, each scoring its passages by cosine (a passage keeps its
        best); lexical: the best ``LEXICAL_CANDIDATES`` passages by BM25; both filtered inside the engine. The
        questions with the same filters share one dense and one lexical search call; the two run at once, while this
        thread reads the question terms' frequencies (which the reader asks for next); then one query reads the
        heads of every document found."""
        allowed = [self.count_passages(f) for f in filters]
        groups: dict[str, list[int]] = {}
        for i, f in enumerate(filters):
            if allowed[i]:
                groups.setdefault(filter_expr(f), []).append(i)
        pool = self.store.search_pool
        found_dense: dict[int, list[dict]] = {}
        found_lexical: dict[int, list[dict]] = {}
        searches: list[tuple[dict[int, list[dict]], list[int], Future[list[list[dict]]]]] = []
        for expr, rows in groups.items():
            searches.append((found_dense, rows, pool.submit(
                self._search, "sentences", [qvecs[i].astype(np.float32).tolist() for i in rows], "vector", "IP",
                DENSE_CANDIDATES, expr, ["doc_id", "version", "p_first", "p_last"])))
            worded = [i for i in rows if question_terms[i]]
            if worded:
                searches.append((found_lexical, worded, pool.submit(
                    self._search, "passages", [" ".join(question_terms[i]) for i in worded], "sparse", "BM25",
                    LEXICAL_CANDIDATES, expr, ["doc_id", "version", "idx"])))
        self.sentence_df([t for ts in question_terms for t in ts])
        for found, rows, future in searches:
            found.update(zip(rows, future.result(), strict=True))
        self._read_heads({h["entity"]["doc_id"] for hits in (*found_dense.values(), *found_lexical.values())
                          for h in hits})
        out: list[PassageScores | None] = []
        for i, f in enumerate(filters):
            if allowed[i] == 0:
                out.append(None if f is not None else PassageScores(np.zeros(0, np.int64), np.zeros(0, np.float32),
                                                                    np.zeros(0, np.float32)))
                continue
            dense_hits, lexical_hits = found_dense.get(i, []), found_lexical.get(i, [])
            dense: dict[tuple[str, int], float] = {}
            for h in dense_hits:
                e = h["entity"]
                if self._current(e):
                    for c in range(e["p_first"], e["p_last"] + 1):
                        key = (e["doc_id"], c)
                        dense[key] = max(dense.get(key, 0.0), float(h["distance"]))
            bm25 = {(h["entity"]["doc_id"], h["entity"]["idx"]): float(h["distance"])
                    for h in lexical_hits if self._current(h["entity"])}
            keys = sorted({*dense, *bm25})  # equal scores rank by (doc_id, passage): the same order every time
            ids = np.array([self._passage_id(k) for k in keys], np.int64)
            out.append(PassageScores(ids, np.array([dense.get(k, 0.0) for k in keys], np.float32),
                                     np.array([bm25.get(k, 0.0) for k in keys], np.float32), allowed[i] > len(keys)))
        return out

    def _search(self, collection: str, data: list, field: str, metric: str, limit: int, expr: str,
                fields: list[str]) -> list[list[dict]]:
        """The hits of each query in ``data``."""
        from pymilvus import MilvusException

        from index.errors import StorageError

        try:
            found = self.store.client.search(self.store.name(collection), data=data, anns_field=field, limit=limit,
                                             filter=expr, output_fields=fields, consistency_level="Strong",
                                             search_params={"metric_type": metric})
        except MilvusException as exc:
            raise StorageError(f"searching Milvus at {self.store.uri} failed ({' '.join(str(exc).split())[:160]})") \
                from None
        return [list(hits) for hits in found] if found else [[] for _ in data]

    def _current(self, row: dict) -> bool:
        head = self._heads.get(row["doc_id"])
        return head is not None and head["version"] == row["version"]

    def _read_heads(self, doc_ids: Iterable[str]) -> None:
        missing = [d for d in doc_ids if d not in self._heads]
        if missing:
            found = self.store.heads(missing)
            self._heads.update((d, found.get(d)) for d in missing)

    def resolve(self, passage_ids: Iterable[int]) -> None:
        self.load({self._passage_keys[p][0] for p in passage_ids})

    # ---- documents -----------------------------------------------------------------------------------------
    def load(self, doc_ids: Iterable[str]) -> dict[str, Entry]:
        """The entries of ``doc_ids`` that exist (their text read in one query)."""
        wanted = list(dict.fromkeys(doc_ids))
        self._read_heads(wanted)
        missing = [d for d in wanted if d not in self._entries and self._heads.get(d) is not None]
        cache = self.store.entry_cache
        for d in list(missing):
            cached = cache.get(d, self._heads[d]["version"])  # type: ignore[index]
            if cached is not None:
                self._entries[d] = cached
                missing.remove(d)
        if missing:
            heads: dict[str, dict] = {d: self._heads[d] for d in missing}  # type: ignore[misc]
            parts = self.parts(heads)
            for d, head in heads.items():
                self._entries[d] = self._entry(head, parts.get(d, []))
                cache.put(self._entries[d])
        return {d: self._entries[d] for d in wanted if d in self._entries}

    def parts(self, heads: Mapping[str, dict]) -> dict[str, list[tuple[int, str]]]:
        """The ``documents`` rows of each head's version, as (part, text), by document id."""
        parts: dict[str, list[tuple[int, str]]] = {}
        pairs = [(d, h["version"]) for d, h in heads.items()]
        for lo, expr in zip(range(0, len(pairs), OR_TERMS), version_exprs(pairs, "=="), strict=True):
            limit = sum(_parts(json.loads(heads[d]["meta"])) for d, _ in pairs[lo:lo + OR_TERMS])
            for row in self.store.query("documents", expr, ["doc_id", "part", "text"], limit=limit):
                parts.setdefault(row["doc_id"], []).append((row["part"], row["text"]))
        return parts

    def _entry(self, head: dict, parts: list[tuple[int, str]]) -> Entry:
        doc, stored = stored_document(head, parts)
        if stored is not None:
            sentences, chunks = spans_of(doc.doc_id, doc.text, stored)
        else:  # written before its layout was stored: split again, and it must split as it was written
            split, passages, digest = split_today(doc, self.store.params)
            sentences, chunks = tuple(split), tuple(passages)
            if digest != json.loads(head["meta"])["spans"]:
                raise IndexMismatchError(
                    f"document {doc.doc_id!r} in Milvus was split into sentences by an earlier version, which did not "
                    "store how; `qa index --resplit` splits every such document again from its stored text")
        return Entry(doc, head["sha256"], head["version"], sentences, chunks)

    def document(self, doc_id: str) -> Document | None:
        entry = self.load([doc_id]).get(doc_id)
        return entry.doc if entry else None

    # ---- duplicates: not detected on Milvus (docs/ingestion.md), so no document is read as another's copy ----
    @property
    def copies(self) -> Mapping[str, Sequence[str]]:
        return {}

    def original(self, doc_id: str) -> str:
        return doc_id

    def sentence_row(self, doc_id: str, index: int) -> int:
        return self._sentence_id((doc_id, index))

    # ---- rows ----------------------------------------------------------------------------------------------
    def _passage_id(self, key: tuple[str, int]) -> int:
        pid = self._passage_ids.get(key)
        if pid is None:
            pid = self._passage_ids[key] = len(self._passage_keys)
            self._passage_keys.append(key)
        return pid

    def _sentence_id(self, key: tuple[str, int]) -> int:
        sid = self._sentence_ids.get(key)
        if sid is None:
            sid = self._sentence_ids[key] = len(self._sentence_keys)
            self._sentence_keys.append(key)
        return sid

    def _passage(self, pid: int) -> Chunk:
        doc_id, c = self._passage_keys[pid]
        return self.entries[doc_id].chunks[c]

    def _passage_sentences(self, pid: int) -> list[int]:
        chunk = self._passage(pid)
        return [self._sentence_id((chunk.doc_id, i)) for i in range(chunk.first_sentence, chunk.last_sentence + 1)]

    def _sentence(self, sid: int) -> Span:
        doc_id, i = self._sentence_keys[sid]
        return self.entries[doc_id].sentences[i]

    def _sentence_vectors(self, rows: Any) -> np.ndarray:
        keys = [self._sentence_keys[s] for s in np.atleast_1d(np.asarray(rows)).tolist()]
        missing = [k for k in dict.fromkeys(keys) if k not in self._vectors]
        if missing:
            pks = [f"{doc_hash(d)}:{self.entries[d].version}:{i}" for d, i in missing]
            found = {r["pk"]: r["vector"] for r in self.store.query(
                "sentences", f"pk in [{', '.join(quote(p) for p in pks)}]", ["pk", "vector"], limit=len(pks))}
            for key, pk in zip(missing, pks, strict=True):
                self._vectors[key] = np.asarray(found[pk], np.float32)
        if not keys:
            return np.zeros((0, self.store.embedder.dim), np.float32)
        return np.vstack([self._vectors[k] for k in keys])

    # ---- collection statistics -----------------------------------------------------------------------------
    def sentence_df(self, words: Iterable[str]) -> dict[str, int]:
        """How many sentences of the collection hold each term (summed over the documents holding it)."""
        missing = [t for t in dict.fromkeys(words) if t not in self._df]
        if missing:
            counts = dict.fromkeys(missing, 0)
            rows = self._term_rows(missing)
            if len(rows) >= TERMS_LIMIT and len(missing) > 1:  # cut off: each term on its own, as many as it has
                rows = [row for t in missing for row in self._term_rows([t])]
            for row in rows:
                counts[row["term"]] += row["n"]
                self._held.add(row["term"])
            self._df.update(counts)
        return {t: self._df[t] for t in words}

    def holds(self, term: str) -> bool:
        """Whether some document holds ``term``, in a sentence or its headline (the same query as ``sentence_df``)."""
        self.sentence_df([term])
        return term in self._held

    def _term_rows(self, words: list[str]) -> list[dict]:
        return self.store.query("terms", f"term in [{', '.join(quote(t) for t in words)}]", ["term", "n"],
                                limit=TERMS_LIMIT)

    @cached_property
    def idf(self) -> _Idf:
        return _Idf(self)

    @cached_property
    def vocab(self) -> _Vocabulary:
        return _Vocabulary(self)

    def default_idf(self) -> float:
        return math.log(1 + (self.n_sentences + 0.5) / 0.5)

    def terms_of_document(self, doc_id: str) -> frozenset[str]:
        entry = self.load([doc_id]).get(doc_id)
        return self.store.entry_cache.terms(entry) if entry else frozenset()


class _Idf:
    """Sentence-level IDF over the collection, as ``index.lexicon.Idf``."""

    def __init__(self, view: MilvusView) -> None:
        self._view = view

    def get(self, term: str, default: float) -> float:
        c = self._view.sentence_df([term])[term]
        n = max(1, self._view.n_sentences)
        return math.log(1 + (n - c + 0.5) / (c + 0.5)) if c > 0 else default


class _Vocabulary:
    """The collection's terms, as ``index.lexicon.Vocabulary``."""

    def __init__(self, view: MilvusView) -> None:
        self._view = view

    def __contains__(self, term: object) -> bool:
        """A term some sentence holds, or a headline (its row counts no sentence)."""
        return isinstance(term, str) and self._view.holds(term)

    def has_prefix(self, prefix: str) -> bool:
        if not prefix:
            return True
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._view.store.query("terms", f"term >= {quote(prefix)} and term < {quote(after)}", ["term"], limit=1)
        return bool(rows)


def _parts(meta: dict) -> int:
    """How many ``documents`` rows a version has: its text's parts, then its layout's (none before it was stored)."""
    return int(meta["parts"]) + int(meta.get("layout_parts", 0))


def stored_document(head: dict, parts: list[tuple[int, str]]) -> tuple[Document, dict | None]:
    """A head's document from its ``documents`` rows, with its stored layout (None when written without one); every
    row of the version must be there (else IndexMismatchError: never a cut text)."""
    meta = json.loads(head["meta"])
    if len(parts) != _parts(meta):
        raise IndexMismatchError(f"document {head['doc_id']!r} in Milvus does not read back as it was written (rows "
                                 "of its text are missing); index it again")
    pieces = [t for _, t in sorted(parts)]
    n = meta["parts"]
    doc = Document.from_stored({**meta, "doc_id": head["doc_id"], "text": "".join(pieces[:n])})
    return doc, json.loads("".join(pieces[n:])) if "layout_parts" in meta else None
