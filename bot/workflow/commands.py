"""`/triad <command>` lines in comments: only lines a person typed as a command count.

A command is a line of paragraph text that starts with `/triad`, as GitHub's Markdown
(CommonMark with tables) reads the comment: never inside code (fenced, indented, a code span,
`<pre>`, `<code>`), an HTML block or comment, a quote (lazy continuation lines included) or a
heading. A list item's text counts, but not its first line, which starts with the item's marker.
Nor inside HTML that shows its content as code or a quote or hides it (`<details>`; tags are
read by html.parser, so an attribute holding `</code>` closes nothing), nor between `$$` math
delimiters in a paragraph (GitHub renders them as math). So a command quoted from someone else,
shown in an example or hidden in a comment never acts. Parsing is markdown-it-py's, which
follows the CommonMark spec exactly: hand-written rules for fences, quotes and HTML each missed
a case. It is bounded (the first `READ_LINES` lines and `READ_CHARS` characters), since anyone
may post a 65 kB comment that costs seconds to parse; when a comment is cut, its partial last
line and the paragraph that reaches the cut do not count (what follows could make that
paragraph a heading, a table or code, or the cut line's `/triad stopwatch` read `stop`).
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
#: a comment without such a line holds no command (a command line follows no quote or list
#: marker on its line): the parser is not needed
_CANDIDATE = re.compile(r"^[ \t]*/triad(?=[ \t]|$)", re.MULTILINE)
#: what of a comment is read for a command
READ_LINES = 300
READ_CHARS = 16_000
#: stands for what a person did not type as plain text (the parser turns NUL in the input
#: into U+FFFD, so no comment can hold it)
_NOT_TEXT = "\x00"
#: HTML elements whose content is shown as code or as a quote, not as typed text
_HIDING = frozenset(
    {"code", "pre", "kbd", "samp", "tt", "var", "xmp", "listing", "plaintext", "textarea",
     "script", "style", "blockquote", "q", "details"}
)  # fmt: skip
#: an HTML comment, or an element's start or end tag with its attributes (CommonMark's grammar
#: for a tag; `end` is missing when the tag is unfinished); linear: an attribute cannot hold
#: `<` unless quoted, and reading stops at an unfinished tag. A self-closing `<code/>` counts
#: as a start: it hides more.
_HTML_TOKEN = re.compile(
    r"""<!--.*?(?:-->|\Z)
    | <(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)
      (?P<end>(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*
        (?:\s*=\s*(?:[^"'=<>`\s]+|'[^']*'|"[^"]*"))?)*\s*/?>)?""",
    re.DOTALL | re.VERBOSE,
)
#: GitHub's display math delimiter: a paragraph's text between two is math, not typed text
_MATH = "$$"


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""

    @property
    def known(self) -> bool:
        return self.name in KNOWN_COMMANDS


def parse_command(body: str | None) -> Command | None:
    """The first `/triad` command line in a comment's first `READ_LINES` lines (and
    `READ_CHARS` characters), or None."""
    if not body:
        return None
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if _CANDIDATE.search(body) is None:  # most comments: no parse at all
        return None
    head, whole = _head(body)
    for line in typed_lines(head, whole=whole):
        match = _COMMAND_LINE.match(line)
        if match is not None:
            return Command(name=(match.group(1) or "help").lower(), argument=match.group(2).strip())
    return None


def _head(body: str) -> tuple[str, bool]:
    """What of `body` is read, and whether that is all of it. The parser costs tens of
    microseconds a line and anyone may post 65 kB comments, so what is read is bounded. A cut
    leaves a fence or HTML block open, never closes one; a line cut in two is dropped."""
    lines = body.split("\n", READ_LINES)
    whole = len(lines) <= READ_LINES or not lines[READ_LINES].strip(" \t\n")
    head = "\n".join(lines[:READ_LINES])
    if len(head) > READ_CHARS:
        whole = False
        end = READ_CHARS if head[READ_CHARS] == "\n" else head.rfind("\n", 0, READ_CHARS)
        head = head[: max(end, 0)]
    return head, whole


@functools.cache
def _markdown() -> MarkdownIt:
    """CommonMark with GitHub's tables, and only the inline rules that decide what starts a
    line: code spans, raw HTML, escapes and line breaks (links and emphasis change no line's
    start, and their rules cost the most on hostile input). Escapes stay apart from the text
    (`text_join` off), so `\\/triad` is never taken for a typed `/triad`. Imported on first
    use: most processes start and most comments hold no `/triad`."""
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark").enable("table").disable("text_join")
    markdown.inline.ruler.enableOnly(["text", "newline", "escape", "backticks", "html_inline"])
    markdown.inline.ruler2.enableOnly(["balance_pairs", "fragments_join"])
    return markdown


def typed_lines(body: str, *, whole: bool = True) -> Iterator[str]:
    """The lines of paragraph text in `body` outside quotes, as typed; a line that does not
    start with plain text (markup, an escape, an open `<code>`, a list marker, math, a
    Unicode space the parser strips) starts with `_NOT_TEXT`. When `body` is not the `whole`
    comment, the paragraph reaching its end is left out: the rest could change what it is."""
    source = body.split("\n")
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
                if opening.type != "paragraph_open" or quotes or opening.map is None:
                    continue
                first, end = opening.map
                if not whole and end >= len(source):
                    continue
                if (items and first == items[-1]) or not _CANDIDATE.match(source[first]):
                    # follows the item's marker, or the parser stripped a Unicode space
                    lines[0] = _NOT_TEXT + lines[0]
                yield from lines


def _text_lines(children: Sequence[Token], hiding: int) -> tuple[list[str], int]:
    """A paragraph's lines as typed, and the hiding elements still open after it."""
    lines: list[str] = []
    line: list[str] = []
    math = False  # between `$$` delimiters (the paragraph's own: math ends with it)
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            lines.append("".join(line))
            line = []
            continue
        if not line and (hiding or math or child.type != "text"):
            line.append(_NOT_TEXT)
        if child.type == "html_inline":
            hiding = _still_hiding(child.content, hiding)
        elif child.type == "text":
            math ^= child.content.count(_MATH) % 2 == 1
        line.append(_as_typed(child))
    lines.append("".join(line))
    return lines, hiding


def _as_typed(token: Token) -> str:
    """The Markdown a person typed for `token` (close enough for a command's argument)."""
    if token.type == "code_inline":
        return token.markup + token.content + token.markup
    if token.type == "text_special":
        return token.markup  # an escape, as typed
    return token.content


def _still_hiding(html: str, hiding: int) -> int:
    """`hiding` after the tags in `html` open or close elements that hide their content or
    show it as code. Whole tags are read, quoted attributes and comments included (so
    `<code title="</code>">` closes nothing); a tag left unfinished swallows the rest of
    `html` and, if it is a hiding element's, opens it."""
    for token in _HTML_TOKEN.finditer(html):
        name = token.group("name")
        if name is None:
            continue  # a comment
        hides = name.lower() in _HIDING
        if token.group("end") is None:
            return hiding + 1 if hides and not token.group("close") else hiding
        if hides:
            hiding = max(0, hiding - 1) if token.group("close") else hiding + 1
    return hiding
