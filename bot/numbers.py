"""Issue numbers and counts read out of text anyone may write: branch names, a check run's
`external_id`, a commit's trailers, a notice.

ASCII digits only: `str.isdigit` and a regex's `\\d` take any script's digits too ("١٢" is 12
to `int`, and "²" is a digit to `isdigit` that `int` refuses). An issue number is in range or
it is none: a fork's branch `triad/issue-99999999999999999999` must not reach a store whose
columns hold 32-bit numbers, where it would fail the delivery rather than be ignored.
"""

from __future__ import annotations

import re

#: issue and pull request numbers are stored as 32-bit integers (PostgreSQL INTEGER), as
#: GitHub's are
MAX_ISSUE_NUMBER = 2**31 - 1

#: the largest id either store can hold (SQLite INTEGER, PostgreSQL BIGINT), as GitHub's
#: ids are 64-bit
MAX_ID = 2**63 - 1

#: ASCII digits, for patterns that capture a number (`re`'s `\d` takes any script's)
DIGITS = "[0-9]+"

#: at most 19 digits: every 64-bit id has no more, and `int` refuses a text of over 4300 (a
#: `ValueError` from a number written out)
_NATURAL = re.compile("[0-9]{1,19}")


def natural(text: str) -> int | None:
    """`text` as a whole number written in at most 19 ASCII digits, or None."""
    return int(text) if _NATURAL.fullmatch(text) else None


def issue_number(text: str) -> int | None:
    """`text` as an issue or pull request number (1 to `MAX_ISSUE_NUMBER`), or None."""
    number = natural(text)
    return number if number is not None and 1 <= number <= MAX_ISSUE_NUMBER else None


def over(declared: str, limit: int) -> bool:
    """Whether `declared` (a Content-Length) is a number over `limit`: ASCII digits only, and
    any of more than 19 is over (`int` refuses a text of over 4300)."""
    digits = declared.isascii() and declared.isdigit()
    return digits and (len(declared) > 19 or int(declared) > limit)
