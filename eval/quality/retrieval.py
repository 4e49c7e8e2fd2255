"""Run several retrievers over the same questions and judge each ranked passage against a gold span."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.quality.metrics import overlaps
from index.backend import ReadView
from index.documents import Chunk
from qa.retrieve import Retriever
from qa.service import QAService

BASE_RETRIEVERS = ("bm25", "dense", "rrf", "normalized")


@dataclass(frozen=True, slots=True)
class Target:
    """A passage is relevant when it comes from ``doc_id`` and overlaps ``[start, end)``."""

    doc_id: str
    start: int
    end: int

    def matches(self, chunk: Chunk) -> bool:
        return chunk.doc_id == self.doc_id and overlaps(chunk.start, chunk.end, self.start, self.end)


def retriever_names(service: QAService) -> list[str]:
    """BM25, dense, both fusions, and the service's configured fusion (already one of them unless custom)."""
    names = list(BASE_RETRIEVERS)
    if service.settings.fusion not in names:
        names.append(service.settings.fusion)
    return names


def make_retrievers(service: QAService, names: Sequence[str]) -> dict[str, Retriever]:
    """Retrievers sharing the service's question encoder (and its cache) and dense weight."""
    return {name: Retriever(service.encoder, fusion=name, dense_weight=service.settings.dense_weight)
            for name in names}


def n_relevant(snap: ReadView, target: Target) -> int:
    """How many passages of the index are relevant to ``target`` (passages overlap, so often 1 or 2)."""
    return sum(1 for chunk in snap.passages if target.matches(chunk))


def judge_rankings(service: QAService, questions: Sequence[str], targets: Sequence[Target], k: int,
                   names: Sequence[str], batch_size: int = 64) -> dict[str, list[list[bool]]]:
    """Per retriever, per question, the relevance of each of the top ``k`` passages."""
    snap = service.store.snapshot
    retrievers = make_retrievers(service, names)
    out: dict[str, list[list[bool]]] = {name: [] for name in names}
    for lo in range(0, len(questions), batch_size):
        qs = [service.clean_question(q) for q in questions[lo : lo + batch_size]]
        ts = targets[lo : lo + batch_size]
        queries = service.retriever.queries(qs)
        for name, retriever in retrievers.items():
            for target, hits in zip(ts, retriever.search_batch(snap, queries, k), strict=True):
                out[name].append([target.matches(snap.passages[h.passage_id]) for h in hits])
    return out
