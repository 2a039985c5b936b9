"""`/triad <command>` lines in comments."""

from __future__ import annotations

import re
from dataclasses import dataclass

KNOWN_COMMANDS = ("status", "revise", "stop", "fix", "redesign", "resume", "review")
_COMMAND_LINE = re.compile(r"^[ \t]*/triad(?=\s|$)(?:[ \t]+(\S+))?[ \t]*(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""

    @property
    def known(self) -> bool:
        return self.name in KNOWN_COMMANDS


def parse_command(body: str | None) -> Command | None:
    """The first `/triad` command in a comment, or None; quoted lines (`> /triad`) don't count."""
    if not body:
        return None
    match = _COMMAND_LINE.search(body)
    if match is None:
        return None
    return Command(name=(match.group(1) or "help").lower(), argument=match.group(2).strip())
