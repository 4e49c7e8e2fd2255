"""BM25 over passages, scored at query time from term frequencies, document frequencies and the average length.

Scores equal bm25s's ``BM25(method="lucene", k1=1.5, b=0.75)`` bit for bit (same float64 arithmetic, same float32
storage, same summation order; tests/index/test_bm25.py checks it). Nothing is precomputed per collection: a
passage's postings are written once when its document is added (``Postings``), and idf and the length norm come
from the counts of the snapshot asking, so an add or delete costs only its own passages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

K1, B = 1.5, 0.75
EMPTY = "\x00"  # an empty passage gets this one placeholder term, as bm25s does


def passage_counts(terms: Sequence[str]) -> tuple[Counter[str], int]:
    """A passage's term counts and its length for BM25 (an empty passage counts as one placeholder term)."""
    return Counter(terms or [EMPTY]), max(1, len(terms))


class Postings:
    """Term -> (passage, tf, passage length) postings: a frozen CSC part built in bulk plus per-term lists that
    writes append to. Rows are never changed or removed (deleted passages are masked by the snapshot), so a reader
    filters what it sees by its own passage bound and live mask without locks."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.indptr = np.zeros(1, np.int64)
        self.pids = np.zeros(0, np.int64)
        self.tf = np.zeros(0, np.float64)
        self.dl = np.zeros(0, np.int64)
        self.recent: dict[str, tuple[list[int], list[int], list[int]]] = {}

    @classmethod
    def bulk(cls, passages: Iterable[tuple[int, Counter[str], int]]) -> Postings:
        """Postings of many ``(passage number, term counts, length)`` at once, in CSC form."""
        out = cls()
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        dls: list[int] = []
        for pid, counts, length in passages:
            for term, count in counts.items():
                rows.append(pid)
                cols.append(out.vocab.setdefault(term, len(out.vocab)))
                tfs.append(count)
                dls.append(length)
        col = np.asarray(cols, np.int64)
        order = np.argsort((col << 32) | np.asarray(rows, np.int64), kind="stable")
        out.pids = np.asarray(rows, np.int64)[order]
        out.tf = np.asarray(tfs, np.float64)[order]
        out.dl = np.asarray(dls, np.int64)[order]
        out.indptr = np.zeros(len(out.vocab) + 1, np.int64)
        np.cumsum(np.bincount(col, minlength=len(out.vocab)), out=out.indptr[1:])
        return out

    def add(self, pid: int, counts: Counter[str], length: int) -> None:
        """Append one passage's postings (the single writer calls this; readers may be searching meanwhile)."""
        for term, count in counts.items():
            lists = self.recent.get(term)
            if lists is None:
                lists = self.recent[term] = ([], [], [])
            lists[1].append(count)
            lists[2].append(length)
            lists[0].append(pid)  # last: a reader zips the lists to the shortest, so a half-written row is unseen

    def of(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Passage numbers, term frequencies and passage lengths of every posting of ``term``, live or not."""
        col = self.vocab.get(term)
        parts = []
        if col is not None:
            a, b = self.indptr[col], self.indptr[col + 1]
            parts.append((self.pids[a:b], self.tf[a:b], self.dl[a:b]))
        lists = self.recent.get(term)
        if lists is not None:
            n = len(lists[0])
            parts.append((np.asarray(lists[0][:n], np.int64), np.asarray(lists[1][:n], np.float64),
                          np.asarray(lists[2][:n], np.int64)))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int64)
        if len(parts) == 1:
            return parts[0]
        pids, counts, lengths = (np.concatenate(p) for p in zip(*parts, strict=True))
        return pids, counts, lengths


def bm25_scores(terms: Sequence[str], postings: Postings, df: Callable[[str], int], alive: np.ndarray,
                n_passages: int, total_length: int) -> np.ndarray:
    """Lucene BM25 of every passage slot for ``terms`` (repeated terms count again, unknown ones not at all).

    ``alive`` marks the live passage slots, ``df`` counts live passages holding a term, ``n_passages`` and
    ``total_length`` are the live passages' count and summed length: the quantities bm25s derives from its corpus."""
    scores = np.zeros(len(alive), np.float32)
    if not n_passages:
        return scores
    avgdl = total_length / n_passages  # the exact float64 mean of integer lengths, as numpy's mean gives
    for term in terms:
        d = df(term)
        if d <= 0:
            continue
        pids, tf, dl = postings.of(term)
        keep = pids < len(alive)
        keep[keep] = alive[pids[keep]]
        pids, tf, dl = pids[keep], tf[keep], dl[keep]
        idf = np.float32(math.log(1 + (n_passages - d + 0.5) / (d + 0.5)))  # math.log per df, as bm25s
        tfc = tf / (K1 * ((1 - B) + B * dl / avgdl) + tf)
        np.add.at(scores, pids, (idf * tfc).astype(np.float32))
    return scores


class PassageBM25:
    """BM25 over a fixed list of passages' terms (the standalone form of what a snapshot scores)."""

    def __init__(self, passages: Sequence[Sequence[str]]) -> None:
        counted = [passage_counts(ts) for ts in passages]
        self.postings = Postings.bulk((pid, c, n) for pid, (c, n) in enumerate(counted))
        self.df: Counter[str] = Counter(t for c, _ in counted for t in c)
        self.alive = np.ones(len(passages), bool)
        self.total = sum(n for _, n in counted)

    @property
    def num_docs(self) -> int:
        return len(self.alive)

    def get_scores(self, terms: Sequence[str]) -> np.ndarray:
        return bm25_scores(terms, self.postings, lambda t: self.df.get(t, 0), self.alive, len(self.alive),
                           self.total)
