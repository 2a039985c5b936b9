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


@pytest.mark.parametrize(
    "body",
    [
        "Look at what I did:\n```\n/triad stop\n```",
        "~~~~text\n/triad stop\n~~~\nstill in\n~~~~",
        "```\nunclosed\n/triad stop",
        "<!-- /triad stop -->",
        "<!--\n/triad stop\n-->",
        "hidden <!-- x -->/triad stop",
        "<!-- x -->/triad stop",
        ">> /triad stop",
        "   > /triad stop",
        "    /triad stop",
        "\t/triad stop",
        "ok <!--\n/triad stop\n-->",
    ],
)
def test_commands_in_code_comments_quotes_or_indented_code_do_not_count(body: str) -> None:
    assert parse_command(body) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("```\n/triad stop\n```\n/triad status", Command("status")),
        ("<!-- note -->\n/triad fix now", Command("fix", "now")),
        ("> /triad stop\n\n/triad resume go", Command("resume", "go")),
        ("```py\nx\n````\n/triad stop\n", Command("stop")),
        ("````\n```\n/triad stop\n````", None),
        ("~~~\n```\n~~~\n/triad stop", Command("stop")),
    ],
)
def test_commands_after_a_block_ends_count(body: str, expected: Command | None) -> None:
    assert parse_command(body) == expected
