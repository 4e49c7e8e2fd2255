"""Trial of int8 encoders on ONNX Runtime against the fp32 ONNX encoder (`python -m eval.tuning.quantize_trial [N]`).

The int8 graphs are the cached fp32 export passed through `index.onnx_model.ensure_quantized` (ONNX Runtime's
dynamic quantization: weights int8, activations quantized on the fly), offline. Variants: int8 for questions only
(the index keeps fp32 vectors), with per-tensor and per-channel weight scales, and int8 for both the index and the
questions. For each: single-question encode p50 (all variants alternate question by question), hit@5 and answer
containment on N SQuAD questions, and the seed eval's hit@5, right-citation rate and abstention recall. The rule
from issue 5: keep int8 only if it is faster and costs under 1 point of hit@5 and of containment.
Writes eval/reports/perf/quantize_trial.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from eval.bench.perf import REPORT_DIR, ROOT, load_collection

VARIANTS = {  # name: (quantize questions, per-channel scales, index built with the int8 graph too)
    "fp32": (False, False, False),
    "int8-questions": (True, False, False),
    "int8-questions-per-channel": (True, True, False),
    "int8-index-and-questions": (True, False, True),
}


def embedder_for(graph: Path | None):  # type: ignore[no-untyped-def]
    from index.embedder import Embedder, model_dir
    from index.onnx_model import OnnxEncoder

    emb = Embedder(question_int8=False)  # questions go through whatever graph ``encode`` uses
    if graph is not None:
        emb._model = OnnxEncoder(model_dir(), graph=graph)  # the trial swaps the graph; the service has no such knob
    return emb


def build_services(tmp: Path, docs: list) -> dict:  # type: ignore[type-arg]
    from index.embedder import Embedder
    from index.onnx_model import ensure_quantized
    from index.store import IndexStore
    from qa.config import Settings
    from qa.retrieve import QuestionEncoder, Retriever
    from qa.service import QAService

    fp32 = embedder_for(None)
    graphs = {pc: ensure_quantized(fp32.model.path, per_channel=pc) for pc in (False, True)}
    stores: dict[bool, IndexStore] = {}
    services = {}
    for name, (q8, pc, index8) in VARIANTS.items():
        if index8 not in stores:
            stores[index8] = IndexStore(tmp / f"index-{index8}", embedder_for(graphs[False]) if index8 else fp32)
            stores[index8].update(docs)
        service = QAService(stores[index8], Settings(index_dir=tmp / f"index-{index8}"))
        if q8 != index8:  # questions encoded by another graph than the index
            # int8-questions is the service's own QA_QUESTION_INT8 path; per-channel scales are trial-only
            question_embedder = embedder_for(graphs[True]) if pc else Embedder(question_int8=True)
            service.encoder = QuestionEncoder(question_embedder)
            service.retriever = Retriever(service.encoder, service.settings.fusion, service.settings.dense_weight)
        services[name] = service
    return services


def squad_quality(service, questions: list[dict]) -> dict:  # type: ignore[no-untyped-def]
    pairs = [(q, service.ask(q["question"])) for q in questions]
    hits = sum(any(g in p.text for p in a.passages[:5] for g in q["answers"]) for q, a in pairs)
    contains = sum(bool(a.answer) and any(g in a.answer for g in q["answers"]) for q, a in pairs)
    return {"hit_at_5": round(hits / len(pairs), 4), "answer_contains": round(contains / len(pairs), 4),
            "questions": len(pairs)}


def seed_quality(tmp: Path) -> dict:
    """The seed eval per variant, on a seed index built with that variant's index encoder."""
    from eval.quality.dataset import load_eval_set
    from eval.quality.seed import run_eval
    from index.ingest import load_files

    evalset = load_eval_set(ROOT / "eval" / "data" / "seed_eval.jsonl")
    seeds = list(load_files([ROOT / "seeds"]))  # a generator: every variant builds from it
    out = {}
    for name, service in build_services(tmp / "seeds", seeds).items():
        r = run_eval(service, evalset)
        fused = r["retrieval"][service.settings.fusion]
        out[name] = {"hit_at_5": round(fused["hit@5"], 4), "citation_right": round(r["answers"]["citation_right"], 4),
                     "abstention_recall": round(r["abstention"]["recall"], 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    n = int((argv if argv is not None else sys.argv[1:] or ["400"])[0])
    docs, questions, _ = load_collection("squad")
    answerable = [q for q in questions if q["answers"]]
    qs = answerable[:: max(1, len(answerable) // n)][:n]  # spread over all articles
    result: dict = {"command": "python -m eval.tuning.quantize_trial " + str(n), "variants": {}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "seeds").mkdir()
        services = build_services(tmp, docs)
        times: dict[str, list[float]] = {name: [] for name in services}
        for q in qs:
            for name, svc in services.items():
                t = time.perf_counter()
                svc.encoder.embedder.encode_questions([q["question"]])
                times[name].append(time.perf_counter() - t)
        for name, svc in services.items():
            result["variants"][name] = {"encode_one_p50_ms": round(1e3 * statistics.median(times[name]), 3),
                                        "squad": squad_quality(svc, qs)}
        for name, seed in seed_quality(tmp).items():
            result["variants"][name]["seed"] = seed
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "quantize_trial.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
