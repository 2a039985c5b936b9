"""`/triad <command>` lines in comments: only lines a person typed as a command count.

A command is a line of paragraph text that starts with `/triad`, as GitHub's Markdown
(CommonMark with tables) reads the comment: never inside code (fenced, indented, a code span,
`<pre>`, `<code>`), an HTML block or comment, a quote (lazy continuation lines included) or a
heading. A list item's text counts, but not its first line, which starts with the item's marker.
So a command quoted from someone else, shown in an example or hidden in a comment never acts.
Parsing is markdown-it-py's, which follows the CommonMark spec exactly: hand-written rules for
fences, quotes and HTML each missed a case.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

KNOWN_COMMANDS = ("status", "revise", "stop", "fix", "redesign", "resume", "review")
_COMMAND_LINE = re.compile(r"^/triad(?=[ \t]|$)(?:[ \t]+(\S+))?[ \t]*(.*)$")
#: stands for what a person did not type as plain text (the parser turns NUL in the input
#: into U+FFFD, so no comment can hold it)
_NOT_TEXT = "\x00"
#: HTML elements whose content is shown as code or as a quote, not as typed text
_HIDING = frozenset(
    {"code", "pre", "kbd", "samp", "tt", "var", "xmp", "listing", "plaintext", "textarea",
     "script", "style", "blockquote", "q"}
)  # fmt: skip
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""

    @property
    def known(self) -> bool:
        return self.name in KNOWN_COMMANDS


def parse_command(body: str | None) -> Command | None:
    """The first `/triad` command line in a comment, or None."""
    if not body or "/triad" not in body:  # most comments: no parse at all
        return None
    for line in typed_lines(body):
        match = _COMMAND_LINE.match(line)
        if match is not None:
            return Command(name=(match.group(1) or "help").lower(), argument=match.group(2).strip())
    return None


@functools.cache
def _markdown() -> MarkdownIt:
    """GitHub renders tables and strikethrough too; escapes and entities stay apart from the
    text (`text_join` off), so `\\/triad` or `&#47;triad` is never taken for a typed `/triad`.
    Imported on first use: most processes start and most comments hold no `/triad`."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("text_join")


def typed_lines(body: str) -> Iterator[str]:
    """The lines of paragraph text in `body` outside quotes, as typed; a line that does not
    start with plain text (markup, an escape, an open `<code>`, a list marker) starts with
    `_NOT_TEXT`."""
    tokens = _markdown().parse(body)
    quotes = 0
    hiding = 0  # HTML elements open that show their content as code or a quote
    items: list[int] = []  # the first source line of each list item we are in
    for at, token in enumerate(tokens):
        match token.type:
            case "blockquote_open":
                quotes += 1
            case "blockquote_close":
                quotes -= 1
            case "list_item_open":
                items.append(token.map[0] if token.map else -1)
            case "list_item_close":
                items.pop()
            case "html_block":
                hiding = _still_hiding(token.content, hiding)
            case "inline":
                lines, hiding = _text_lines(token.children or [], hiding)
                opening = tokens[at - 1]
                if opening.type != "paragraph_open" or quotes:
                    continue
                if items and opening.map and opening.map[0] == items[-1]:
                    lines[0] = _NOT_TEXT + lines[0]  # follows the item's marker
                yield from lines


def _text_lines(children: Sequence[Token], hiding: int) -> tuple[list[str], int]:
    """A paragraph's lines as typed, and the hiding elements still open after it."""
    lines: list[str] = []
    line: list[str] = []
    links: list[Token] = []
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            lines.append("".join(line))
            line = []
            continue
        if not line and (hiding or child.type != "text"):
            line.append(_NOT_TEXT)
        if child.type == "html_inline":
            hiding = _still_hiding(child.content, hiding)
        if child.type == "link_open":
            links.append(child)
        opened = links.pop() if child.type == "link_close" and links else None
        line.append(_as_typed(child, opened))
    lines.append("".join(line))
    return lines, hiding


def _as_typed(token: Token, link: Token | None) -> str:
    """The Markdown a person typed for `token` (close enough for a command's argument)."""
    match token.type:
        case "text" | "html_inline":
            return token.content
        case "code_inline":
            return token.markup + token.content + token.markup
        case "image":
            return f"![{token.content}]({token.attrs.get('src', '')})"
        case "link_open":
            return "<" if token.markup == "autolink" else "["
        case "link_close":
            if token.markup == "autolink":
                return ">"
            return f"]({link.attrs.get('href', '') if link else ''})"
        case _:
            return token.markup  # escapes and entities as typed, emphasis marks


def _still_hiding(html: str, hiding: int) -> int:
    """`hiding` after the tags in `html` open or close code-like elements."""
    for closing, name, self_closing in _TAG.findall(_HTML_COMMENT.sub("", html)):
        if name.lower() not in _HIDING or self_closing:
            continue
        hiding = max(0, hiding - 1) if closing else hiding + 1
    return hiding
