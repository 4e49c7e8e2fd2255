"""QAMR (Michael et al., NAACL 2018) as reader pairs: crowd questions with answer spans over single sentences of
Wikinews and Wikipedia articles, split by article so a news-domain held-out set is never trained on.

The sentences come PTB-tokenized (``-LRB-``, `````` ``, ``''``); ``detokenize`` rebuilds the text a reader sees and the
character range of every token, so an answer given as token indices becomes exact character offsets.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from training.reader.data import Pair

BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}", "``": '"', "''": '"'}
NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", "%", ")", "]", "}", "'s", "n't", "'re", "'ve", "'m", "'ll", "'d", "'"}
NO_SPACE_AFTER = {"(", "[", "{", "$"}
HELD_OUT_EVERY = 4  # every 4th Wikinews article (by its id's hash) is held out: about a quarter of the news questions


@dataclass(frozen=True, slots=True)
class QamrQuestion:
    sentence_id: str
    article: str  # "wikinews:<id>" or "wikipedia:<id>"
    question: str
    sentence: str
    start: int
    end: int

    @property
    def answer(self) -> str:
        return self.sentence[self.start : self.end]


def detokenize(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence text and each token's (start, end) in it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length, quote_open, glue = 0, False, True
    for raw in tokens:
        token = BRACKETS.get(raw, raw)
        is_quote = raw in ("``", "''", '"')
        if is_quote:
            quote_open = raw == "``" or (raw == '"' and not quote_open)
        attach = glue or token in NO_SPACE_BEFORE or raw in NO_SPACE_BEFORE or (is_quote and not quote_open)
        if not attach:
            out.append(" ")
            length += 1
        spans.append((length, length + len(token)))
        out.append(token)
        length += len(token)
        glue = token in NO_SPACE_AFTER or (is_quote and quote_open)
    return "".join(out), spans


def held_out(article: str) -> bool:
    """News articles set aside for the held-out score (never trained on)."""
    if not article.startswith("wikinews:"):
        return False
    return int(hashlib.sha256(article.encode()).hexdigest(), 16) % HELD_OUT_EVERY == 0


def load_qamr(folder: Path) -> list[QamrQuestion]:
    """Every question of ``dev.tsv`` whose answer is one contiguous token range that at least one of the two validators
    gave too (the other questions' answers are often another phrase of the sentence), with exact character offsets."""
    sentences: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    with (folder / "wiki-sentences.tsv").open(encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sentences[row[0]] = detokenize(row[1].split(" "))
    out: list[QamrQuestion] = []
    with (folder / "dev.tsv").open(encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sid, question, answer = row[0], row[5], [int(i) for i in row[6].split()]
            validators = [v.split(":", 1)[1].split() for v in row[7:9] if ":" in v]
            if (sid not in sentences or answer != list(range(answer[0], answer[-1] + 1))
                    or not any([int(i) for i in v] == answer for v in validators)):
                continue
            text, spans = sentences[sid]
            _, kind, article, *_ = sid.split(":")
            out.append(QamrQuestion(sid, f"{kind}:{article}", question, text, spans[answer[0]][0],
                                    spans[answer[-1]][1]))
    return out


def training_pairs(questions: list[QamrQuestion], seed: int = 13, negatives: float = 0.5) -> list[list[Pair]]:
    """Per training question: the positive, and for a ``negatives`` share of them another sentence of the same article
    that does not hold the answer text (unanswerable). Held-out articles are left out."""
    rng = random.Random(seed)
    by_article: dict[str, list[str]] = {}
    for q in questions:
        by_article.setdefault(q.article, [])
        if q.sentence not in by_article[q.article]:
            by_article[q.article].append(q.sentence)
    groups: list[list[Pair]] = []
    for q in questions:
        if held_out(q.article):
            continue
        group = [Pair(q.question, q.sentence, q.start, q.end)]
        others = [s for s in by_article[q.article] if s != q.sentence and q.answer.lower() not in s.lower()]
        if others and rng.random() < negatives:
            group.append(Pair(q.question, rng.choice(others), -1, -1))
        groups.append(group)
    return groups
