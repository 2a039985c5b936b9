"""Reading `/triad` commands out of comment bodies."""

from __future__ import annotations

import pytest

from bot.workflow.commands import Command, parse_command


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/triad revise", Command("revise")),
        (
            "Thanks!\n\n/triad revise use SQLite, not Redis\nmore",
            Command("revise", "use SQLite, not Redis"),
        ),
        ("  /triad STATUS", Command("status")),
        ("/triad", Command("help")),
        ("/triad stop\n/triad revise", Command("stop")),
    ],
)
def test_the_first_command_line_counts(body: str, expected: Command) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    "body", [None, "", "no command", "> /triad revise", "see `/triad revise`", "/triadic"]
)
def test_text_without_a_command_line_is_not_a_command(body: str | None) -> None:
    assert parse_command(body) is None
