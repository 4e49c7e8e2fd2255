"""Duplicate articles: the same text under another id (a content hash) and near-duplicates such as one wire story run
by several outlets (MinHash over word shingles, datasketch's LSH to find candidates).

The threshold comes from `python -m eval.quality.duplicates` (eval/reports/duplicates/): pairs of wire copies and of
distinct stories on one topic, written for it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from index.text import fold, words

SHINGLE_WORDS = 3  # shingles of 3 folded words: an edited number or name changes only the 3 shingles around it
NUM_PERM = 128
# Estimated Jaccard similarity at or above which the newer of two articles is a copy of the older. On the eval pairs
# (eval/reports/duplicates) the least similar wire copy scores 0.50 (cut to half its length) and the most similar
# distinct story on the same topic 0.14 (inside the same outlet's header and footer): the gap's midpoint, 0.32,
# rounded up, keeps more margin from distinct stories, whose cost (an article hidden behind another) is the worse one.
NEAR_DUPLICATE = 0.35
# Shorter texts are compared word for word only: a short templated notice ("Town 7 approves budget of 7,007 dollars")
# shares most of its shingles with its siblings without copying them. The eval's shortest copy has 55 words.
MIN_NEAR_WORDS = 40
_SEED = 1  # fixed: signatures are comparable across processes and runs
_SCHEME = "affine32"  # datasketch 2's permutation scheme (its default), named: signatures never mix schemes


def text_key(text: str) -> str:
    """The exact-duplicate key of an article's text: sha256 of its words, whitespace and line breaks ignored."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


def shingles(text: str) -> set[bytes]:
    """The article's shingles: each run of ``SHINGLE_WORDS`` consecutive case- and accent-folded words."""
    ws = words(fold(text))
    if len(ws) < SHINGLE_WORDS:
        return {" ".join(ws).encode()} if ws else set()
    return {" ".join(ws[i : i + SHINGLE_WORDS]).encode() for i in range(len(ws) - SHINGLE_WORDS + 1)}


def signature(text: str):  # type: ignore[no-untyped-def]  # datasketch ships no type hints
    """The MinHash of the article's shingles."""
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=_SEED, permutations=_permutations(), scheme=_SCHEME)
    m.update_batch(sorted(shingles(text)))
    return m


@cache
def _permutations():  # type: ignore[no-untyped-def]
    """The ``NUM_PERM`` hash permutations of seed ``_SEED``, drawn once (MinHash would draw them for every article)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations


def similarity(a: str, b: str) -> float:
    """MinHash estimate of the Jaccard similarity of two texts' shingles."""
    return float(signature(a).jaccard(signature(b)))


@dataclass(frozen=True, slots=True)
class Match:
    """What an article duplicates: ``doc_id`` and whether the text is the same word for word."""

    doc_id: str
    exact: bool
    similarity: float


class DuplicateFinder:
    """Exact keys and MinHash signatures of a collection's articles, kept in memory in step with it by ``sync``: a
    write costs the signatures of the articles it adds; the first sync signs every article (about 8 ms for an article
    of 600 words on a loaded 2-core machine: 8 s for 1,000 articles)."""

    def __init__(self, threshold: float = NEAR_DUPLICATE) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signed: dict[str, tuple[str, object]] = {}  # doc_id -> (content hash it was signed at, MinHash)
        self._by_key: dict[str, set[str]] = {}  # text key -> doc ids
        self._keys: dict[str, str] = {}  # doc_id -> text key
        self._lock = threading.Lock()

    def sync(self, docs: Mapping[str, tuple[str, str]]) -> None:
        """Make the finder hold exactly ``docs`` (doc_id -> (content hash, text)): sign what is new or changed,
        forget what is gone."""
        with self._lock:
            for doc_id in [d for d, (h, _) in self._signed.items() if docs.get(d, ("",))[0] != h]:
                self._forget(doc_id)
            for doc_id, (content, text) in docs.items():
                if doc_id not in self._signed:
                    self._add(doc_id, content, text)

    def add(self, doc_id: str, content: str, text: str) -> None:
        """Hold one more article (one of a batch being written, so the next of the batch is compared with it)."""
        with self._lock:
            if doc_id in self._signed:
                self._forget(doc_id)
            self._add(doc_id, content, text)

    def find(self, doc_id: str, text: str, exclude: Iterable[str] = ()) -> Match | None:
        """The article ``text`` duplicates, other than ``doc_id`` itself and ``exclude``: one with the same words if
        any, else the most similar at or above the threshold; None when there is none."""
        skip = {doc_id, *exclude}
        key = text_key(text)
        with self._lock:
            same = sorted(self._by_key.get(key, set()) - skip)
            if same:
                return Match(same[0], True, 1.0)
            if len(words(text)) < MIN_NEAR_WORDS:
                return None
            sig = signature(text)
            found = [(float(sig.jaccard(self._signed[d][1])), d) for d in self._lsh.query(sig) if d not in skip]
        best = max((f for f in found if f[0] >= self.threshold), default=None, key=lambda f: (f[0], f[1]))
        return Match(best[1], False, round(best[0], 4)) if best else None

    def _add(self, doc_id: str, content: str, text: str) -> None:
        sig = signature(text)
        self._signed[doc_id] = (content, sig)
        self._lsh.insert(doc_id, sig)
        key = text_key(text)
        self._keys[doc_id] = key
        self._by_key.setdefault(key, set()).add(doc_id)

    def _forget(self, doc_id: str) -> None:
        self._signed.pop(doc_id)
        self._lsh.remove(doc_id)
        key = self._keys.pop(doc_id)
        self._by_key[key].discard(doc_id)
        if not self._by_key[key]:
            del self._by_key[key]
