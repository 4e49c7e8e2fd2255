"""Document frequencies and the vocabulary, versioned so a write updates only the terms it touches.

Each snapshot has a version; a write records the new frequencies of the terms it changed under its own version, and
a snapshot reads the newest value at or below its version. Snapshots never see a later write's counts, and no
write copies or recomputes the whole vocabulary. A rebuild (load, compaction) starts a new, flat Lexicon.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping


class Lexicon:
    """Per term: how many live sentences and live passages hold it, by version."""

    def __init__(self, base: Mapping[str, tuple[int, int]]) -> None:
        self.base = dict(base)  # term -> (sentence df, passage df) at version 0
        self.history: dict[str, list[tuple[int, int, int]]] = {}  # term -> [(version, sentence df, passage df)]
        self.base_sorted = sorted(t for t, (s, p) in self.base.items() if s or p)
        self.new_sorted: list[str] = []  # terms first seen after the build, sorted; replaced whole on change

    def df(self, term: str, version: int) -> tuple[int, int]:
        """(sentence df, passage df) of ``term`` as of ``version``."""
        hist = self.history.get(term)
        if hist:
            for i in range(len(hist) - 1, -1, -1):  # newest first; entries appended meanwhile are newer still
                v, s, p = hist[i]
                if v <= version:
                    return s, p
        return self.base.get(term, (0, 0))

    def record(self, version: int, changes: Mapping[str, tuple[int, int]]) -> None:
        """Apply ``changes`` (term -> (sentence df delta, passage df delta)) as ``version``, the newest."""
        fresh = []
        for term, (ds, dp) in changes.items():
            if not ds and not dp:
                continue
            s, p = self.df(term, version - 1)
            hist = self.history.get(term)
            if hist is None:
                if term not in self.base:
                    fresh.append(term)
                hist = self.history[term] = []
            hist.append((version, s + ds, p + dp))
        if fresh:
            merged = list(self.new_sorted)
            for term in fresh:
                bisect.insort(merged, term)
            self.new_sorted = merged  # a reader holding the old list keeps a consistent one

    def has_prefix(self, prefix: str, version: int) -> bool:
        """Whether a term starting with ``prefix`` is held by a live sentence or passage (a headline's terms are
        every passage's) as of ``version``."""
        for terms in (self.base_sorted, self.new_sorted):
            i = bisect.bisect_left(terms, prefix)
            while i < len(terms) and terms[i].startswith(prefix):
                if any(self.df(terms[i], version)):
                    return True
                i += 1
        return False


class Vocabulary:
    """The terms of one snapshot: membership and prefix lookups (see ``qa.question.known_term``)."""

    def __init__(self, lexicon: Lexicon, version: int) -> None:
        self._lexicon, self._version = lexicon, version

    def __contains__(self, term: object) -> bool:
        """A term some live sentence or passage holds: a word only the headline says is still one the articles say."""
        return isinstance(term, str) and any(self._lexicon.df(term, self._version))

    def has_prefix(self, prefix: str) -> bool:
        return self._lexicon.has_prefix(prefix, self._version)


class Idf:
    """Sentence-level IDF of one snapshot, computed per term on demand from its document frequency."""

    def __init__(self, lexicon: Lexicon, version: int, n_sentences: int) -> None:
        self._lexicon, self._version, self._n = lexicon, version, max(1, n_sentences)

    def get(self, term: str, default: float) -> float:
        c = self._lexicon.df(term, self._version)[0]
        return math.log(1 + (self._n - c + 0.5) / (c + 0.5)) if c > 0 else default

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._lexicon.df(term, self._version)[0] > 0
