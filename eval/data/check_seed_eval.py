#!/usr/bin/env python3
"""Validate seed_eval.jsonl against the seed articles (stdlib only).

Usage: python check_seed_eval.py [--data seed_eval.jsonl] [--seeds ../../seeds]

Checks: every line is a JSON object; ids are unique; kind-specific fields are
present; each doc_id names a seed file; each evidence span is in range and
sits on sentence boundaries; every gold answer occurs (case-sensitively)
inside the evidence text; minimum counts are met.  Prints counts per kind,
tag and document.  Exits 1 if anything fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSWER_TAGS = {"exact", "paraphrase", "number", "date", "name", "place", "why", "how"}
UNANSWERABLE_TAGS = {"unmentioned_entity", "missing_fact", "in_domain", "number", "date", "name", "place", "why", "how"}
# Characters a sentence may end with (final punctuation, or a closing quote/bracket after it).
SENTENCE_END = set(".!?\"'\u201d\u2019)")
SENTENCE_TERMINATORS = set(".!?")
# A terminator (optionally followed by a closing quote) then space and a capital/opening quote
# inside a span means it probably holds two sentences.  Known abbreviations are exempt.
INTERNAL_BREAK = re.compile("[.!?][\"'\u201d\u2019]?\\s+[A-Z\"\u201c]")
ABBREVIATIONS = ("U.S.", "U.K.", "U.N.", "Mr.", "Mrs.", "Ms.", "Dr.", "Gen.", "Lt.", "Col.", "St.", "No.")
MIN_COUNTS = {"answerable": 44, "unanswerable": 10, "conversation": 7}


def load_text(seeds: Path, doc_id: str, cache: dict[str, str]) -> str | None:
    if doc_id not in cache:
        path = seeds / f"{doc_id}.txt"
        if not path.is_file():
            return None
        # Exactly how the service reads documents: no strip, no newline normalisation.
        cache[doc_id] = path.read_text(encoding="utf-8")
    return cache[doc_id]


def boundary_errors(text: str, start: int, end: int) -> list[str]:
    errs = []
    span = text[start:end]
    if span[0].isspace() or span[-1].isspace():
        errs.append("span starts or ends with whitespace")
        return errs
    if "\n" in span:
        errs.append("span crosses a line break")
    if span[-1] not in SENTENCE_END:
        errs.append(f"span does not end with sentence punctuation (ends with {span[-1]!r})")
    elif span[-1] not in SENTENCE_TERMINATORS and not any(c in SENTENCE_TERMINATORS for c in span[-3:]):
        # e.g. '... “unacceptable”.' is fine; '... word”' with no terminator is not
        errs.append("span ends with a closing quote/bracket but no sentence terminator near it")
    for m in INTERNAL_BREAK.finditer(span):
        if not span[: m.start() + 1].endswith(ABBREVIATIONS):
            errs.append(f"span seems to contain more than one sentence (break at {span[m.start():m.end()]!r})")
    # left side: start of text, or whitespace preceded by a line break / sentence end
    if start > 0:
        if not text[start - 1].isspace():
            errs.append("span starts in the middle of a word")
        else:
            i = start - 1
            saw_newline = False
            while i >= 0 and text[i].isspace():
                saw_newline |= text[i] == "\n"
                i -= 1
            if i >= 0 and not saw_newline and text[i] not in SENTENCE_END:
                errs.append(f"text before span does not end a sentence ({text[max(0, i - 20):i + 1]!r})")
    if not (span[0].isupper() or span[0].isdigit() or span[0] in "\"'\u201c\u2018"):
        errs.append(f"span does not start like a sentence ({span[0]!r})")
    # right side: end of text or whitespace
    if end < len(text) and not text[end].isspace():
        errs.append(f"span ends in the middle of text (next char {text[end]!r})")
    return errs


def check_answerable(obj: dict, where: str, seeds: Path, cache: dict[str, str]) -> list[str]:
    errs = []
    for field in ("question", "doc_id", "answers", "evidence"):
        if field not in obj:
            errs.append(f"{where}: missing field {field!r}")
    if errs:
        return errs
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        errs.append(f"{where}: empty question")
    text = load_text(seeds, obj["doc_id"], cache)
    if text is None:
        return errs + [f"{where}: unknown doc_id {obj['doc_id']!r}"]
    ev = obj["evidence"]
    if not (isinstance(ev, list) and len(ev) == 2 and all(type(x) is int for x in ev)):
        return errs + [f"{where}: evidence must be [start, end] integers, got {ev!r}"]
    start, end = ev
    if not (0 <= start < end <= len(text)):
        return errs + [f"{where}: evidence {ev} out of range for {obj['doc_id']} (len {len(text)})"]
    errs += [f"{where}: evidence {ev}: {e}" for e in boundary_errors(text, start, end)]
    span = text[start:end]
    answers = obj["answers"]
    if not (isinstance(answers, list) and 1 <= len(answers) <= 3):
        errs.append(f"{where}: answers must be a list of 1-3 strings")
    else:
        for a in answers:
            if not isinstance(a, str) or not a.strip():
                errs.append(f"{where}: empty answer {a!r}")
            elif a not in span:
                errs.append(f"{where}: answer {a!r} not in evidence {span!r}")
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE / "seed_eval.jsonl")
    ap.add_argument("--seeds", type=Path, default=HERE.parent.parent / "seeds")
    ap.add_argument("--any-size", action="store_true",
                    help="skip the minimum counts (for seed_eval_hard.jsonl, which adds to the main set)")
    args = ap.parse_args()

    errors: list[str] = []
    cache: dict[str, str] = {}
    ids: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    tags: dict[str, Counter[str]] = {"answerable": Counter(), "unanswerable": Counter()}
    docs: Counter[str] = Counter()
    turns_total = 0

    with open(args.data, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        where = f"line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: invalid JSON ({e})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        rid = obj.get("id")
        if not isinstance(rid, str) or not rid:
            errors.append(f"{where}: missing id")
        else:
            ids[rid] += 1
            where = f"{where} ({rid})"
        kind = obj.get("kind")
        kinds[str(kind)] += 1
        if kind == "answerable":
            errors += check_answerable(obj, where, args.seeds, cache)
            t = obj.get("tags", [])
            if not isinstance(t, list) or set(t) - ANSWER_TAGS:
                errors.append(f"{where}: bad tags {t!r}")
            elif ("exact" in t) == ("paraphrase" in t):
                errors.append(f"{where}: tags must contain exactly one of 'exact'/'paraphrase'")
            else:
                tags["answerable"].update(t)
            docs[str(obj.get("doc_id"))] += 1
        elif kind == "unanswerable":
            if not isinstance(obj.get("question"), str) or not obj["question"].strip():
                errors.append(f"{where}: missing question")
            for field in ("answers", "evidence", "doc_id"):
                if field in obj:
                    errors.append(f"{where}: unanswerable record must not have {field!r}")
            t = obj.get("tags", [])
            if not isinstance(t, list) or not t or set(t) - UNANSWERABLE_TAGS:
                errors.append(f"{where}: bad tags {t!r}")
            else:
                tags["unanswerable"].update(t)
        elif kind == "conversation":
            turns = obj.get("turns")
            if not isinstance(turns, list) or not 2 <= len(turns) <= 3:
                errors.append(f"{where}: conversation needs 2-3 turns")
                continue
            for j, turn in enumerate(turns, 1):
                if not isinstance(turn, dict):
                    errors.append(f"{where} turn {j}: not an object")
                    continue
                errors += check_answerable(turn, f"{where} turn {j}", args.seeds, cache)
                docs[str(turn.get("doc_id"))] += 1
                turns_total += 1
        else:
            errors.append(f"{where}: unknown kind {kind!r}")

    errors += [f"duplicate id {i!r} ({n}x)" for i, n in ids.items() if n > 1]
    for kind, n in MIN_COUNTS.items():
        if kinds[kind] < n and not args.any_size:
            errors.append(f"only {kinds[kind]} {kind} records (need >= {n})")

    print(f"records: {sum(kinds.values())}")
    for kind in ("answerable", "unanswerable", "conversation"):
        print(f"  {kind:13s} {kinds[kind]}")
    print(f"conversation turns: {turns_total}")
    for kind, counter in tags.items():
        print(f"tags ({kind}): " + ", ".join(f"{t}={n}" for t, n in sorted(counter.items())))
    print("grounded questions per doc (answerable + turns): "
          + ", ".join(f"{d}={n}" for d, n in sorted(docs.items(), key=str)))

    if errors:
        print(f"\nFAILED with {len(errors)} error(s):", file=sys.stderr)
        for message in errors:
            print("  " + message, file=sys.stderr)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
