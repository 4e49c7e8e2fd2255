"""Near-duplicate threshold: MinHash similarity of wire copies (one story as different outlets run it) and of
distinct stories on one topic, from the articles in eval/data/duplicates/stories.json (written for this eval).

    python -m eval.quality.duplicates --out eval/reports/duplicates

Each topic has a wire story (``a``) and another story on the same topic (``b``). Copies are ``a`` as outlets run
it: framed by an outlet's header, byline and footer; with a new headline and the last paragraph cut; with a figure
corrected and a sentence reworded; with a local paragraph added. Distinct pairs are ``a`` against ``b``, bare and with
the same outlet's frame around both (the frame's words are shared, the story is not).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval.report_files import ROOT, git_commit
from index.duplicates import NEAR_DUPLICATE, NUM_PERM, SHINGLE_WORDS, similarity

STORIES = ROOT / "eval" / "data" / "duplicates" / "stories.json"


def framed(text: str, outlet: str) -> str:
    title, body = text.split("\n\n", 1)
    return (f"{title}\n\n{outlet} | World news\n\nBy AFP\n\n{body}\n\nRead more: subscribe to the {outlet} morning "
            f"briefing.\n\nSource: {outlet} and news agencies")


def trimmed(text: str) -> str:
    paragraphs = text.split("\n\n")
    return "\n\n".join(["Latest: " + paragraphs[0].lower().capitalize(), *paragraphs[1:-1]])


def corrected(text: str, edits: list[list[str]]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def extended(text: str, local: str) -> str:
    return f"{text}\n\n{local}"


def pairs(stories: dict) -> list[dict]:
    """(kind, topic, how, a, b) for every pair of the eval."""
    out = []
    for i, (topic, story) in enumerate(stories.items()):
        a, b = story["a"], story["b"]
        copy = [("framed", framed(a, story["outlet"])), ("trimmed", trimmed(a)),
                ("corrected", corrected(a, story["correction"])), ("extended", extended(a, story["local"]))]
        for how, text in (copy[i % 4], copy[(i + 1) % 4]):
            out.append({"kind": "copy", "topic": topic, "how": how, "a": a, "b": text})
        out.append({"kind": "distinct", "topic": topic, "how": "same topic", "a": a, "b": b})
        out.append({"kind": "distinct", "topic": topic, "how": "same topic, same outlet frame",
                    "a": framed(a, story["outlet"]), "b": framed(b, story["outlet"])})
    return out


def measure(stories: dict) -> dict:
    rows = [{**{k: p[k] for k in ("kind", "topic", "how")}, "similarity": round(similarity(p["a"], p["b"]), 4)}
            for p in pairs(stories)]
    copies = [r["similarity"] for r in rows if r["kind"] == "copy"]
    distinct = [r["similarity"] for r in rows if r["kind"] == "distinct"]
    lowest_copy, highest_distinct = min(copies), max(distinct)
    return {
        "command": "python -m eval.quality.duplicates --out eval/reports/duplicates", "commit": git_commit(),
        "shingle_words": SHINGLE_WORDS, "num_perm": NUM_PERM, "pairs": len(rows),
        "copy_pairs": len(copies), "distinct_pairs": len(distinct),
        "lowest_copy": lowest_copy, "highest_distinct": highest_distinct,
        "midpoint": round((lowest_copy + highest_distinct) / 2, 4), "threshold": NEAR_DUPLICATE,
        "copies_found": sum(s >= NEAR_DUPLICATE for s in copies),
        "distinct_flagged": sum(s >= NEAR_DUPLICATE for s in distinct), "rows": rows,
    }


def markdown(report: dict) -> str:
    lines = [
        "# Near-duplicate threshold", "",
        f"`{report['command']}` at commit `{report['commit']}`: MinHash ({report['num_perm']} permutations) of "
        f"{report['shingle_words']}-word shingles, case and accents folded.", "",
        f"- {report['copy_pairs']} wire-copy pairs: lowest similarity {report['lowest_copy']}",
        f"- {report['distinct_pairs']} distinct pairs on one topic: highest similarity {report['highest_distinct']}",
        f"- threshold `index.duplicates.NEAR_DUPLICATE` = {report['threshold']} (the gap's midpoint is "
        f"{report['midpoint']}): {report['copies_found']} of {report['copy_pairs']} copies found, "
        f"{report['distinct_flagged']} of {report['distinct_pairs']} distinct pairs flagged", "",
        "| kind | topic | how | similarity |", "|---|---|---|---|",
    ]
    lines += [f"| {r['kind']} | {r['topic']} | {r['how']} | {r['similarity']} |" for r in report["rows"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.quality.duplicates", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write report.json and report.md here")
    args = parser.parse_args(argv)
    report = measure(json.loads(STORIES.read_text(encoding="utf-8")))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (args.out / "report.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
