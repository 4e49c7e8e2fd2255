"""Eval-set records (see eval/data/README.md for the JSONL format) as small typed objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from eval.report_files import ROOT

SEED_EVAL = ROOT / "eval" / "data" / "seed_eval.jsonl"


@dataclass(frozen=True, slots=True)
class Gold:
    """Where the answer is: the gold document, answer strings and the evidence span ``[start, end)``."""

    doc_id: str
    answers: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Question:
    """A single question; ``gold`` is None for an unanswerable one."""

    id: str
    question: str
    gold: Gold | None
    tags: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.gold is not None


@dataclass(frozen=True, slots=True)
class Conversation:
    """Two or three turns; every turn is answerable and may refer back to earlier turns."""

    id: str
    turns: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class EvalSet:
    questions: list[Question] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)

    @property
    def answerable(self) -> list[Question]:
        return [q for q in self.questions if q.answerable]

    @property
    def unanswerable(self) -> list[Question]:
        return [q for q in self.questions if not q.answerable]


def _gold(rec: dict) -> Gold:
    start, end = rec["evidence"]
    return Gold(rec["doc_id"], tuple(rec["answers"]), int(start), int(end))


def load_eval_set(path: Path) -> EvalSet:
    """Parse an eval JSONL file; a malformed line raises ValueError naming the line."""
    out = EvalSet()
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            kind = rec["kind"]
            if kind == "answerable":
                out.questions.append(Question(rec["id"], rec["question"], _gold(rec), tuple(rec.get("tags", ()))))
            elif kind == "unanswerable":
                out.questions.append(Question(rec["id"], rec["question"], None, tuple(rec.get("tags", ()))))
            elif kind == "conversation":
                turns = tuple(Question(f"{rec['id']}.{i}", t["question"], _gold(t))
                              for i, t in enumerate(rec["turns"], 1))
                out.conversations.append(Conversation(rec["id"], turns))
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{lineno}: bad eval record ({exc}); see eval/data/README.md") from exc
    return out
