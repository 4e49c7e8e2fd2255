"""Training pairs for the reader from SQuAD v1.1 train: positives with span labels, hard and retrieved negatives.

Imported only by training: nothing at run time needs it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
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


def build_pairs(articles: list[dict], seed: int = 13, limit: int | None = None, skip: int = 0,
                same_article: bool = False) -> list[list[Pair]]:
    """Per question: [positive, hardest other sentence of its paragraph, best BM25 sentence of another article].

    Questions are shuffled (seeded); the first ``skip`` are passed over (those an earlier run trained on) and the next
    ``limit`` kept. A question whose answer crosses a sentence boundary
    is left out (the reader answers inside one sentence). ``same_article`` adds a fourth pair: the best BM25 sentence
    of *another paragraph of the same article* that holds none of the gold answers, the rival that open-collection
    retrieval puts beside the right sentence most often.
    """
    rng = random.Random(seed)
    sentences: list[tuple[int, int, str]] = []  # (article, paragraph, sentence) for retrieved negatives
    questions: list[tuple[int, str, list[str], int, int, int]] = []
    places: list[tuple[int, list[str]]] = []  # (paragraph, gold answers) of each question, for same-article negatives
    paragraph = 0
    for a, article in enumerate(articles):
        for para in article["paragraphs"]:
            paragraph += 1
            text = para["context"]
            spans = split_sentences("p", text)
            sentences.extend((a, paragraph, s.text) for s in spans)
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


ENTITY = re.compile(r"\b\d(?:[\d,.]*\d)?\b|\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


LEADING = re.compile(r"^(?:(?:The|A|An|In|On|At|By|For|From|Of|To|As|After|Before|During|When|What|Who|Which|Where|"
                     r"How|Why|This|That|These|Those|It|He|She|They|We|His|Her|Their|Its)\s+)+")


def _entities(text: str) -> list[str]:
    """Numbers and capitalised names, leaving out the text's first word (a question word or sentence start) and a
    capitalised function word that opens a name ("The Forth Bridge" -> "Forth Bridge")."""
    found = (LEADING.sub("", m.group(0)) for m in ENTITY.finditer(text) if m.start() > 0)
    return [e for e in found if e and e != "I" and not LEADING.match(e + " ")]


def _is_number(entity: str) -> bool:
    return entity[0].isdigit()


def swapped_negatives(articles: list[dict], seed: int = 13, limit: int | None = None) -> list[list[Pair]]:
    """In-domain unanswerable pairs: a question whose name or number also stands in its answer sentence gets that
    name or number swapped for another of the same kind from its own article, one that the sentence does not hold.
    Paired with the answer sentence it is labelled unanswerable: the sentence still shares the topic and most words
    with the question, but no longer states the fact asked for ("entity present, fact absent").

    Questions are visited in a seeded order; ``limit`` pairs at most, one per question.
    """
    rng = random.Random(seed)
    items: list[tuple[str, str, list[str]]] = []  # (question, answer sentence, the article's names and numbers)
    for article in articles:
        pool: list[str] = []
        found: list[tuple[str, str]] = []
        for para in article["paragraphs"]:
            text = para["context"]
            pool.extend(_entities(text))
            spans = split_sentences("p", text)
            for qa in para["qas"]:
                start = qa["answers"][0]["answer_start"]
                inside = [s.text for s in spans if s.start <= start < s.end]
                if inside:
                    found.append((qa["question"], inside[0]))
        unique = sorted(set(pool))
        items.extend((q, s, unique) for q, s in found)
    rng.shuffle(items)
    groups: list[list[Pair]] = []
    for question, sentence, pool in items:
        shared = [e for e in _entities(question) if e in sentence]
        if not shared:
            continue
        entity = rng.choice(shared)
        rivals = [e for e in pool if _is_number(e) == _is_number(entity) and e not in sentence and e not in question
                  and e.lower() != entity.lower()]
        if not rivals:
            continue
        groups.append([Pair(question.replace(entity, rng.choice(rivals), 1), sentence, -1, -1)])
        if limit is not None and len(groups) >= limit:
            break
    return groups
