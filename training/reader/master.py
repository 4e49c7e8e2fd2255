"""The reader's master weights: one fp16 safetensors file committed beside the shipped int8 graph.

Every graph (int8 shipped, fp32 for evals) and the Hugging Face layout is exported from it, and a training stage can
start from it on any fresh checkout (``python -m training.reader.train --init qa/reader/weights/reader.safetensors``).

``from_int8`` recovers weights from a dynamic-int8 graph (``w = scale * (q - zero_point)``), for a reader whose
higher-precision weights were lost: the recovered weights carry the int8 rounding, nothing else.

``interpolate`` mixes two readers fine-tuned from one another (weight-space ensembling, "WiSE-FT": Wortsman et al.,
CVPR 2022): ``(1 - alpha) * a + alpha * b`` per tensor, one model of the same size and speed that keeps much of what
each was good at.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

MASTER = "reader.safetensors"


def save_master(state: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> Path:
    from safetensors.torch import save_file

    half = {k: v.detach().to(torch.float16).contiguous() for k, v in state.items()}
    tmp = path.with_suffix(".tmp")
    save_file(half, str(tmp), metadata=metadata)
    tmp.replace(path)
    return path


def load_master(path: Path) -> dict[str, torch.Tensor]:
    """The master weights in fp32 (as training and export use them)."""
    from safetensors.torch import load_file

    return {k: v.float() for k, v in load_file(str(path)).items()}


def _module_path(node_output: str) -> str:
    """'/encoder/encoder/layer.0/attention/self/query/MatMul_output_0_output_quantized' -> 'encoder.encoder.layer.0.
    attention.self.query'."""
    parts = node_output.strip("/").split("/")
    return ".".join(parts[:-1])


def from_int8(graph: Path) -> dict[str, torch.Tensor]:
    """The ReaderNet state dict (without the encoder's unused pooler) recovered from a dynamic-int8 export."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}

    def dequantize(base: str) -> np.ndarray:
        q = inits[f"{base}_quantized"].astype(np.float32)
        return (q - inits[f"{base}_zero_point"].astype(np.float32)) * inits[f"{base}_scale"].astype(np.float32)

    state: dict[str, np.ndarray] = {name: value for name, value in inits.items()
                                    if value.dtype == np.float32 and name.endswith((".weight", ".bias"))}
    for name in [n[: -len("_quantized")] for n in inits if n.endswith("_quantized")]:
        if name.endswith(".weight"):  # embeddings: per-tensor, stored as torch has them
            state[name] = dequantize(name)
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        module = _module_path(node.output[0])
        base = node.input[1][: -len("_quantized")]
        state[f"{module}.weight"] = dequantize(base).T  # MatMul keeps [in, out]; torch Linear keeps [out, in]
    return {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()}


def interpolate(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], alpha: float) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * a + alpha * b`` for every tensor; both must hold the same names and shapes."""
    if a.keys() != b.keys():
        raise ValueError(f"the two readers differ in their tensors: {sorted(a.keys() ^ b.keys())[:5]}")
    for name, value in a.items():
        if value.shape != b[name].shape:
            raise ValueError(f"{name}: shape {tuple(value.shape)} against {tuple(b[name].shape)}")
    return {name: (1 - alpha) * value + alpha * b[name] for name, value in a.items()}


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Make master weights: recover them from a dynamic-int8 reader graph, "
                                                 "or interpolate two masters.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-int8", type=Path)
    source.add_argument("--interpolate", type=Path, nargs=2, metavar=("A", "B"),
                        help="two master files: writes (1 - alpha) * A + alpha * B")
    parser.add_argument("--alpha", type=float, default=0.5, help="B's share with --interpolate (0..1)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.interpolate:
        if not 0.0 <= args.alpha <= 1.0:
            parser.error("--alpha must be between 0 and 1")
        a, b = args.interpolate
        save_master(interpolate(load_master(a), load_master(b), args.alpha), args.out,
                    {"interpolated": f"{1 - args.alpha:g} * {a.name} + {args.alpha:g} * {b.name}"})
    else:
        save_master(from_int8(args.from_int8), args.out,
                    {"recovered_from": args.from_int8.name, "note": "dequantized from per-channel int8"})
    print(f"{args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
