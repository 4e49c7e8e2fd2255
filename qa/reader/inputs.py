"""How the reader sees a candidate: ``[CLS] question [SEP] sentence [SEP]`` word pieces with character offsets.

Shared by training and inference, so the model is always fed exactly what it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_LENGTH = 128  # question + sentence: 49 word pieces on average in SQuAD train, 95th percentile 82


@dataclass(frozen=True, slots=True)
class EncodedPairs:
    """A padded batch; ``offsets[i, t]`` is the character range of token t inside sentence i, (-1, -1) outside it."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    offsets: np.ndarray

    @property
    def context_mask(self) -> np.ndarray:
        """True where a token belongs to the candidate sentence (where a span may start or end)."""
        return self.offsets[:, :, 0] >= 0


def load_tokenizer(model_dir: Path):  # -> tokenizers.Tokenizer
    """The MiniLM word-piece tokenizer, truncating the longer of question and sentence first."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_LENGTH, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def encode_pairs(tokenizer, questions: Sequence[str], sentences: Sequence[str]) -> EncodedPairs:
    """Tokenize (question, sentence) pairs and pad them to the longest; one call for the whole batch."""
    encodings = tokenizer.encode_batch(list(zip(questions, sentences, strict=True)))
    n, width = len(encodings), max(len(e.ids) for e in encodings)
    ids = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    offsets = np.full((n, width, 2), -1, dtype=np.int64)
    for i, enc in enumerate(encodings):
        k = len(enc.ids)
        ids[i, :k] = enc.ids
        mask[i, :k] = 1
        types[i, :k] = enc.type_ids
        for t, (seq, (start, end)) in enumerate(zip(enc.sequence_ids, enc.offsets, strict=True)):
            if seq == 1 and end > start:
                offsets[i, t] = (start, end)
    return EncodedPairs(ids, mask, types, offsets)
