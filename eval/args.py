"""Argument types shared by the eval commands: counts that say what was wrong instead of failing deep inside."""

from __future__ import annotations

import argparse


def count(text: str) -> int:
    """A whole number of questions, 0 or more (``--cross 0`` skips the cross set)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def positive(text: str) -> int:
    """A whole number of questions, 1 or more (a ``--limit``)."""
    n = count(text)
    if n == 0:
        raise argparse.ArgumentTypeError("must be 1 or more, got 0")
    return n
