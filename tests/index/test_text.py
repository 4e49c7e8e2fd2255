"""Terms for BM25 and the term check: case- and accent-folded, then stemmed."""

from __future__ import annotations

from index.text import fold, normalize, terms, words


def test_fold_drops_case_and_accents() -> None:
    assert fold("Café Lumière") == "cafe lumiere"
    assert fold("ŁÓDŹ") == "łodz"  # Ł has no decomposition: only its case folds
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("plain ascii") == "plain ascii"


def test_accented_and_plain_spellings_give_the_same_terms() -> None:
    assert terms("Who runs Café Lumière?") == terms("who runs CAFE LUMIERE?") == ["run", "cafe", "lumier"]
    assert normalize("Zürich's") == normalize("zurich") == "zurich"


def test_a_decomposed_accent_stays_inside_its_word() -> None:
    # macOS and many PDFs write "é" as "e" and a combining accent; it was a word break ("Re", "union")
    nfd, nfc = "The cafe\u0301 in Re\u0301union", "The café in Réunion"
    assert terms(nfd) == terms(nfc) == ["cafe", "reunion"]
    assert words("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # Devanagari vowel signs are marks too
