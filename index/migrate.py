"""Copy an index between the backends without re-embedding: ``qa migrate --to milvus`` (embedded -> Milvus) and
``qa migrate --to embedded`` (Milvus -> embedded). Sentence vectors are copied, never recomputed; documents already
in the target with the same content are skipped, so an interrupted migration resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from index.documents import Document
from index.milvus_schema import quote

if TYPE_CHECKING:
    from index.milvus import MilvusStore
    from index.store import IndexStore

BATCH_DOCS = 64


def to_milvus(source: IndexStore, target: MilvusStore, progress: Callable[[int], None] = lambda n: None
              ) -> tuple[int, int]:
    """Copy every document of ``source`` with its vectors; (documents copied, documents already there)."""
    from index.milvus import document_rows

    entries = list(source.snapshot.entries.values())
    copied = skipped = 0
    for lo in range(0, len(entries), BATCH_DOCS):
        batch = entries[lo:lo + BATCH_DOCS]
        heads = target.heads([e.doc.doc_id for e in batch], ("doc_id", "sha256"))
        todo = [e for e in batch if heads.get(e.doc.doc_id, {}).get("sha256") != e.sha256]
        target.write_rows([document_rows(e.doc, e.sentences, e.chunks, e.vectors) for e in todo])
        copied, skipped = copied + len(todo), skipped + len(batch) - len(todo)
        progress(len(batch))
    return copied, skipped


class CopiedVectors:
    """Stands in for the embedder while documents are written to the embedded store: sentence texts map to the
    vectors copied from Milvus (the same text always has the same vector), so nothing is embedded again."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim
        self.vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.vectors[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def to_embedded(source: MilvusStore, target: IndexStore, progress: Callable[[int], None] = lambda n: None
                ) -> tuple[int, int]:
    """Copy every document of ``source`` with its vectors into ``target``; (documents copied, already there)."""
    from index.milvus_schema import doc_hash

    real = target.embedder
    copier = CopiedVectors(real.name, real.dim)
    ids = [row["doc_id"] for row in source.iter_heads(("doc_id",))]
    copied = skipped = 0
    try:
        target.embedder = copier  # type: ignore[assignment]
        for lo in range(0, len(ids), BATCH_DOCS):
            view = source.snapshot
            entries = view.load(ids[lo:lo + BATCH_DOCS])
            pks = [f"{doc_hash(d)}:{e.version}:{i}" for d, e in entries.items() for i in range(len(e.sentences))]
            vectors: dict[str, list[float]] = {}
            for k in range(0, len(pks), 1_000):
                part = pks[k:k + 1_000]
                for row in source.query("sentences", f"pk in [{', '.join(quote(p) for p in part)}]",
                                        ["pk", "vector"], limit=len(part)):
                    vectors[row["pk"]] = row["vector"]
            for d, e in entries.items():
                for i, s in enumerate(e.sentences):
                    copier.vectors[s.text] = np.asarray(vectors[f"{doc_hash(d)}:{e.version}:{i}"], np.float32)
            docs: list[Document] = [e.doc for e in entries.values()]
            report = target.update(docs)
            copier.vectors.clear()
            copied, skipped = copied + len(report.added) + len(report.changed), skipped + len(report.unchanged)
            progress(len(ids[lo:lo + BATCH_DOCS]))
    finally:
        target.embedder = real
    return copied, skipped
