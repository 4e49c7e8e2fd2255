"""An immutable, searchable view of the index: sentence vectors in FAISS, passages in BM25."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field

import faiss
import numpy as np

from index.bm25 import DocPostings, PassageBM25
from index.documents import Chunk, Document, Span
from index.text import terms

EXACT_SEARCH_LIMIT = 200_000  # below this many vectors search is exact (Flat); above, IVF (see eval/scale.py)
IVF_NPROBE = 32  # lists searched per query: recall@10 >= 0.95 at 1M vectors in eval/reports/scale


@dataclass(frozen=True, slots=True)
class DocEntry:
    """One indexed document with its sentences, passages and sentence vectors."""

    doc: Document
    sha256: str
    sentences: tuple[Span, ...]
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray


def faiss_spec(n_vectors: int) -> str:
    """Index factory string chosen by collection size: exact search, or an inverted file above the limit.

    IVF rather than HNSW because it builds in about a minute at 1M vectors on two cores, and it supports
    ``add_with_ids``/``remove_ids``, so documents can be added and removed without rebuilding.
    """
    if n_vectors < EXACT_SEARCH_LIMIT:
        return "IDMap2,Flat"
    nlist = 1 << max(8, min(14, round(math.log2(math.sqrt(n_vectors)))))
    return f"IVF{nlist},SQ8"  # 8-bit codes: a quarter of the memory, recall@10 still >= 0.95 (eval/scale.py)


def build_faiss(vectors: np.ndarray, spec: str, train: np.ndarray | None = None,
                ids: np.ndarray | None = None) -> faiss.Index:
    """A FAISS index of ``spec`` holding ``vectors`` under ``ids`` (default 0..n-1); IVF is trained on ``train``."""
    index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(vectors if train is None else train)
    set_search_params(index, nprobe=IVF_NPROBE)
    if len(vectors):
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64) if ids is None else ids)
    return index


def supports_ids(index: faiss.Index | None) -> bool:
    """Whether vectors can be added and removed by id in place (IDMap2 or IVF)."""
    return index is not None and (isinstance(index, faiss.IndexIDMap2) or faiss.try_extract_index_ivf(index)
                                  is not None)


def id_selector(ids: np.ndarray) -> faiss.IDSelector:
    """A selector for ``search_vectors`` that restricts the search to the vectors stored under ``ids``.

    A bitmap, one bit per id up to the largest: a million ids cost 125 kB and a constant-time test each (a hash set,
    IDSelectorBatch, would take tens of bytes per id)."""
    ids = np.asarray(ids, dtype=np.int64)
    mask = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=bool)
    mask[ids] = True
    bitmap = np.packbits(mask, bitorder="little")
    return faiss.IDSelectorBitmap(bitmap)  # type: ignore[call-arg, arg-type]  # the wrapper takes and keeps the array


def _search_params(index: faiss.Index, selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Search parameters carrying ``selector``; an IVF index needs its own kind, with its nprobe restated (the
    parameters' nprobe, default 1, would otherwise replace the index's)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        params = faiss.SearchParameters()
    else:
        params = faiss.SearchParametersIVF()
        params.nprobe = ivf.nprobe
    params.sel = selector  # the caller keeps the selector alive during the search (SWIG holds no reference)
    return params


def set_search_params(index: faiss.Index, nprobe: int = IVF_NPROBE) -> None:
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = nprobe


def _reusable(index: faiss.Index | None, n_vectors: int) -> bool:
    """Whether an index can be updated in place for a collection of ``n_vectors`` (same family, takes ids)."""
    is_ivf = index is not None and faiss.try_extract_index_ivf(index) is not None
    return supports_ids(index) and is_ivf == faiss_spec(n_vectors).startswith("IVF")


def spec_of(index: faiss.Index | None) -> str:
    """The factory spec an existing index corresponds to (for the manifest)."""
    ivf = faiss.try_extract_index_ivf(index) if index is not None else None
    if ivf is None:
        return "IDMap2,Flat" if isinstance(index, faiss.IndexIDMap2) else "Flat"
    codes = "SQ8" if isinstance(faiss.downcast_index(ivf), faiss.IndexIVFScalarQuantizer) else "Flat"
    return f"IVF{ivf.nlist},{codes}"


@dataclass
class IndexSnapshot:
    """Flat arrays over all documents, rebuilt whenever the set of documents changes."""

    entries: dict[str, DocEntry]
    dim: int
    faiss_index: faiss.Index | None = None
    sentences: list[Span] = field(default_factory=list)
    passages: list[Chunk] = field(default_factory=list)
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), np.float32))
    sentence_passages: list[tuple[int, ...]] = field(default_factory=list)
    passage_sentences: list[range] = field(default_factory=list)
    sentence_terms: list[list[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    doc_terms: dict[str, frozenset[str]] = field(default_factory=dict)
    vocab_sorted: list[str] = field(default_factory=list)
    bm25: PassageBM25 | None = None
    # per-document term counts (sentence document frequencies, BM25 postings) that the next snapshot reuses
    doc_df: dict[str, Counter[str]] = field(default_factory=dict)
    doc_postings: dict[str, DocPostings] = field(default_factory=dict)
    # FAISS ids are stable per document (a contiguous block from ``id_base``), so one document's vectors can be
    # added or removed in place. A FAISS id maps to this snapshot's sentence number through the blocks, sorted by
    # first id (ids are never reused, so a dense id -> sentence array would grow with every write ever made).
    id_base: dict[str, int] = field(default_factory=dict)
    block_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # first FAISS id of a block
    block_len: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    block_first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # its first sentence number
    next_id: int = 0
    # Successive snapshots share one FAISS index that updates mutate in place: search and mutation take this lock.
    faiss_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, entries: dict[str, DocEntry], dim: int, faiss_index: faiss.Index | None = None,
              id_base: dict[str, int] | None = None, previous: IndexSnapshot | None = None) -> IndexSnapshot:
        """A snapshot of ``entries``: with ``faiss_index`` (loaded from disk, ids from ``id_base``) as given; with a
        ``previous`` snapshot whose index takes ids, by removing and adding only the documents that changed."""
        snap = cls(dict(sorted(entries.items())), dim)
        snap._flatten()
        snap._build_lexical(previous)
        vectors = snap.sentence_vectors
        if faiss_index is not None:
            snap._assign_ids(id_base or snap._sequential_bases(), 0)
            snap.faiss_index = faiss_index
        elif previous is not None and _reusable(previous.faiss_index, len(vectors)):
            snap._update_from(previous)
        else:
            snap._assign_ids(snap._sequential_bases(), 0)
            # a fresh build numbers sentences in order, so each document's block starts at its first sentence
            ids = np.arange(len(vectors), dtype=np.int64)
            snap.faiss_index = build_faiss(vectors, faiss_spec(len(vectors)), ids=ids)
        return snap

    def _sequential_bases(self) -> dict[str, int]:
        bases, pos = {}, 0
        for doc_id, entry in self.entries.items():
            bases[doc_id] = pos
            pos += len(entry.sentences)
        return bases

    def _assign_ids(self, bases: dict[str, int], next_id: int) -> None:
        """Record each document's id block, and the blocks sorted by first id for the id -> sentence map."""
        self.id_base = {d: bases[d] for d in self.entries}
        starts, lens, firsts, pos = [], [], [], 0
        for base, entry in zip(self.id_base.values(), self.entries.values(), strict=True):
            n = len(entry.sentences)
            if n:  # an empty block may share its first id with the next one; it maps no id
                starts.append(base)
                lens.append(n)
                firsts.append(pos)
            pos += n
        order = np.argsort(np.asarray(starts, np.int64), kind="stable")
        self.block_start = np.asarray(starts, np.int64)[order]
        self.block_len = np.asarray(lens, np.int64)[order]
        self.block_first = np.asarray(firsts, np.int64)[order]
        self.next_id = max([next_id, *(int(b) + int(n) for b, n in zip(starts, lens, strict=True))])

    def _update_from(self, previous: IndexSnapshot) -> None:
        """Share ``previous``'s FAISS index: remove the vectors of dropped or changed documents, add the new ones."""
        kept = {d: previous.id_base[d] for d, e in self.entries.items()
                if previous.entries.get(d) is e and d in previous.id_base}
        gone = [np.arange(b, b + len(previous.entries[d].sentences)) for d, b in previous.id_base.items()
                if d not in kept]
        bases, next_id, new_vecs, new_ids = dict(kept), previous.next_id, [], []
        for doc_id, entry in self.entries.items():
            if doc_id not in kept:
                bases[doc_id] = next_id
                new_vecs.append(entry.vectors)
                new_ids.append(np.arange(next_id, next_id + len(entry.sentences), dtype=np.int64))
                next_id += len(entry.sentences)
        self._assign_ids(bases, next_id)
        index = previous.faiss_index
        assert index is not None
        self.faiss_index, self.faiss_lock = index, previous.faiss_lock
        with self.faiss_lock:
            if gone:
                index.remove_ids(np.concatenate(gone).astype(np.int64))  # type: ignore[arg-type]  # wrapper takes ids
            if new_vecs and sum(len(v) for v in new_vecs):
                index.add_with_ids(np.ascontiguousarray(np.vstack(new_vecs), dtype=np.float32), np.concatenate(new_ids))

    def undo_update(self, previous: IndexSnapshot) -> None:
        """Revert what building this snapshot from ``previous`` did to their shared FAISS index (a write that could
        not be saved): remove the vectors it added, put back the ones it removed, under their old ids."""
        index = self.faiss_index
        if index is None or index is not previous.faiss_index:
            return  # built its own index: ``previous``'s was never touched
        added = [np.arange(b, b + len(self.entries[d].sentences), dtype=np.int64) for d, b in self.id_base.items()
                 if previous.id_base.get(d) != b or previous.entries.get(d) is not self.entries[d]]
        restored = [(b, previous.entries[d].vectors) for d, b in previous.id_base.items()
                    if self.id_base.get(d) != b or self.entries.get(d) is not previous.entries[d]]
        with self.faiss_lock:
            if added:
                index.remove_ids(np.concatenate(added))  # type: ignore[arg-type]  # wrapper takes ids
            vecs = [v for _, v in restored if len(v)]
            if vecs:
                ids = np.concatenate([np.arange(b, b + len(v), dtype=np.int64) for b, v in restored if len(v)])
                index.add_with_ids(np.ascontiguousarray(np.vstack(vecs), dtype=np.float32), ids)

    def search_vectors(self, qvecs: np.ndarray, k: int,
                       selector: faiss.IDSelector | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, sentence numbers) per question; -1 marks a slot without a sentence of this snapshot.
        With ``selector`` (see ``id_selector``) only the vectors it selects are searched."""
        if self.faiss_index is None:
            return np.zeros((len(qvecs), 0), np.float32), np.zeros((len(qvecs), 0), np.int64)
        with self.faiss_lock:
            if self.faiss_index.ntotal == 0:
                return np.zeros((len(qvecs), 0), np.float32), np.zeros((len(qvecs), 0), np.int64)
            # One OpenMP thread: a handful of queries gains nothing from more, and on a busy machine waking the
            # team costs tens of milliseconds at p95 (measured in eval/reports/perf). The setting is per thread.
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                params = None if selector is None else _search_params(self.faiss_index, selector)
                scores, ids = self.faiss_index.search(np.ascontiguousarray(qvecs, dtype=np.float32),
                                                      min(k, self.faiss_index.ntotal), params=params)
            finally:
                faiss.omp_set_num_threads(threads)
        return scores, self.sentences_of_ids(ids)

    def sentences_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """This snapshot's sentence number for each FAISS id; -1 for ids of no current sentence."""
        if not len(self.block_start):
            return np.full(ids.shape, -1, dtype=np.int64)
        block = np.searchsorted(self.block_start, ids, side="right") - 1
        safe = np.maximum(block, 0)
        offset = ids - self.block_start[safe]
        known = (ids >= 0) & (block >= 0) & (offset < self.block_len[safe])
        return np.where(known, self.block_first[safe] + offset, -1)

    def _flatten(self) -> None:
        vec_parts = []
        for entry in self.entries.values():
            base = len(self.sentences)
            self.sentences.extend(entry.sentences)
            self.sentence_passages.extend(() for _ in entry.sentences)
            for chunk in entry.chunks:
                pid = len(self.passages)
                self.passages.append(chunk)
                sent_ids = range(base + chunk.first_sentence, base + chunk.last_sentence + 1)
                self.passage_sentences.append(sent_ids)
                for sid in sent_ids:
                    self.sentence_passages[sid] += (pid,)
            vec_parts.append(entry.vectors)
        self.sentence_vectors = (
            np.ascontiguousarray(np.vstack(vec_parts), dtype=np.float32) if vec_parts
            else np.zeros((0, self.dim), np.float32)
        )

    def _build_lexical(self, previous: IndexSnapshot | None = None) -> None:
        """Sentence terms, IDF, vocabulary and BM25; per-document work is reused for documents ``previous`` holds."""
        self.sentence_terms = self._sentence_terms(previous)
        kept = {d for d, e in self.entries.items()
                if previous is not None and previous.entries.get(d) is e and d in previous.doc_postings}
        pos, pid = 0, 0
        for doc_id, entry in self.entries.items():
            n = len(entry.sentences)
            doc_terms = self.sentence_terms[pos : pos + n]
            if doc_id in kept and previous is not None:
                self.doc_df[doc_id] = previous.doc_df[doc_id]
                self.doc_postings[doc_id] = previous.doc_postings[doc_id]
                self.doc_terms[doc_id] = previous.doc_terms[doc_id]
            else:
                self.doc_df[doc_id] = Counter(t for ts in doc_terms for t in set(ts))
                self.doc_postings[doc_id] = DocPostings.of(
                    [[t for sid in self.passage_sentences[pid + c] for t in self.sentence_terms[sid]]
                     for c in range(len(entry.chunks))])
                self.doc_terms[doc_id] = frozenset(self.doc_df[doc_id])
            pos, pid = pos + n, pid + len(entry.chunks)
        df: Counter[str] = Counter()
        for counts in self.doc_df.values():
            df.update(counts)
        n_sent = max(1, len(self.sentences))
        logs = {c: math.log(1 + (n_sent - c + 0.5) / (c + 0.5)) for c in set(df.values())}
        self.idf = {t: logs[c] for t, c in df.items()}
        self.vocab_sorted = sorted(self.idf)
        if self.passages:
            self.bm25 = PassageBM25(list(self.doc_postings.values()))

    def _sentence_terms(self, previous: IndexSnapshot | None) -> list[list[str]]:
        """Terms of every sentence, reusing ``previous``'s for documents it already holds unchanged."""
        reuse: dict[str, list[list[str]]] = {}
        pos = 0
        for doc_id, entry in (previous.entries.items() if previous is not None else ()):
            n = len(entry.sentences)
            if self.entries.get(doc_id) is entry and previous is not None:
                reuse[doc_id] = previous.sentence_terms[pos : pos + n]
            pos += n
        out: list[list[str]] = []
        for doc_id, entry in self.entries.items():
            out.extend(reuse[doc_id] if doc_id in reuse else (terms(s.text) for s in entry.sentences))
        return out

    def default_idf(self) -> float:
        """IDF of a term never seen in the collection."""
        return math.log(1 + (len(self.sentences) + 0.5) / 0.5)

    def document(self, doc_id: str) -> Document | None:
        entry = self.entries.get(doc_id)
        return entry.doc if entry else None
