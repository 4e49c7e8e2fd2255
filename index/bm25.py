"""BM25 over passages, rebuilt per snapshot from per-document term counts that unchanged documents keep.

Scores equal bm25s's ``BM25(method="lucene", k1=1.5, b=0.75)`` bit for bit (same float64 arithmetic, same float32
storage, same summation order; tests/index/test_bm25.py checks it). bm25s counts every passage's terms in Python on
each rebuild; here a document's counts are computed once and an update costs a few vectorised numpy passes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

K1, B = 1.5, 0.75


@dataclass(frozen=True, slots=True)
class DocPostings:
    """One document's passages as (passage, term, count) triples over the document's own term list."""

    terms: tuple[str, ...]
    rows: np.ndarray  # passage number within the document, per posting
    cols: np.ndarray  # index into ``terms``, per posting
    tf: np.ndarray  # count of the term in the passage, per posting
    lengths: np.ndarray  # number of terms per passage

    @classmethod
    def of(cls, passage_terms: Sequence[Sequence[str]]) -> DocPostings:
        local: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tf: list[int] = []
        for p, ts in enumerate(passage_terms):
            for term, count in Counter(ts or ["\x00"]).items():  # an empty passage gets one placeholder term
                rows.append(p)
                cols.append(local.setdefault(term, len(local)))
                tf.append(count)
        lengths = [max(1, len(ts)) for ts in passage_terms]
        return cls(tuple(local), np.asarray(rows, np.int64), np.asarray(cols, np.int64),
                   np.asarray(tf, np.float64), np.asarray(lengths, np.int64))


class PassageBM25:
    """A term -> passage score matrix in CSC form; ``get_scores`` sums the columns of the given terms."""

    def __init__(self, docs: Sequence[DocPostings]) -> None:
        vocab: dict[str, int] = {}
        rows, cols, tf, lengths, offset = [], [], [], [], 0
        for d in docs:
            ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in d.terms), np.int64, len(d.terms))
            rows.append(d.rows + offset)
            cols.append(ids[d.cols])
            tf.append(d.tf)
            lengths.append(d.lengths)
            offset += len(d.lengths)
        self.vocab_dict = vocab
        self.num_docs = offset
        if not offset:
            self.data, self.indices, self.indptr = np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(1, np.int64)
            return
        row, col, freq, dl = (np.concatenate(a) for a in (rows, cols, tf, lengths))
        df = np.bincount(col, minlength=len(vocab))
        # idf through math.log per distinct document frequency, as bm25s does per term (np.log may differ by an ulp)
        values, inverse = np.unique(df, return_inverse=True)
        logs = np.array([math.log(1 + (offset - v + 0.5) / (v + 0.5)) for v in values.tolist()], np.float64)
        idf = logs[inverse].astype(np.float32)
        tfc = freq / (K1 * ((1 - B) + B * dl[row] / dl.mean()) + freq)
        scores = (idf[col] * tfc).astype(np.float32)
        order = np.argsort((col << 32) | row)
        self.data, self.indices = scores[order], row[order]
        self.indptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(df, out=self.indptr[1:])

    def get_scores(self, terms: Sequence[str]) -> np.ndarray:
        """Sum of the passages' scores for each known term (repeated terms count again, unknown ones not at all)."""
        scores = np.zeros(self.num_docs, np.float32)
        for term in terms:
            t = self.vocab_dict.get(term)
            if t is not None:
                start, end = self.indptr[t], self.indptr[t + 1]
                np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores
