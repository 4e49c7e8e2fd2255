"""Trial of an int8 encoder: dynamic quantization of MiniLM's Linear layers vs fp32 (`python -m eval.quantize_trial`).

The sentence-transformers ONNX backend needs `optimum`, whose current release requires transformers < 5 (pip would
downgrade the installed transformers 5.x), so the int8 trial uses torch's own dynamic quantization, offline, on the
model files of the installed package. For each variant it builds the SQuAD index with that encoder and asks the
same questions: single-question encode p50 (the two variants alternate question by question), build time, hit@5 and
answer containment. Writes eval/reports/perf/quantize_trial.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from eval.perf import REPORT_DIR, load_collection


def quantized(model):  # type: ignore[no-untyped-def]
    import torch

    model[0].model = torch.ao.quantization.quantize_dynamic(model[0].model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from index.embedder import Embedder
    from index.store import IndexStore
    from qa.config import Settings
    from qa.service import QAService

    n = int((argv if argv is not None else sys.argv[1:] or ["400"])[0])
    docs, questions, _ = load_collection("squad")
    qs = [q for q in questions if q["answers"]][::5][:n]
    variants, services = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("fp32", "int8"):
            emb = Embedder()
            if name == "int8":
                emb._model = quantized(emb.model)
            t = time.perf_counter()
            store = IndexStore(Path(tmp) / name, emb)
            store.update(docs)
            variants[name] = {"build_seconds": round(time.perf_counter() - t, 2)}
            services[name] = QAService(store, Settings(index_dir=Path(tmp) / name))
        times: dict[str, list[float]] = {"fp32": [], "int8": []}
        for q in qs:
            for name, svc in services.items():
                t = time.perf_counter()
                svc.store.embedder.model.encode([q["question"]])
                times[name].append(time.perf_counter() - t)
        for name, svc in services.items():
            pairs = [(q, svc.ask(q["question"])) for q in qs]
            hits = sum(any(g in p.text for p in a.passages[:5] for g in q["answers"]) for q, a in pairs)
            contains = sum(bool(a.answer) and any(g in a.answer for g in q["answers"]) for q, a in pairs)
            variants[name].update({"encode_one_p50_ms": round(1e3 * statistics.median(times[name]), 2),
                                   "hit_at_5": round(hits / len(qs), 4),
                                   "answer_contains": round(contains / len(qs), 4), "questions": len(qs)})
    result = {"command": "python -m eval.quantize_trial", "variants": variants}
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "quantize_trial.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
