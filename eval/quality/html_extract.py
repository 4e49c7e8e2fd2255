"""Which extractor keeps the article of a saved news page and drops its boilerplate: trafilatura or readability-lxml?

    python -m eval.quality.html_extract [--pages DIR] [--extractors trafilatura,readability] [--out DIR]

A quality eval (not a benchmark). Each page ``NAME.html`` under ``--pages`` (default ``eval/data/html/``) comes with
``NAME.txt``, its article text as a reader sees it (paragraphs, no headline, byline or captions), and
``NAME.boilerplate.txt``, one line per piece of text on the page that is not the article (navigation, footer, cookie
banner, comments, related links, ads, share buttons). Every extractor turns each page into text; for each page the
score is the share of the article's sentences (split as ``index.chunking`` splits them) found verbatim in that text and
the share of the boilerplate lines found in it. ``trafilatura`` is what ``index/`` indexes (``index.formats``);
``readability`` is readability-lxml's ``Document.summary()`` turned into text (the optional ``eval`` extra:
``pip install -e '.[eval]'``). Prints the tables; ``--out DIR`` also writes report.json and report.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from eval.quality.metrics import mean
from eval.report_files import ROOT, git_commit, save_report
from index.chunking import split_sentences
from index.errors import InvalidInputError

PAGES = ROOT / "eval" / "data" / "html"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BLOCK_MARK, _BR_MARK = "\ue000", "\ue001"  # private-use characters, in no page's text
# readability's summary keeps the article's HTML: these elements are paragraphs of their own
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "td", "th",
               "article", "section", "header", "footer", "aside", "figure", "figcaption", "dd", "dt")


@dataclass(frozen=True, slots=True)
class Page:
    """A saved page with what a reader calls its article and the boilerplate lines around it."""

    name: str
    html: str
    sentences: tuple[str, ...]
    boilerplate: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Score:
    """How much of one page's article an extractor kept, and how much of its boilerplate."""

    sentences: int
    sentences_kept: int  # found in the extracted text, whatever its line breaks
    sentences_intact: int  # found inside one paragraph: not cut by a paragraph break the page does not have
    boilerplate: int
    boilerplate_kept: int
    missed: tuple[str, ...]  # article sentences not in the extracted text
    broken: tuple[str, ...]  # article sentences kept but cut by a paragraph break
    leaked: tuple[str, ...]  # boilerplate lines in the extracted text

    @property
    def kept(self) -> float:
        return self.sentences_kept / self.sentences if self.sentences else 1.0

    @property
    def intact(self) -> float:
        return self.sentences_intact / self.sentences if self.sentences else 1.0

    @property
    def leak(self) -> float:
        return self.boilerplate_kept / self.boilerplate if self.boilerplate else 0.0


