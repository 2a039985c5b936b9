"""Print rows as an aligned text table or as JSON, the two shapes every operator command has."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

Cell = str | int | float | bool | None


def printable(text: str) -> str:
    """`text` with control and formatting characters escaped (`\\x1b`, `\\n`, `\\u202e`):
    stored strings come from GitHub and models, and must not drive the operator's terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def when(timestamp: float | None) -> str:
    """A store timestamp as UTC, to the minute."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


def dollars(amount: float) -> str:
    return f"${amount:.4f}" if amount < 1 else f"${amount:.2f}"


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Columns padded to their widest cell; numbers aligned right."""
    text = [[_text(cell) for cell in row] for row in rows]
    widths = [len(column) for column in columns]
    for row in text:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(columns))
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line([c.upper() for c in columns]), *(line(row) for row in text)]) + "\n"


def emit(
    out: TextIO,
    columns: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    as_json: bool,
    empty: str = "nothing to show",
) -> None:
    """Write `rows` as JSON objects keyed by column, or as a table (`empty` when none)."""
    if as_json:
        out.write(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2))
        out.write("\n")
    elif rows:
        out.write(render_table(columns, rows))
    else:
        out.write(f"({empty})\n")


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return f"{cell:.4f}"
    return printable(str(cell))
