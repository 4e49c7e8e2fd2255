"""The committed training report of a reader run: hyper-parameters, data hash, wall time and the loss curve.

Written by ``python -m training.reader.export`` next to the shipped weights. A run started with ``--init`` from an
earlier run folder is reported as the next stage after that run's own figures (a chain of any length). Imported by
nothing at run time.
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
    """The command that made a run, from its saved config (paths as they were given)."""
    parts = [f"python -m training.reader.train --data {config['data']} --out {config['out']}",
             f"--pairs {config['pairs']} --every {config['every']:g}"]
    if config.get("init"):
        parts.append(f"--init {config['init']}")
    if config.get("questions") is not None:
        parts.append(f"--questions {config['questions']}")
    if config.get("skip"):
        parts.append(f"--skip {config['skip']}")
    if config.get("swapped"):
        parts.append(f"--swapped {config['swapped']}")
    if config.get("qamr"):
        parts.append(f"--qamr {config['qamr']}")
    if config.get("same_article_negatives"):
        parts.append("--same-article-negatives")
    for flag, default in (("lr", 1e-4), ("head_lr", 1e-3), ("warmup", 200), ("seed", 13), ("epochs", 1),
                          ("threads", 2)):
        if config.get(flag, default) != default:
            parts.append(f"--{flag.replace('_', '-')} {config[flag]:g}")
    return " ".join(parts)


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
        + (f"; {config['swapped']:,} swapped-entity unanswerable pairs" if config.get("swapped") else "")
        + ("; QAMR's non-held-out articles (a positive per question, for half of them an unanswerable sentence of "
           "the same article)" if config.get("qamr") else "")
        + (f"; {config['epochs']} passes over them in one schedule" if config.get("epochs", 1) != 1 else ""),
        "- hyper-parameters: " + ", ".join(f"{k}={config[k]}" for k in
                                           ("batch_size", "lr", "head_lr", "warmup", "seed", "bf16", "threads")),
    ]


def _table(log: list[dict], offset: int = 0) -> list[str]:
    rows = [log[i] for i in range(0, len(log), max(1, len(log) // 20))] + log[-1:]
    lines = ["| step | pairs | loss (mean of 50 batches) | seconds |", "|---|---|---|---|"]
    return lines + [f"| {r['step']} | {offset + r['pairs']:,} | {r['loss']:.3f} | {r['seconds']:.0f} |" for r in rows]


def _chain(run: Path) -> list[tuple[dict, list[dict]]]:
    """The stages that made ``run``'s weights, first first: a run started with ``--init RUN_FOLDER`` follows the one
    it started from; a run started from master weights (a file) is the first stage listed."""
    stages = [_stage(run)]
    while stages[0][0].get("init") and Path(stages[0][0]["init"]).is_dir():
        stages.insert(0, _stage(Path(stages[0][0]["init"])))
    return stages


def write_training_report(run: Path, out: Path, step: int, commit: str) -> None:
    stages = _chain(run)
    config = stages[-1][0]
    lines = ["# Reader training report", "", f"Code at commit `{commit}`; exported with "
             f"`python -m training.reader.export --run {config['out']}` (per-channel int8 by default).", "",
             f"- data: `{Path(config['data']).name}`, sha256 `{config['data_sha256']}`", ""]
    curve: list[tuple[int, float]] = []
    offset = 0
    for number, (stage_config, log) in enumerate(stages, 1):
        last = number == len(stages)
        title = f"## Stage {number}" if number == 1 else \
            f"## Stage {number}: continued from the stage {number - 1} weights"
        init = stage_config.get("init")
        start = [f"Started from the master weights `{init}` (the reader shipped before it).", ""] \
            if number == 1 and init and not Path(init).is_dir() else []
        lines += [title, "", *start, *_describe(stage_config, log, step if last else stage_config["total_steps"]), ""]
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
