"""`/triad <command>` lines in comments: only lines a person typed as a command count.

A command is a line that starts with `/triad` (after at most three spaces, as Markdown allows
before a paragraph), outside fenced code blocks, HTML comments and quotes: a command quoted
from someone else, shown in an example or hidden in a comment never acts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

KNOWN_COMMANDS = ("status", "revise", "stop", "fix", "redesign", "resume", "review")
_COMMAND_LINE = re.compile(r"^ {0,3}/triad(?=[ \t]|$)(?:[ \t]+(\S+))?[ \t]*(.*)$")
#: a fence opens with three or more backticks or tildes (after at most three spaces)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""

    @property
    def known(self) -> bool:
        return self.name in KNOWN_COMMANDS


def parse_command(body: str | None) -> Command | None:
    """The first `/triad` command line in a comment, or None."""
    if not body:
        return None
    for line in typed_lines(body):
        match = _COMMAND_LINE.match(line)
        if match is not None:
            return Command(name=(match.group(1) or "help").lower(), argument=match.group(2).strip())
    return None


def typed_lines(body: str) -> Iterator[str]:
    """The lines of `body` outside fenced code blocks, HTML comments and quotes."""
    fence: str | None = None
    in_comment = False
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw
        if fence is not None:
            closing = _FENCE.match(line)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not line.strip().lstrip(fence[0])
            ):
                fence = None
            continue
        if in_comment:
            end = line.find("-->")
            if end < 0:
                continue
            in_comment = False
            line = "\x00" + line[end + 3 :]
        line, in_comment = _outside_comments(line)
        opening = _FENCE.match(line)
        if opening is not None:
            fence = opening.group(1)
            continue
        if _QUOTE.match(line):
            continue
        yield line


def _outside_comments(line: str) -> tuple[str, bool]:
    """`line` without its HTML comments, and whether a comment stays open past its end.

    A comment that opens mid-line hides the rest of the line, so `x <!-- /triad stop` never
    counts; text before it keeps its place (a command must still start the line).
    """
    kept = ""
    while True:
        start = line.find("<!--")
        if start < 0:
            return kept + line, False
        end = line.find("-->", start + 4)
        if end < 0:
            return kept + line[:start], True
        # the comment is replaced by a character that can never start a command
        kept += line[:start] + "\x00"
        line = line[end + 3 :]
