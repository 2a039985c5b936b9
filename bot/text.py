"""Text for one line of a table, a problem or a comment (pure)."""

from __future__ import annotations


def one_line(text: str, width: int) -> str:
    """`text` with its whitespace folded to single spaces, cut to `width` with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
