"""The vendored SQuAD v1.1 dev slice: copy it in with attribution, and read it as Documents with gold paragraphs."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from eval.quality.dataset import ROOT
from index.documents import Document
from index.ingest import make_doc_id

FILENAME = "squad-dev-v1.1-part-a.json"
SHARED_COPY = ROOT.parent / "shared" / "data" / FILENAME
VENDORED = ROOT / "eval" / "data" / "squad" / FILENAME

ATTRIBUTION = f"""\
# Attribution

`{FILENAME}` is an unmodified copy of part of the SQuAD v1.1 development set: 12 Wikipedia articles
(475 paragraphs, 2,881 crowd-written questions with answer spans), in the original SQuAD JSON format
(`data[].title`, `data[].paragraphs[].context`, `data[].paragraphs[].qas[].question/answers[].text/answer_start`).

- Source: Pranav Rajpurkar, Jian Zhang, Konstantin Lopyrev and Percy Liang, "SQuAD: 100,000+ Questions for Machine
  Comprehension of Text", EMNLP 2016 (https://rajpurkar.github.io/SQuAD-explorer/, https://arxiv.org/abs/1606.05250).
  The paragraphs are from English Wikipedia.
- License: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0),
  https://creativecommons.org/licenses/by-sa/4.0/ . This file is redistributed under the same license.
- What was copied: the file as provided in the project's shared benchmark data (`../shared/data/{FILENAME}`), byte
  for byte, no changes. `eval/squad.py` reads it; nothing in the service uses it at run time.
"""


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str
    start: int  # the gold paragraph's span in the article's text
    end: int


@dataclass(frozen=True, slots=True)
class SquadArticle:
    doc: Document
    paragraphs: tuple[tuple[int, int], ...]
    questions: tuple[SquadQuestion, ...]


def vendor(source: Path = SHARED_COPY, target: Path = VENDORED) -> Path:
    """Copy the dataset into eval/data/squad/ with ATTRIBUTION.md unless it is already there."""
    if not target.exists():
        if not source.exists():
            raise SystemExit(f"error: {target} is missing and so is {source}; copy {FILENAME} into {target.parent}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    attribution = target.parent / "ATTRIBUTION.md"
    if not attribution.exists():
        attribution.write_text(ATTRIBUTION, encoding="utf-8")
    return target


def load_articles(path: Path) -> list[SquadArticle]:
    """Each article is one Document whose text is its paragraphs joined by blank lines."""
    data = json.loads(path.read_text(encoding="utf-8"))
    articles = []
    for art in data["data"]:
        doc_id = make_doc_id(art["title"])
        parts, spans, questions, pos = [], [], [], 0
        for para in art["paragraphs"]:
            context = para["context"]
            spans.append((pos, pos + len(context)))
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(SquadQuestion(qa["id"], qa["question"], answers, doc_id, pos, pos + len(context)))
            parts.append(context)
            pos += len(context) + 2
        doc = Document(doc_id=doc_id, title=art["title"].replace("_", " "), text="\n\n".join(parts),
                       source=f"SQuAD v1.1 dev: {art['title']}")
        assert all(doc.text[s:e] == p for (s, e), p in zip(spans, parts, strict=True))
        articles.append(SquadArticle(doc, tuple(spans), tuple(questions)))
    return articles


# Every WITHHOLD_EVERY-th paragraph of each article (the 5th, 10th, ...) is left out of the withheld collection that
# evaluation asks (eval.quality.squad, eval.tuning.abstention_sweep). Calibration (eval.tuning.calibrate) leaves out
# another residue, CALIBRATION_WITHHELD (the 3rd, 8th, ...), so the confidence model is never fitted on the questions
# it is judged on.
WITHHOLD_EVERY = 5
CALIBRATION_WITHHELD = 2


def withhold(articles: list[SquadArticle], every: int = WITHHOLD_EVERY,
             which: int | None = None) -> tuple[list[Document], list[SquadQuestion]]:
    """In-domain unanswerable questions: the articles with their paragraphs ``i`` where ``i % every == which`` left out
    (by default ``which = every - 1``: every ``every``-th paragraph), and the questions of the left-out paragraphs
    that the remaining collection cannot answer, because none of their gold answer strings occurs (case-insensitive)
    anywhere in it. Their article, and so the names they ask about, stays in the collection; only the fact is gone.
    A question whose answer also stands in a kept paragraph is not one of them."""
    which = every - 1 if which is None else which
    docs: list[Document] = []
    left_out: list[SquadQuestion] = []
    for art in articles:
        out = {span for i, span in enumerate(art.paragraphs) if i % every == which}
        kept = [art.doc.text[s:e] for s, e in art.paragraphs if (s, e) not in out]
        docs.append(Document(doc_id=art.doc.doc_id, title=art.doc.title, text="\n\n".join(kept),
                             source=art.doc.source))
        left_out.extend(q for q in art.questions if (q.start, q.end) in out)
    collection = "\n\n".join(d.text for d in docs).casefold()
    return docs, [q for q in left_out if not any(a.casefold() in collection for a in q.answers if a)]
