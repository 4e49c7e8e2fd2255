"""The storage interface: what qa/ and api/ need from an index, and the backends implementing it, chosen by name.

Two backends: ``embedded`` (``index.store.IndexStore``: FAISS + BM25 + write-ahead log in one folder, the default) and
``milvus`` (``index.milvus``: a Milvus engine or cluster, for stateless API replicas). Fusion, the reader, calibration,
event questions and what a filter means stay above this interface; a backend returns raw dense and lexical scores of
candidate passages and, for the rows it handed out, the sentences, vectors and documents answers are read from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.chunking import ChunkParams
from index.documents import Chunk, Document, Span
from index.embedder import Embedder
from index.errors import InvalidInputError

if TYPE_CHECKING:
    from index.ingest import Skipped

BACKENDS = ("embedded", "milvus")


class DocFilter(Protocol):
    """Which documents a question may use (``index.filters.Filters``); a backend applies it inside its search."""

    @property
    def since(self) -> date | None: ...

    @property
    def until(self) -> date | None: ...

    @property
    def source(self) -> str | None: ...

    def matches(self, doc: Document) -> bool: ...


@dataclass(frozen=True, slots=True)
class PassageScores:
    """One question's candidate passages with their raw dense (best sentence cosine) and lexical (BM25) scores.

    ``passage_ids`` None means the arrays cover every passage row of the view (the embedded backend scores them
    all); otherwise they are the candidates only and ``others`` says whether allowed passages outside them exist
    (they score 0 on both, and fusion normalises as if one of them were present)."""

    passage_ids: np.ndarray | None
    dense: np.ndarray
    bm25: np.ndarray
    others: bool = False


class StoredDocument(Protocol):
    """A document as a backend holds it: the document and its sentences and passages (exact offsets into its text)."""

    @property
    def doc(self) -> Document: ...

    @property
    def sentences(self) -> Sequence[Span]: ...

    @property
    def chunks(self) -> Sequence[Chunk]: ...

    @property
    def sha256(self) -> str: ...  # index.documents.content_hash of the document as stored


class ReadView(Protocol):
    """A consistent view for one request. Row numbers (passage and sentence ids) are the view's own: valid only
    for rows it handed out (``passage_scores``, ``passage_sentences``), never across views or backends."""

    @property
    def n_passages(self) -> int: ...

    @property
    def n_sentences(self) -> int: ...

    @property
    def entries(self) -> Mapping[str, StoredDocument]: ...

    @property
    def passages(self) -> Sequence[Chunk]: ...

    @property
    def sentences(self) -> Sequence[Span]: ...

    @property
    def passage_sentences(self) -> Sequence[Sequence[int]]: ...

    @property
    def sentence_terms(self) -> Sequence[Sequence[str]]: ...

    @property
    def sentence_vectors(self) -> Any: ...  # rows -> float32 matrix

    def passage_scores(self, qvecs: np.ndarray, question_terms: Sequence[Sequence[str]],
                       filters: Sequence[DocFilter | None]) -> list[PassageScores | None]:
        """Per question, its candidate passages' scores; None when its filters allow no document."""
        ...

    def count_passages(self, filters: DocFilter | None) -> int:
        """Live passages of the documents ``filters`` allows (all live passages without filters)."""
        ...

    def resolve(self, passage_ids: Iterable[int]) -> None:
        """Make these passages and their documents readable (a remote backend fetches them in one go)."""
        ...

    @property
    def idf(self) -> Any: ...  # ``get(term, default)``: sentence-level IDF over the whole collection

    @property
    def vocab(self) -> Any: ...  # ``term in vocab``, ``vocab.has_prefix(p)``

    def default_idf(self) -> float: ...

    def terms_of_document(self, doc_id: str) -> frozenset[str]: ...

    def document(self, doc_id: str) -> Document | None: ...

    @property
    def copies(self) -> Mapping[str, Sequence[str]]:
        """Each article that others copy (``Document.duplicate_of``), with the ids of its live copies."""
        ...

    def original(self, doc_id: str) -> str:
        """The article ``doc_id`` is a copy of when that one is indexed, else ``doc_id`` itself."""
        ...

    def sentence_row(self, doc_id: str, index: int) -> int:
        """The view's row of the ``index``-th sentence of ``doc_id``."""
        ...


class Storage(Protocol):
    """Documents in, views out: add, replace and delete documents, and a view for reading and searching."""

    embedder: Embedder
    params: ChunkParams
    stamps: dict[str, str]
    fresh: bool  # no index existed when opened (only then are the seeds indexed into it)
    finds_duplicates: bool  # writes look for copies (qa.service); False on Milvus, which indexes every text as it is

    @property
    def is_writer(self) -> bool: ...  # holds the embedded folder's writer lock: its jobs are journaled beside it

    def job_journal(self) -> Any:
        """Where this process's background job records outlive it (``index.jobs.Journal``): beside the embedded
        index for its writer (None for a reader), in Milvus for every replica."""
        ...

    @property
    def snapshot(self) -> ReadView: ...

    def update(self, items: Iterable[Document | Skipped], remove_missing_under: Iterable[Path] = (),
               on_progress: Callable[[int], None] | None = None) -> Any: ...  # index.store.UpdateReport

    def add(self, docs: list[Document]) -> Any: ...

    def stored_documents(self) -> Iterator[Document]: ...  # every document as stored (qa index --resplit)

    def remove(self, doc_id: str) -> None: ...

    def remove_selected(self, select: Callable[[ReadView], list[str]], dry_run: bool = False) -> list[str]: ...

    def manifest(self) -> dict: ...

    def close(self) -> None: ...

    def __enter__(self) -> Storage: ...

    def __exit__(self, *exc: object) -> None: ...


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise InvalidInputError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)} (QA_BACKEND)")
    return name
