"""Reading `/triad` commands out of comment bodies."""

from __future__ import annotations

import pytest

from bot.workflow.commands import READ_CHARS, READ_LINES, Command, parse_command


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


@pytest.mark.parametrize(
    "body",
    [
        # fences nested in list items, indented past three spaces
        "1. Try this:\n\n    ```\n    /triad stop\n    ```",
        "- step\n\n  ~~~\n  /triad stop\n  ~~~",
        "- a\n  - b\n\n        ```\n        /triad stop\n        ```",
        "- ```\n  /triad stop\n  ```",
        "* ~~~\n  /triad stop\n  ~~~",
        "1. ````\n   ```\n   /triad stop\n   ````",
        # a longer fence is closed only by one at least as long
        "`````\n````\n/triad stop\n`````",
        "~~~~\n~~~\n/triad stop\n~~~~",
        # a lazy continuation line is still part of the quote
        "> quoted from @mallory\n/triad stop",
        "- > quoted in a list\n  /triad stop",
        # HTML blocks and elements that show code
        "<pre>\n/triad stop\n</pre>",
        "<code>\n/triad stop\n</code>",
        "<details>\n/triad stop\n</details>",
        "see <code>\n/triad stop</code>",
        "x <pre>\n\n/triad stop\n\n</pre>",
        "<blockquote>\n\n/triad stop\n\n</blockquote>",
        # HTML comments over several lines, opened mid-paragraph
        "ok <!--\nfirst\n/triad stop\n-->",
        "<!--\n\n/triad stop\n\n-->",
        # a code span over two lines
        "run `\n/triad stop` to stop",
        # a list item's own first line starts with its marker, not the command
        "- /triad stop",
        "1. /triad stop",
        # escaped or entity-encoded: not what a person types as a command
        "\\/triad stop",
        "&#47;triad stop",
        # a heading is not a line of text
        "# /triad stop",
        "/triad stop\n---",
    ],
)
def test_commands_hidden_by_markdown_structure_do_not_count(body: str) -> None:
    assert parse_command(body) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("- a list\n\n  /triad stop", Command("stop")),
        ("- a list\n  /triad stop", Command("stop")),
        ("> a quote\n\n/triad stop", Command("stop")),
        ("<div>\n\n/triad stop\n\n</div>", Command("stop")),
        ("<pre>\n/triad stop\n</pre>\n\n/triad status", Command("status")),
        (
            "text <!-- x -->\n/triad fix the *docs* & `tests`",
            Command("fix", "the *docs* & `tests`"),
        ),
        (
            "/triad revise see [the guide](https://x.test/g) \\& more",
            Command("revise", "see [the guide](https://x.test/g) \\& more"),
        ),
        ("Thanks!\r\n\r\n/triad resume allow\r\n", Command("resume", "allow")),
    ],
)
def test_commands_typed_as_text_count_wherever_markdown_keeps_them_text(
    body: str, expected: Command
) -> None:
    assert parse_command(body) == expected


def test_a_command_line_on_a_tab_indented_list_line_or_after_a_lone_cr_counts() -> None:
    assert parse_command("- an item\n\n\t/triad stop") == Command("stop")
    assert parse_command("Thanks\r/triad stop") == Command("stop")


def test_only_the_head_of_a_long_comment_is_read_and_hostile_markdown_is_read_to_the_end() -> None:
    filler = "".join(f"line {n}\n" for n in range(READ_LINES))
    assert parse_command(filler + "/triad stop") is None
    assert parse_command("x" * READ_CHARS + "\n/triad stop") is None
    # a cut inside a fence leaves the fence open: what follows stays code
    assert parse_command("```\n" + filler + "```\n/triad stop") is None
    hostile = [  # as in bench/command_parse.py, which measures what they cost
        "/triad x\n\n" + _lines("["),
        "/triad x\n\n" + _lines("*a"),
        "/triad x\n\n" + _lines("[a]("),
        "/triad x\n" + "- a\n" * 16_000,
        "/triad x\n" + "a\n\n" * 21_000,
        "/triad x\n\n" + _lines("<a"),
        "/triad x\n\n<div>\n" + "<code" * 3000,
        "/triad x\n\n<div>\n" + _lines("<code title='</code>'>"),
    ]
    for body in hostile:
        command = parse_command(body)
        assert command is not None and command.name == "x"


