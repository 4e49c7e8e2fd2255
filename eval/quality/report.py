"""Write eval results as Markdown, JSON and PNG plots, and format the one-screen terminal summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eval.quality.seed import DEPTH, KS
from eval.report_files import save_report

DEFINITIONS = """\
- A retrieved passage is **relevant** when it is from the gold document and overlaps the gold evidence span.
- An answer is **correct** when it is not null, contains a gold answer string (case-insensitive) and cites the gold
  document. Its **citation is right** when it cites the gold document with a span overlapping the gold evidence.
- **Quote exact**: `quote == document.text[start:end]` for every citation returned (questions and turns).
- **Abstention** precision/recall: the positive class is "answer is null", the truth is "question is unanswerable".
- **Calibration** event: "answered and correct" for answers; for null answers (confidence = probability that the
  articles lack the answer) "the question is unanswerable". ECE over 10 equal-width bins.
- **Conversations**: each turn goes through `chat()` with the earlier user turns and the service's own answers."""


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats are printed with three decimals."""
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def retrieval_table(retrieval: dict[str, dict[str, float]], configured: str) -> str:
    cols = [f"hit@{k}" for k in KS] + [f"recall@{k}" for k in KS] + [f"mrr@{DEPTH}", f"ndcg@{DEPTH}"]
    rows = [[name + (" (configured)" if name == configured else "")] + [m[c] for c in cols]
            for name, m in retrieval.items()]
    return table(["retriever", *cols], rows)


def _failure_lines(f: dict) -> list[str]:
    lines = [f"- **{f['id']}** ({f['kind']}) {f['question']}"]
    if "resolved_question" in f:
        lines.append(f"  - resolved as: {f['resolved_question']}")
    if "gold" in f:
        g = f["gold"]
        rank = f.get("fused_gold_rank", "n/a")
        lines.append(f"  - gold: {g['answers']} in `{g['doc_id']}` {g['evidence']}; fused rank of gold passage: {rank}")
    if f["answer"] is None:
        lines.append(f"  - came back: null ({f['abstain_reason']}), confidence {f['confidence']:.2f}")
    else:
        lines.append(f"  - came back: \"{f['answer']}\" cited {f['cited']}, confidence {f['confidence']:.2f}")
    return lines


def markdown(result: dict) -> str:
    meta, ans, ab = result["meta"], result["answers"], result["abstention"]
    cal, conv = result["calibration"], result["conversations"]
    out = [
        "# Seed eval report", "",
        f"Eval file `{meta['eval_file']}` on {meta['documents']} documents / {meta['passages']} passages; "
        f"configured fusion `{meta['fusion']}` (dense weight {meta['dense_weight']}); commit `{meta['commit']}`, "
        f"{meta['date']}. Regenerate with `python -m eval`.", "",
        "## Definitions", "", DEFINITIONS, "",
        f"## Retrieval ({ans['answerable']} answerable questions)", "",
        retrieval_table(result["retrieval"], meta["fusion"]), "", "![recall@k](recall_at_k.png)", "",
        "## Answers", "",
        table(["metric", "value"], [
            ["answer contains a gold answer", ans["contains_gold"]],
            ["citation right (doc + span overlap)", ans["citation_right"]],
            ["correct (contains gold + gold doc)", ans["correct"]],
            ["null answers on answerable questions", ans["abstained_on_answerable"]],
            [f"quote exactness ({ans['citations']} citations)", ans["quote_exact"]],
            [f"abstention precision ({ab['abstained']} null answers)", ab["precision"]],
            [f"abstention recall ({ab['unanswerable']} unanswerable)", ab["recall"]],
            [f"ECE ({cal['n']} questions and turns)", cal["ece"]],
            ["ECE, answered only", cal["ece_answered"]],
            [f"conversation turn accuracy ({conv['turns']} turns)", conv["turn_accuracy"]],
            ["  first turns", conv["first_turn_accuracy"]],
            ["  follow-up turns", conv["follow_up_accuracy"]],
            [f"  final turns ({conv['conversations']})", conv["final_turn_accuracy"]],
            [f"conversations with every turn correct ({conv['conversations']})", conv["all_turns_correct"]],
        ]), "",
        "## Calibration", "",
        table(["confidence bin", "count", "mean confidence", "observed frequency"],
              [[f"{b['lo']:.1f}-{b['hi']:.1f}", b["count"], b["mean_confidence"], b["accuracy"]]
               for b in cal["table"]]), "", "![reliability](reliability.png)", "",
        f"## Failures ({len(result['failures'])})", "",
    ]
    for f in result["failures"]:
        out += _failure_lines(f)
    return "\n".join(out) + "\n"


def summary(result: dict) -> str:
    """About twenty lines for the terminal."""
    meta, ans, ab = result["meta"], result["answers"], result["abstention"]
    conv, cal = result["conversations"], result["calibration"]
    lines = [f"seed eval: {meta['eval_file']} | {meta['documents']} docs | fusion {meta['fusion']}",
             f"{'retriever':<12} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'hit@10':>6} {'MRR@10':>7} {'nDCG@10':>8}"]
    for name, m in result["retrieval"].items():
        lines.append(f"{name:<12} {m['hit@1']:6.3f} {m['hit@3']:6.3f} {m['hit@5']:6.3f} {m['hit@10']:6.3f} "
                     f"{m['mrr@10']:7.3f} {m['ndcg@10']:8.3f}")
    lines += [
        f"answers:  contains gold {ans['contains_gold']:.3f}  citation right {ans['citation_right']:.3f}  "
        f"correct {ans['correct']:.3f}  quote exact {ans['quote_exact']:.3f}",
        f"abstain:  precision {ab['precision']:.3f}  recall {ab['recall']:.3f}  "
        f"({ab['false_answers']} false answers of {ab['unanswerable']})",
        f"calibration: ECE {cal['ece']:.3f} (answered only {cal['ece_answered']:.3f})",
        f"conversations: turn accuracy {conv['turn_accuracy']:.3f} (follow-ups {conv['follow_up_accuracy']:.3f}, "
        f"final turns {conv['final_turn_accuracy']:.3f})",
        f"failures: {len(result['failures'])} — " + ", ".join(f["id"] for f in result["failures"][:20])
        + (" ..." if len(result["failures"]) > 20 else ""),
    ]
    return "\n".join(lines)


def plot_recall(curves: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in curves.items():
        ax.plot(range(1, len(ys) + 1), ys, marker="o", label=name)
    ax.set(xlabel="k (passages)", ylabel="recall@k", title="Recall@k per retriever", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(bins: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    used = [b for b in bins if b["count"]]
    ax.bar([(b["lo"] + b["hi"]) / 2 for b in used], [b["accuracy"] for b in used], width=0.09, alpha=0.6,
           label="observed frequency")
    ax.plot([b["mean_confidence"] for b in used], [b["accuracy"] for b in used], "o", color="C1",
            label="mean confidence")
    for b in used:
        ax.annotate(str(b["count"]), ((b["lo"] + b["hi"]) / 2, b["accuracy"]), ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="confidence", ylabel="frequency of the event", title="Reliability diagram", xlim=(0, 1),
           ylim=(0, 1.05))
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: dict, out_dir: Path) -> None:
    save_report(out_dir, result, markdown(result))
    plot_recall(result["recall_curve"], out_dir / "recall_at_k.png")
    plot_reliability(result["calibration"]["table"], out_dir / "reliability.png")
