"""The committed training report of a reader run: hyper-parameters, data hash, wall time and the loss curve.

Written by ``python -m qa.reader.export`` next to the shipped weights. Imported by nothing at run time.
"""

from __future__ import annotations

import json
from pathlib import Path


def write_training_report(run: Path, out: Path, step: int, commit: str) -> None:
    config = json.loads((run / "config.json").read_text())
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    seconds = log[-1]["seconds"] if log else 0.0
    _plot(log, out / "loss.png")
    rows = [log[i] for i in range(0, len(log), max(1, len(log) // 20))] + log[-1:]
    lines = [
        "# Reader training report", "",
        f"Run exported at step {step} of {config['total_steps']} ({step * config['batch_size']:,} pairs), "
        f"{seconds / 60:.0f} minutes of training wall time on 2 CPU cores (fp32; the machine was shared with other "
        f"work for part of the run). Code at commit `{commit}`.", "",
        "Command: `python -m qa.reader.train --out .reader-run --pairs "
        f"{config['pairs']} --every {config['every']:g}` (resumable with `--resume`), then "
        "`python -m qa.reader.export --run .reader-run` (per-channel int8 by default).", "",
        f"- data: `{Path(config['data']).name}`, sha256 `{config['data_sha256']}`",
        f"- pairs available {config['n_pairs_available']:,} (per question: the answer sentence, the sentence of its "
        "paragraph sharing most question terms, and the best BM25 sentence of another article)",
        "- hyper-parameters: " + ", ".join(f"{k}={config[k]}" for k in
                                           ("batch_size", "lr", "head_lr", "warmup", "seed", "bf16", "threads")),
        "", "![loss](loss.png)", "", "| step | pairs | loss (mean of 50 batches) | seconds |", "|---|---|---|---|",
    ]
    lines += [f"| {r['step']} | {r['pairs']:,} | {r['loss']:.3f} | {r['seconds']:.0f} |" for r in rows]
    (out / "TRAINING.md").write_text("\n".join(lines) + "\n")


def _plot(log: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot([r["pairs"] for r in log], [r["loss"] for r in log])
    ax.set_xlabel("training pairs")
    ax.set_ylabel("loss")
    ax.set_title("reader training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
