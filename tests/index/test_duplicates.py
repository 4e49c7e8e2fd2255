"""Duplicate detection: exact keys, MinHash similarity against the threshold the committed eval chose, the finder."""

from __future__ import annotations

import json

from eval.quality.duplicates import STORIES, framed, measure
from eval.report_files import ROOT
from index.duplicates import NEAR_DUPLICATE, DuplicateFinder, Match, similarity, text_key

HARBOR = json.loads(STORIES.read_text(encoding="utf-8"))["harbor_bridge"]


def test_the_exact_key_ignores_line_breaks_and_spacing_only() -> None:
    assert text_key("The council voted.\n\nIt met.") == text_key("The council  voted. It met.")
    assert text_key("The council voted.") != text_key("The Council voted.")


def test_a_wire_copy_is_near_and_another_story_on_the_topic_is_not() -> None:
    copy = framed(HARBOR["a"], "Harborton Herald")
    assert similarity(HARBOR["a"], copy) >= NEAR_DUPLICATE > similarity(HARBOR["a"], HARBOR["b"])


def test_the_committed_report_is_what_the_eval_measures_and_its_threshold_is_the_one_used() -> None:
    committed = json.loads((ROOT / "eval" / "reports" / "duplicates" / "report.json").read_text(encoding="utf-8"))
    measured = measure(json.loads(STORIES.read_text(encoding="utf-8")))
    assert committed["rows"] == measured["rows"]
    assert committed["threshold"] == NEAR_DUPLICATE
    assert committed["lowest_copy"] > NEAR_DUPLICATE > committed["highest_distinct"]


def test_the_finder_finds_exact_then_near_copies_and_forgets_what_sync_drops() -> None:
    finder = DuplicateFinder()
    copy = framed(HARBOR["a"], "Harborton Herald")
    finder.sync({"harbor": ("h1", HARBOR["a"]), "truckers": ("h2", HARBOR["b"])})
    assert finder.find("upload_1", " ".join(HARBOR["a"].split())) == Match("harbor", True, 1.0)
    near = finder.find("herald", copy)
    assert near is not None and (near.doc_id, near.exact) == ("harbor", False) and near.similarity >= NEAR_DUPLICATE
    assert finder.find("harbor", HARBOR["a"]) is None  # itself
    assert finder.find("herald", copy, exclude=["harbor"]) is None
    finder.sync({"truckers": ("h2", HARBOR["b"])})
    assert finder.find("herald", copy) is None
