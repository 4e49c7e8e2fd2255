"""The ONNX backend returns the same vectors as sentence-transformers, and its exported graph is cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embedder import Embedder
from index.errors import InvalidInputError
from index.onnx_model import ensure_exported

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    seeds = sorted((ROOT / "seeds").iterdir())
    text = seeds[0].read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    # one-word, question-length, paragraph-length and over-256-token texts, mixed in one batch to force padding
    return ["Helsinki", "Where did Milley meet his Russian counterpart?", *paragraphs[:6], " ".join(paragraphs) * 2]


def test_onnx_vectors_equal_sentence_transformers(embedder: Embedder) -> None:
    texts = _texts()
    onnx = embedder.encode(texts, batch_size=4)
    torch = Embedder(backend="torch").encode(texts)
    assert onnx.shape == torch.shape == (len(texts), 384)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.min() > 0.9999
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def test_batching_does_not_change_a_vector(embedder: Embedder) -> None:
    texts = _texts()
    together = embedder.encode(texts, batch_size=64)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_export_is_cached_and_reused(embedder: Embedder, tmp_path: Path) -> None:
    from index.embedder import model_dir

    first = ensure_exported(model_dir(), tmp_path)
    stamp = first.stat().st_mtime_ns
    again = ensure_exported(model_dir(), tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary file left behind


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="unknown encoder backend 'gpu'; choose one of onnx, torch"):
        Embedder(backend="gpu")


def test_int8_question_vectors_stay_close_to_fp32(embedder: Embedder) -> None:
    questions = ["Where did Milley meet his Russian counterpart?", "How old was the pilot?",
                 "Which port did the American patrol boats reach?"]
    int8 = Embedder()  # the default
    quantized = int8.encode_questions(questions)
    exact = embedder.encode(questions)
    assert Embedder(question_int8=False).encode_questions(questions).tolist() == exact.tolist()
    cosines = (quantized * exact).sum(axis=1)
    assert 0.93 < cosines.min() < 0.9999  # close, but really a different (quantized) graph
    np.testing.assert_allclose(int8.encode(questions), exact, atol=1e-5)  # passages are never quantized
    assert int8._question_model.path.name.endswith("-int8.onnx")


def test_int8_questions_need_the_onnx_backend() -> None:
    assert Embedder(backend="torch").question_int8 is False
    with pytest.raises(InvalidInputError, match="int8 question encoding needs the onnx encoder backend"):
        Embedder(backend="torch", question_int8=True)
