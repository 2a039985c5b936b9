"""Numbers read out of text anyone may write: ASCII digits, and issue numbers in range."""

from __future__ import annotations

import pytest

from bot.numbers import MAX_ISSUE_NUMBER, issue_number, natural


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("12", 12), ("007", 7), ("9" * 19, 10**19 - 1)],
)
def test_ascii_digits_are_a_number(text: str, expected: int) -> None:
    assert natural(text) == expected


# "١٢" is 12 to `int`, "²" is a digit to `str.isdigit` that `int` refuses
@pytest.mark.parametrize(
    "text", ["", "-1", "+1", " 1", "1 ", "1.0", "1_000", "١٢", "²", "1\n", "1" * 20, "9" * 5000]
)
def test_anything_else_is_none(text: str) -> None:
    assert natural(text) is None


def test_an_issue_number_is_one_the_store_can_hold() -> None:
    assert issue_number("1") == 1
    assert issue_number(str(MAX_ISSUE_NUMBER)) == MAX_ISSUE_NUMBER == 2**31 - 1
    assert issue_number(str(MAX_ISSUE_NUMBER + 1)) is None
    assert issue_number("0") is None
    assert issue_number(str(10**30)) is None
    assert issue_number("١٢") is None
