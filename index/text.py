"""Word tokenization shared by BM25, lexical answer scoring and abstention checks.

Terms are case- and accent-folded before stemming, so "Cafe Lumiere" and "CAFÉ LUMIÈRE" find "Café Lumière". Terms
are never stored: an index computes them from its text when it loads, so an index written before folding needs no
rebuild.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex
import Stemmer

# regex's \w holds combining marks (Unicode's word characters), re's does not: with re, "Re\u0301union" (decomposed,
# as macOS and many PDFs write it) was two words, "Re" and "union", that matched nothing a question typed "Réunion"
WORD = regex.compile(r"\w+(?:[.'’]\w+)*")
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
    return [w.replace(".", "").replace("’", "'") for w in WORD.findall(text)]


def fold(text: str) -> str:
    """Case- and accent-folded text: ``Café Lumière`` -> ``cafe lumiere``, ``STRASSE`` and ``Straße`` -> ``strasse``
    (for comparing words, never for offsets: the result may be longer or shorter than ``text``)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalize(word: str) -> str:
    """Case- and accent-folded, possessive-stripped, stemmed form of one word."""
    low = fold(word)
    if low.endswith("'s"):
        low = low[:-2]
    return str(_stemmer().stemWord(low))


def terms(text: str) -> list[str]:
    """Content terms for BM25 and overlap scoring: folded, stemmed words without stopwords."""
    return [normalize(w) for w in words(text) if fold(w) not in STOPWORDS]
