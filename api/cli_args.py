"""Arguments the `qa` commands share: the settings of a run and the filter options (one module, so the command
modules import it and not each other)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from qa.config import Settings

if TYPE_CHECKING:
    from index.filters import Filters


def settings_of(args: argparse.Namespace) -> Settings:
    """The run's settings: the environment's, with ``--index-dir`` when given."""
    overrides = {"index_dir": args.index_dir} if getattr(args, "index_dir", None) else {}
    return Settings(**overrides)


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """``--since``, ``--until`` and ``--source``, as the HTTP API takes them."""
    p.add_argument("--since", help="only articles published on or after this date (YYYY-MM-DD)")
    p.add_argument("--until", help="only articles published on or before this date (YYYY-MM-DD)")
    p.add_argument("--source", help="only articles whose site name or author (a wire: AFP), URL host (or its first "
                                    "label or a suffix of it) or doc_id prefix is this")


def filters_of(args: argparse.Namespace) -> Filters | None:
    """The validated filters of ``add_filter_arguments`` (InvalidInputError when malformed), None when none."""
    from index.filters import Filters

    return Filters.parse(args.since, args.until, args.source)
