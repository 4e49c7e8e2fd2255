"""The committed training report of a reader run: hyper-parameters, data hash, wall time and the loss curve.

Written by ``python -m qa.reader.export`` next to the shipped weights. A run started with ``--init`` from an earlier
run is reported as the next stage after that run's own figures (a chain of any length). Imported by nothing at run time.
"""

from __future__ import annotations

import json
from pathlib import Path


def _stage(run: Path) -> tuple[dict, list[dict]]:
    config = json.loads((run / "config.json").read_text())
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    # a run stopped and resumed repeats the steps after its last checkpoint: the later record of a step counts
    by_step = {r["step"]: r for r in rows}
    return config, [by_step[s] for s in sorted(by_step)]


def _command(config: dict) -> str:
    extra = ""
    if config.get("init"):
        extra = (f" --init {config['init']} --skip {config['skip']} --questions {config['questions']}"
                 f" --lr {config['lr']:g} --head-lr {config['head_lr']:g} --warmup {config['warmup']}")
    elif config.get("questions") is not None:
        extra = f" --questions {config['questions']}"
    if config.get("same_article_negatives"):
        extra += " --same-article-negatives"
    if config.get("context"):
        extra += " --context"
    if config.get("epochs", 1) != 1:
        extra += f" --epochs {config['epochs']}"
    threads = f" --threads {config['threads']}" if config.get("threads", 2) != 2 else ""
    return (f"python -m qa.reader.train --out {config['out']} --pairs {config['pairs']} --every {config['every']:g}"
            f"{extra}{threads}")


def _describe(config: dict, log: list[dict], step: int) -> list[str]:
    seconds = log[-1]["seconds"] if log else 0.0
    first = config.get("skip", 0)
    return [
        f"Exported at step {step} of {config['total_steps']} ({step * config['batch_size']:,} pairs), "
        f"{seconds / 60:.0f} minutes of training wall time on 2 CPU cores (fp32; the model card says how loaded the "
        "machine was).", "",
        f"Command: `{_command(config)}` (resumable with `--resume`).", "",
        f"- questions: {config['questions']:,} SQuAD train questions of the seeded order, from number {first:,}; "
        f"pairs available {config['n_pairs_available']:,} (per question: the answer sentence, the sentence of its "
        "paragraph sharing most question terms, and the best BM25 sentence of another article"
        + (", and the best BM25 sentence of another paragraph of its own article holding no gold answer"
           if config.get("same_article_negatives") else "") + ")"
        + ("; each shown with the sentence before it in its paragraph" if config.get("context") else "")
        + (f"; {config['epochs']} passes over them in one schedule" if config.get("epochs", 1) != 1 else ""),
        "- hyper-parameters: " + ", ".join(f"{k}={config[k]}" for k in
                                           ("batch_size", "lr", "head_lr", "warmup", "seed", "bf16", "threads")),
    ]


def _table(log: list[dict], offset: int = 0) -> list[str]:
    rows = [log[i] for i in range(0, len(log), max(1, len(log) // 20))] + log[-1:]
    lines = ["| step | pairs | loss (mean of 50 batches) | seconds |", "|---|---|---|---|"]
    return lines + [f"| {r['step']} | {offset + r['pairs']:,} | {r['loss']:.3f} | {r['seconds']:.0f} |" for r in rows]


def _chain(run: Path) -> list[tuple[dict, list[dict]]]:
    """The stages that made ``run``'s weights, first first: each run started with ``--init`` follows the one it
    started from."""
    stages = [_stage(run)]
    while stages[0][0].get("init"):
        stages.insert(0, _stage(Path(stages[0][0]["init"])))
    return stages


def write_training_report(run: Path, out: Path, step: int, commit: str) -> None:
    stages = _chain(run)
    config = stages[-1][0]
    lines = ["# Reader training report", "", f"Code at commit `{commit}`; exported with "
             f"`python -m qa.reader.export --run {config['out']}` (per-channel int8 by default).", "",
             f"- data: `{Path(config['data']).name}`, sha256 `{config['data_sha256']}`", ""]
    curve: list[tuple[int, float]] = []
    offset = 0
    for number, (stage_config, log) in enumerate(stages, 1):
        last = number == len(stages)
        title = f"## Stage {number}" if number == 1 else \
            f"## Stage {number}: continued from the stage {number - 1} weights"
        lines += [title, "", *_describe(stage_config, log, step if last else stage_config["total_steps"]), ""]
        if offset:
            lines += ["Pairs in the table count from the start of stage 1.", ""]
        lines += [*_table(log, offset), ""]
        curve += [(offset + r["pairs"], r["loss"]) for r in log]
        offset += log[-1]["pairs"] if log else 0
    if len(stages) == 1:  # one stage: no heading of its own
        lines = lines[:6] + lines[8:]
    _plot(curve, out / "loss.png")
    lines[6:6] = ["![loss](loss.png)", ""]
    (out / "TRAINING.md").write_text("\n".join(lines).rstrip("\n") + "\n")


def _plot(curve: list[tuple[int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot([p for p, _ in curve], [v for _, v in curve])
    ax.set_xlabel("training pairs")
    ax.set_ylabel("loss")
    ax.set_title("reader training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
