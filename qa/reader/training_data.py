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
    previous: str = ""  # the sentence before ``sentence`` in its paragraph, for a reader trained with context

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


def build_pairs(articles: list[dict], seed: int = 13, limit: int | None = None, skip: int = 0,
                same_article: bool = False, context: bool = False) -> list[list[Pair]]:
    """Per question: [positive, hardest other sentence of its paragraph, best BM25 sentence of another article].

    Questions are shuffled (seeded); the first ``skip`` are passed over (those an earlier run trained on) and the next
    ``limit`` kept. A question whose answer crosses a sentence boundary
    is left out (the reader answers inside one sentence). ``same_article`` adds a fourth pair: the best BM25 sentence
    of *another paragraph of the same article* that holds none of the gold answers, the rival that open-collection
    retrieval puts beside the right sentence most often. ``context`` gives every pair the sentence before its own in
    its paragraph (``Pair.previous``; empty for a paragraph's first sentence).
    """
    rng = random.Random(seed)
    sentences: list[tuple[int, int, str]] = []  # (article, paragraph, sentence) for retrieved negatives
    before: dict[str, str] = {}  # sentence -> the sentence before it in its paragraph (the first one seen)
    questions: list[tuple[int, str, list[str], int, int, int]] = []
    places: list[tuple[int, list[str]]] = []  # (paragraph, gold answers) of each question, for same-article negatives
    paragraph = 0
    for a, article in enumerate(articles):
        for para in article["paragraphs"]:
            paragraph += 1
            text = para["context"]
            spans = split_sentences("p", text)
            sentences.extend((a, paragraph, s.text) for s in spans)
            for prev, s in zip([None, *spans[:-1]], spans, strict=True):
                before.setdefault(s.text, prev.text if prev else "")
            for qa in para["qas"]:
                ans = qa["answers"][0]
                start, end = ans["answer_start"], ans["answer_start"] + len(ans["text"])
                inside = [i for i, s in enumerate(spans) if s.start <= start and end <= s.end]
                if not inside or text[start:end] != ans["text"]:
                    continue
                i = inside[0]
                s = spans[i]
                questions.append((a, qa["question"], [x.text for x in spans], i, start - s.start, end - s.start))
                places.append((paragraph, [x["text"] for x in qa["answers"]]))
    order = list(range(len(questions)))
    rng.shuffle(order)
    order = order[skip : None if limit is None else skip + limit]
    questions = [questions[i] for i in order]
    places = [places[i] for i in order]
    retrieved, same = _retrieve_negatives(sentences, [(a, q) for a, q, *_ in questions], places)
    groups: list[list[Pair]] = []
    for (_, question, para_sents, i, start, end), other, near in zip(questions, retrieved, same, strict=True):
        group = [Pair(question, para_sents[i], start, end)]
        words = set(terms(question))
        rivals = [j for j in range(len(para_sents)) if j != i and para_sents[j] != para_sents[i]]
        if rivals:
            best = max(_overlap(words, para_sents[j]) for j in rivals)
            hardest = [j for j in rivals if _overlap(words, para_sents[j]) == best]
            group.append(Pair(question, para_sents[rng.choice(hardest)], -1, -1))
        if other is not None:
            group.append(Pair(question, other, -1, -1))
        if same_article and near is not None:
            group.append(Pair(question, near, -1, -1))
        if context:
            group = [Pair(p.question, p.sentence, p.start, p.end, before[p.sentence]) for p in group]
        groups.append(group)
    return groups


def _retrieve_negatives(sentences: list[tuple[int, int, str]], questions: list[tuple[int, str]],
                        places: list[tuple[int, list[str]]], k: int = 8,
                        k_same: int = 40) -> tuple[list[str | None], list[str | None]]:
    """BM25 (bm25s, as the service's lexical retriever) negatives for each question.

    The top sentence from another article (within the first ``k`` hits), and the top sentence from another paragraph
    of the question's own article holding none of its gold answers (within the first ``k_same``).
    """
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize([s for *_, s in sentences], stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    other: list[str | None] = []
    same: list[str | None] = []
    step = 2000
    for lo in tqdm(range(0, len(questions), step), desc="BM25 negatives", unit_scale=step):
        chunk = questions[lo : lo + step]
        query_tokens = bm25s.tokenize([q for _, q in chunk], stopwords="en", stemmer=stemmer, show_progress=False)
        depth = min(max(k, k_same), len(sentences))
        hits, _ = retriever.retrieve(query_tokens, k=depth, show_progress=False, n_threads=1)
        for (article, _), (paragraph, answers), row in zip(chunk, places[lo : lo + step], hits, strict=True):
            found = [sentences[int(j)] for j in row]
            other.append(next((s for a, _, s in found[:k] if a != article), None))
            same.append(next((s for a, p, s in found if a == article and p != paragraph
                              and not any(x.lower() in s.lower() for x in answers)), None))
    return other, same
