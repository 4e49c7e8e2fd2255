"""Training pairs for the reader from SQuAD v1.1 train: positives with span labels, hard and retrieved negatives.

Imported only by training: nothing at run time needs it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from index.chunking import split_sentences
from index.text import terms


@dataclass(frozen=True, slots=True)
class Pair:
    """One (question, sentence) example; ``start``/``end`` are the answer's characters in ``sentence``, -1 if none."""

    question: str
    sentence: str
    start: int
    end: int

    @property
    def answerable(self) -> bool:
        return self.start >= 0


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_squad(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)["data"]


def _overlap(question_words: set[str], sentence: str) -> int:
    return len(question_words & set(terms(sentence)))


def build_pairs(articles: list[dict], seed: int = 13, limit: int | None = None, skip: int = 0) -> list[list[Pair]]:
    """Per question: [positive, hardest other sentence of its paragraph, best BM25 sentence of another article].

    Questions are shuffled (seeded); the first ``skip`` are passed over (those an earlier run trained on) and the next
    ``limit`` kept. A question whose answer crosses a sentence boundary
    is left out (the reader answers inside one sentence).
    """
    rng = random.Random(seed)
    sentences: list[tuple[int, str]] = []  # (article number, sentence) for retrieved negatives
    questions: list[tuple[int, str, list[str], int, int, int]] = []
    for a, article in enumerate(articles):
        for para in article["paragraphs"]:
            context = para["context"]
            spans = split_sentences("p", context)
            sentences.extend((a, s.text) for s in spans)
            for qa in para["qas"]:
                ans = qa["answers"][0]
                start, end = ans["answer_start"], ans["answer_start"] + len(ans["text"])
                inside = [i for i, s in enumerate(spans) if s.start <= start and end <= s.end]
                if not inside or context[start:end] != ans["text"]:
                    continue
                i = inside[0]
                s = spans[i]
                questions.append((a, qa["question"], [x.text for x in spans], i, start - s.start, end - s.start))
    rng.shuffle(questions)
    questions = questions[skip : None if limit is None else skip + limit]
    retrieved = _retrieve_other_article(sentences, [(a, q) for a, q, *_ in questions])
    groups: list[list[Pair]] = []
    for (_, question, para_sents, i, start, end), other in zip(questions, retrieved, strict=True):
        group = [Pair(question, para_sents[i], start, end)]
        words = set(terms(question))
        rivals = [j for j in range(len(para_sents)) if j != i and para_sents[j] != para_sents[i]]
        if rivals:
            best = max(_overlap(words, para_sents[j]) for j in rivals)
            hardest = [j for j in rivals if _overlap(words, para_sents[j]) == best]
            group.append(Pair(question, para_sents[rng.choice(hardest)], -1, -1))
        if other is not None:
            group.append(Pair(question, other, -1, -1))
        groups.append(group)
    return groups


def _retrieve_other_article(sentences: list[tuple[int, str]], questions: list[tuple[int, str]],
                            k: int = 8) -> list[str | None]:
    """BM25 (bm25s, as the service's lexical retriever) top sentence from an article other than the question's."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize([s for _, s in sentences], stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    out: list[str | None] = []
    step = 2000
    for lo in tqdm(range(0, len(questions), step), desc="BM25 negatives", unit_scale=step):
        chunk = questions[lo : lo + step]
        query_tokens = bm25s.tokenize([q for _, q in chunk], stopwords="en", stemmer=stemmer, show_progress=False)
        hits, _ = retriever.retrieve(query_tokens, k=k, show_progress=False, n_threads=1)
        for (article, _), row in zip(chunk, hits, strict=True):
            out.append(next((sentences[int(j)][1] for j in row if sentences[int(j)][0] != article), None))
    return out
