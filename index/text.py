"""Word tokenization shared by BM25, lexical answer scoring and abstention checks."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "me",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "once",
        "only",
        "or",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "about",
        "after",
        "again",
        "against",
        "all",
        "am",
        "any",
        "because",
        "before",
        "below",
        "between",
        "both",
        "during",
        "each",
        "few",
        "further",
        "more",
        "most",
        "other",
        "off",
        "s",
        "t",
        "just",
        "don",
        "now",
        "also",
        "said",
        "says",
        "say",
        "tell",
        "told",
        "according",
    ]
)
QUESTION_WORDS = frozenset(["what", "when", "where", "which", "who", "whom", "whose", "why", "how"])


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Surface word tokens, case kept, periods inside abbreviations dropped (U.S. -> US)."""
    return [w.replace(".", "").replace("’", "'") for w in _WORD.findall(text)]


def normalize(word: str) -> str:
    """Lower-cased, possessive-stripped, stemmed form of one word."""
    low = word.lower()
    if low.endswith("'s"):
        low = low[:-2]
    return str(_stemmer().stemWord(low))


def terms(text: str) -> list[str]:
    """Content terms for BM25 and overlap scoring: stemmed words without stopwords."""
    return [normalize(w) for w in words(text) if w.lower() not in STOPWORDS]