def _lines(unit: str) -> str:
    """65 kB of `unit` in 100-character lines of one paragraph."""
    line = unit * (100 // len(unit))
    return "\n".join([line] * (65_000 // len(line)))


def test_hostile_html_is_read_as_html() -> None:
    assert parse_command("<div>\n" + "<code" * 3000 + "\n\n/triad stop") is None
    assert parse_command("/triad x\n\n<div>\n" + "<a" * 7000) == Command("x")


#: 298 lines before the last two that a cut at `READ_LINES` keeps
_BEFORE_CUT = "p\n\n" * ((READ_LINES - 2) // 2)


@pytest.mark.parametrize(
    "body",
    [
        # what follows the cut would make the paragraph reaching it something else
        _BEFORE_CUT + "a\n/triad stop\n===\nmore",  # a setext heading
        _BEFORE_CUT + "`a\n/triad stop\nb` c",  # a code span
        _BEFORE_CUT + "a <!-- b\n/triad stop\n-->",  # an HTML comment
        _BEFORE_CUT + "a\n/triad stop | b\n--- | ---",  # a table's header row
        # a character cut mid-line makes `stopwatch` read `stop`
        "a" * (READ_CHARS - 12) + "\n/triad stopwatch the timer",
        "/triad stopwatch" + "x" * READ_CHARS,
    ],
)
def test_a_cut_never_makes_a_command(body: str) -> None:
    assert len(body.split("\n")) > READ_LINES or len(body) > READ_CHARS
    assert parse_command(body) is None


def test_a_command_before_the_cut_still_counts() -> None:
    beyond = "more\n" * READ_LINES
    assert parse_command("/triad stop\n\n" + beyond) == Command("stop")
    assert parse_command(_BEFORE_CUT + "/triad stop\n\n" + beyond) == Command("stop")
    assert parse_command("/triad stop\n\n" + "x" * READ_CHARS) == Command("stop")
    # only blank lines past the last line read: nothing was cut
    assert parse_command(_BEFORE_CUT + "x\n/triad stop\n \n\n") == Command("stop")


def test_unicode_space_before_a_command_is_not_typed_text() -> None:
    # markdown-it strips any Unicode space from a paragraph's start: the line as typed counts
    assert parse_command("\u00a0/triad stop") is None
    assert parse_command("```\n/triad x\n```\n\u00a0/triad stop") is None
    assert parse_command("/triad\n\n\u2003/triad stop") == Command("help")
    assert parse_command("a\n\u00a0/triad stop\n\n/triad") == Command("help")


@pytest.mark.parametrize(
    "body",
    [
        "<details>\n\n/triad stop\n\n</details>",
        "<details><summary>log</summary>\n\n/triad stop\n</details>",
        '<code title="</code>">\n\n/triad stop',
        'a <code title="</code>">\n/triad stop',
        "<pre data-x='</pre>'>\n\n/triad stop",
        # GitHub renders `$$ … $$` as math, not as text typed
        "$$\n/triad stop\n$$",
        "Math: $$x\n/triad stop\n$$",
    ],
)
def test_commands_in_hidden_or_rendered_html_and_math_do_not_count(body: str) -> None:
    assert parse_command(body) is None


def test_commands_after_html_or_math_ends_count() -> None:
    assert parse_command("<details>\n\nx\n\n</details>\n\n/triad stop") == Command("stop")
    assert parse_command("$$x$$\n/triad stop") == Command("stop")
    assert parse_command("It costs $5\n/triad stop") == Command("stop")
    assert parse_command('<a title="<code>">\n\n/triad stop') == Command("stop")