def _flat(text: str) -> str:
    return " ".join(text.split())


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs (separated by blank lines), whitespace runs inside each made one space."""
    return [p for p in (_flat(x) for x in _BLANK_LINE.split(text)) if p]


def score_extraction(extracted: str, sentences: Sequence[str], boilerplate: Sequence[str]) -> Score:
    """Which article sentences and which boilerplate lines occur verbatim in the extracted text (case-sensitive,
    whitespace-insensitive; a plain substring, so a line glued to the next one's first word still counts), and which
    kept sentences a paragraph break cuts (``index/`` would split them into two sentences and passages)."""
    paras = paragraphs(extracted)
    flat = " ".join(paras)
    missed = tuple(s for s in sentences if _flat(s) not in flat)
    broken = tuple(s for s in sentences if s not in missed and not any(_flat(s) in p for p in paras))
    leaked = tuple(b for b in boilerplate if _flat(b) in flat)
    n = len(sentences)
    return Score(n, n - len(missed), n - len(missed) - len(broken), len(boilerplate), len(leaked), missed, broken,
                 leaked)


# ---- extractors ------------------------------------------------------------------------------------------------
def trafilatura_text(html: str) -> str:
    """The text ``index/`` indexes for a page (trafilatura, as ``index.formats.extract_html`` calls it)."""
    from index.formats import extract_html

    try:
        return extract_html(html).text
    except InvalidInputError:  # "no visible text": it kept nothing
        return ""


def readability_text(html: str) -> str:
    """readability-lxml's article HTML (``Document.summary()``) as text: a paragraph per block element, blank lines
    between them, a ``<br>`` a line break (what ``index.formats`` makes of trafilatura's output)."""
    from lxml.html import fromstring
    from readability import Document as Readable

    summary = Readable(html).summary(html_partial=True)
    if not summary.strip():
        return ""
    tree = fromstring(summary)
    # the page's own line breaks inside a block are only whitespace: mark the real breaks before reading the text
    for element in tree.iter(*_BLOCK_TAGS):
        if element.tag == "br":
            element.tail = _BR_MARK + (element.tail or "")
        else:
            element.text = _BLOCK_MARK + (element.text or "")
            element.tail = _BLOCK_MARK + (element.tail or "")
    blocks = ("\n".join(_flat(line) for line in block.split(_BR_MARK)).strip()
              for block in tree.text_content().split(_BLOCK_MARK))
    return "\n\n".join(b for b in blocks if b)


EXTRACTORS: dict[str, Callable[[str], str]] = {"trafilatura": trafilatura_text, "readability": readability_text}


def extractor(name: str) -> Callable[[str], str]:
    if name not in EXTRACTORS:
        raise InvalidInputError(f"unknown extractor {name!r}; choose from {', '.join(EXTRACTORS)}")
    return EXTRACTORS[name]


# ---- pages -----------------------------------------------------------------------------------------------------
def load_page(html_path: Path) -> Page:
    """A page and its two sidecars; a boilerplate line that also occurs in the article would count the article
    against the extractor, so it is refused."""
    article = html_path.with_name(f"{html_path.stem}.txt").read_text(encoding="utf-8")
    listed = html_path.with_name(f"{html_path.stem}.boilerplate.txt").read_text(encoding="utf-8")
    boilerplate = tuple(line.strip() for line in listed.splitlines() if line.strip())
    flat = _flat(article)
    clash = [b for b in boilerplate if _flat(b) in flat]
    if clash:
        raise InvalidInputError(f"{html_path.name}: boilerplate lines occur in the article text: {clash}")
    sentences = tuple(_flat(s.text) for s in split_sentences(html_path.stem, article))
    return Page(html_path.stem, html_path.read_text(encoding="utf-8"), sentences, boilerplate)


def load_pages(folder: Path = PAGES) -> list[Page]:
    pages = [load_page(p) for p in sorted(folder.glob("*.html"))]
    if not pages:
        raise InvalidInputError(f"no .html pages in {folder}")
    return pages


# ---- run and report --------------------------------------------------------------------------------------------
def evaluate(pages: Sequence[Page], names: Sequence[str]) -> dict[str, dict[str, Score]]:
    """Scores per extractor, per page."""
    return {name: {page.name: score_extraction(extractor(name)(page.html), page.sentences, page.boilerplate)
                   for page in pages} for name in names}


def summary(scores: dict[str, dict[str, Score]]) -> dict[str, dict[str, float]]:
    """Per extractor, means over the pages (each page counts once; ``leak`` over the pages that have boilerplate) of
    the shares of article sentences kept and kept intact and of boilerplate lines kept."""
    out = {}
    for name, per_page in scores.items():
        s = list(per_page.values())
        out[name] = {"kept": round(mean([x.kept for x in s]), 4), "intact": round(mean([x.intact for x in s]), 4),
                     "leak": round(mean([x.leak for x in s if x.boilerplate]), 4)}
    return out


def better(totals: dict[str, dict[str, float]]) -> str | None:
    """The extractor at least as good as every other on all three means (kept, intact: higher; leak: lower) and
    strictly better on one, or None when none is."""
    def at_least(a: dict[str, float], b: dict[str, float]) -> bool:
        return a["kept"] >= b["kept"] and a["intact"] >= b["intact"] and a["leak"] <= b["leak"]

    for name, t in totals.items():
        others = [o for n, o in totals.items() if n != name]
        if others and all(at_least(t, o) and t != o for o in others):
            return name
    return None


def render(pages: Sequence[Page], scores: dict[str, dict[str, Score]], commit: str = "") -> str:
    names = list(scores)
    totals = summary(scores)
    winner = better(totals)
    lines = ["# HTML extraction: article kept, boilerplate dropped", "",
             f"`python -m eval.quality.html_extract --out eval/reports/html_extract` at commit `{commit}`, "
             "on the pages of `eval/data/html/`. "
             "**kept**: share of the article's sentences found verbatim in the extracted text (higher is better); "
             "**intact**: share found inside one paragraph, not cut in two by a paragraph break the page does not "
             "have (`index/` would split such a sentence); **leaked**: share of the page's boilerplate lines found "
             "in it (lower is better).", "",
             "| extractor | kept | intact | leaked |", "|---|---:|---:|---:|"]
    lines += [f"| {n} | {t['kept']:.3f} | {t['intact']:.3f} | {t['leak']:.3f} |" for n, t in totals.items()]
    lines += ["", f"Better on every mean: **{winner}**." if winner else "No extractor is better on every mean.", "",
              "| page | sentences | boilerplate lines | "
              + " | ".join(f"{n} kept | {n} intact | {n} leaked" for n in names) + " |",
              "|---|---:|---:|" + "---:|---:|---:|" * len(names)]
    for page in pages:
        cells = [f"{sc.kept:.2f} | {sc.intact:.2f} | {sc.leak:.2f}" for sc in (scores[n][page.name] for n in names)]
        lines.append(f"| {page.name} | {len(page.sentences)} | {len(page.boilerplate)} | " + " | ".join(cells) + " |")
    lines += ["", "## What each extractor missed, cut and leaked", ""]
    for n in names:
        for page in pages:
            sc = scores[n][page.name]
            lines += [f"- {n}, {page.name}, missed: {x}" for x in sc.missed]
            lines += [f"- {n}, {page.name}, cut by a paragraph break: {x}" for x in sc.broken]
            lines += [f"- {n}, {page.name}, leaked: {x}" for x in sc.leaked]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.quality.html_extract", description=__doc__.split("\n")[0])
    p.add_argument("--pages", type=Path, default=PAGES, help="folder of NAME.html + NAME.txt + NAME.boilerplate.txt")
    p.add_argument("--extractors", default="trafilatura,readability", help="comma-separated, from "
                                                                          + ", ".join(EXTRACTORS))
    p.add_argument("--out", type=Path, default=None, help="write report.json and report.md here")
    args = p.parse_args(argv)
    try:
        names = [n.strip() for n in args.extractors.split(",") if n.strip()]
        for name in names:
            extractor(name)
        pages = load_pages(args.pages)
        scores = evaluate(pages, names)
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # readability-lxml is an optional extra
        print(f"error: {exc.name} is not installed; .venv/bin/pip install -e '.[eval]'", file=sys.stderr)
        return 2
    md = render(pages, scores, git_commit())
    print(md)
    if args.out:
        data = {"commit": git_commit(),
                "pages": {page.name: {"sentences": len(page.sentences), "boilerplate": len(page.boilerplate)}
                          for page in pages},
                "summary": summary(scores), "better": better(summary(scores)),
                "scores": {n: {page: {**asdict(s), "kept": round(s.kept, 4), "intact": round(s.intact, 4),
                                      "leak": round(s.leak, 4)}
                               for page, s in per_page.items()} for n, per_page in scores.items()}}
        save_report(args.out, data, md)
        print(json.dumps({"written": str(args.out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
