"""Print rows as an aligned text table or as JSON, the two shapes every operator command has."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

#: a table cell, or a JSON value: a time is a UTC `datetime` (to the minute in a table,
#: ISO 8601 in JSON)
Cell = str | int | float | bool | datetime | None


def printable(text: str) -> str:
    """`text` with control and formatting characters escaped (`\\x1b`, `\\n`, `\\u202e`):
    stored strings come from GitHub and models, and must not drive the operator's terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def when(timestamp: float | None) -> str:
    """A store timestamp as UTC, to the minute."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


def moment(timestamp: float | None) -> datetime | None:
    """A store timestamp as an aware UTC time, for a cell."""
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def iso(timestamp: float | None) -> str | None:
    """A store timestamp in ISO 8601, UTC (`2026-01-31T12:00:00Z`), for JSON."""
    return None if timestamp is None else _iso(datetime.fromtimestamp(timestamp, UTC))


def write_json(out: TextIO, document: object) -> None:
    """`document` as indented JSON, its times in ISO 8601 UTC."""
    out.write(json.dumps(document, indent=2, default=_json_value) + "\n")


def dollars(amount: float) -> str:
    return f"${amount:.4f}" if amount < 1 else f"${amount:.2f}"


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Columns padded to their widest cell; numbers aligned right."""
    text = [[cell_text(cell) for cell in row] for row in rows]
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
        write_json(out, [dict(zip(columns, row, strict=True)) for row in rows])
    elif rows:
        out.write(render_table(columns, rows))
    else:
        out.write(f"({empty})\n")


def cell_text(cell: Cell) -> str:
    """A cell as a table shows it: printable, a time to the minute, money to 4 places."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M")
    if isinstance(cell, float):
        return f"{cell:.4f}"
    return printable(str(cell))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
