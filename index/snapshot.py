"""An immutable, searchable view of the index: sentence vectors in FAISS, passages in BM25."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import bm25s
import faiss
import numpy as np

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
        return "Flat"
    nlist = 1 << max(8, min(14, round(math.log2(math.sqrt(n_vectors)))))
    return f"IVF{nlist},SQ8"  # 8-bit codes: a quarter of the memory, recall@10 still >= 0.95 (eval/scale.py)


def build_faiss(vectors: np.ndarray, spec: str, train: np.ndarray | None = None) -> faiss.Index:
    """A FAISS index of ``spec`` holding ``vectors`` (IVF is trained on ``train``, default the vectors)."""
    index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(vectors if train is None else train)
    set_search_params(index, nprobe=IVF_NPROBE)
    if len(vectors):
        index.add(vectors)
    return index


def set_search_params(index: faiss.Index, nprobe: int = IVF_NPROBE) -> None:
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = nprobe


def spec_of(index: faiss.Index | None) -> str:
    """The factory spec an existing index corresponds to (for the manifest)."""
    ivf = faiss.try_extract_index_ivf(index) if index is not None else None
    if ivf is None:
        return "Flat"
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
    bm25: bm25s.BM25 | None = None

    @classmethod
    def build(cls, entries: dict[str, DocEntry], dim: int, faiss_index: faiss.Index | None = None) -> IndexSnapshot:
        snap = cls(dict(sorted(entries.items())), dim)
        snap._flatten()
        vectors = snap.sentence_vectors
        snap.faiss_index = faiss_index if faiss_index is not None else build_faiss(vectors, faiss_spec(len(vectors)))
        snap._build_lexical()
        return snap

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

    def _build_lexical(self) -> None:
        self.sentence_terms = [terms(s.text) for s in self.sentences]
        df = Counter(t for ts in self.sentence_terms for t in set(ts))
        n = max(1, len(self.sentences))
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.vocab_sorted = sorted(self.idf)
        by_doc: dict[str, set[str]] = {}
        for span, ts in zip(self.sentences, self.sentence_terms, strict=True):
            by_doc.setdefault(span.doc_id, set()).update(ts)
        self.doc_terms = {d: frozenset(ts) for d, ts in by_doc.items()}
        if self.passages:
            passage_terms = [[t for sid in ids for t in self.sentence_terms[sid]] for ids in self.passage_sentences]
            self.bm25 = bm25s.BM25()
            self.bm25.index([ts or ["\x00"] for ts in passage_terms], show_progress=False)

    def default_idf(self) -> float:
        """IDF of a term never seen in the collection."""
        return math.log(1 + (len(self.sentences) + 0.5) / 0.5)

    def document(self, doc_id: str) -> Document | None:
        entry = self.entries.get(doc_id)
        return entry.doc if entry else None
