"""The answer layer before the reader (hand-made sentence features + regex highlight), scored like the reader.

    python -m eval.quality.ablation_previous [--commit f2c3caa] [--limit N]

Checks the given commit out into a temporary git worktree and runs its own service over SQuAD dev part A as an open
collection, then scores its answers with this checkout's metrics: span EM / F1 of the highlight (or of the whole
sentence when it gave none), sentence containment, passage hit@1, abstention. Prints JSON; ``--out FILE`` also
writes it (the committed one: eval/reports/squad/ablation_previous.json).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from eval.args import positive
from eval.quality.dataset import ROOT
from eval.quality.metrics import contains_answer, mean, overlaps
from eval.quality.span_metrics import exact_match, f1_score
from eval.quality.squad import sample
from eval.quality.squad_data import load_articles, vendor

# Runs inside the old checkout: index the SQuAD articles, ask each question, print the answers as JSON lines.
_RUNNER = """
import json, sys
from pathlib import Path
from eval.squad import open_squad_service  # the old commit's module path (before eval/ had rooms)
qs = json.loads(sys.stdin.read())
service = open_squad_service(Path(sys.argv[1]), Path(sys.argv[2]))
for lo in range(0, len(qs), 64):
    for a in service.ask_batch(qs[lo:lo + 64]):
        print(a.model_dump_json())
"""


def run_previous(commit: str, questions: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="qa-prev-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            out = subprocess.run([sys.executable, "-c", _RUNNER, str(Path(tmp) / "index"), str(vendor())],
                                 cwd=tree, input=json.dumps(questions), capture_output=True, text=True, check=True,
                                 env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval.quality.ablation_previous", description=__doc__.split("\n")[0])
    p.add_argument("--commit", default="f2c3caa", help="the last commit before the reader")
    p.add_argument("--limit", type=positive, default=None)
    p.add_argument("--out", type=Path, default=None, help="also write the JSON to this file")
    args = p.parse_args(argv)
    qs = sample([q for a in load_articles(vendor()) for q in a.questions], args.limit, 0)
    answers = run_previous(args.commit, [q.question for q in qs])
    spans = []
    for a in answers:
        c = a["citations"][0] if a["citations"] else None
        spans.append(c["highlight"]["text"] if c and c.get("highlight") else a["answer"])
    pairs = list(zip(qs, answers, spans, strict=True))
    result = {
        "commit": args.commit, "questions": len(qs),
        "span_em": mean([exact_match(s, q.answers) for q, _, s in pairs]),
        "span_f1": mean([f1_score(s, q.answers) for q, _, s in pairs]),
        "sentence_containment": mean([1.0 if a["citations"] and contains_answer(a["citations"][0]["quote"], q.answers)
                                      else 0.0 for q, a, _ in pairs]),
        "passage_hit@1": mean([1.0 if a["passages"] and a["passages"][0]["doc_id"] == q.doc_id and overlaps(
            a["passages"][0]["start"], a["passages"][0]["end"], q.start, q.end) else 0.0 for q, a, _ in pairs]),
        "abstention_rate": mean([1.0 if a["answer"] is None else 0.0 for _, a, _ in pairs]),
        "highlight_given": mean([1.0 if a["citations"] and a["citations"][0].get("highlight") else 0.0
                                 for _, a, _ in pairs]),
    }
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
