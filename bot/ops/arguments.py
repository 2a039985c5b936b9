"""Argument types for `triad`'s numbers: a value out of range is one clear line, never a
traceback from the socket or the database later."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.numbers import MAX_ID, natural


def whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type accepting whole numbers from `low` to `high`, named `what` when not."""

    def parse(text: str) -> int:
        value = natural(text)
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in some of its messages
    return parse


port = whole_number(1, 65535, "a port (1 to 65535)")
job_id = whole_number(1, MAX_ID, "a job id")
limit = whole_number(1, 1_000_000, "a number of rows (1 or more)")
