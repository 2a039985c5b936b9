"""Triad's hidden `<!-- triad:KEY -->` markers, and bodies fit for GitHub (pure).

Every stage is idempotent by them: Triad finds the comment, design version, PR round or review
it wrote before by its marker, so only Triad may write one where Triad looks. A model's words
(steered by whoever wrote the issue or the PR) go through `unmarked`, and a marker counts only
where Triad puts it: first in a comment, last in a review (`carries`).
"""

from __future__ import annotations

import re

_MARKER = "<!-- triad:{key} -->"

#: the most characters GitHub keeps in a comment's, a pull request's or a review's body (a
#: longer one is refused, 422: the whole write fails)
MAX_BODY_CHARS = 65_536
#: what a renderer fits a body into, short of the limit: room for the marker line above it
#: and for redaction (a secret's mask may be longer than the secret)
ROOM = MAX_BODY_CHARS - 1_000
#: why a body, or a part of one, was cut or left out
KEPT = f"GitHub keeps at most {MAX_BODY_CHARS:,} characters of a body"
_CUT = f"\n\n*… cut here: {KEPT}.*"
#: the least of the text a cut body keeps beside its closing markers (else they go instead)
_LEAST_TEXT = 1_000
_MARKER_LINE = re.compile(r"<!-- triad:[^\n]*? -->")


def marker(key: str) -> str:
    """The hidden marker that lets Triad find its own comment for `key` again."""
    return _MARKER.format(key=key)


def carries(body: str, key: str) -> bool:
    """Whether `body` is the comment Triad posted under `key`: the marker opens it (one quoted
    further down, from a model's or a person's words, is not Triad's)."""
    return body.startswith(marker(key))


def unmarked(text: str) -> str:
    """`text` (a model's words, or a person's) with every HTML comment shown as text, not
    hidden: it can neither pose as one of Triad's markers nor hide what follows it (GitHub hides
    a `<!--` and everything after it up to the next `-->`, whoever wrote that)."""
    return text.replace("<!--", "&lt;!--")


def fitted(body: str) -> str:
    """`body` cut to what GitHub keeps, saying so, with the markers that open and close it
    kept (Triad finds its comments and reviews by them, and a review's verdict in its data);
    a closing marker too long to keep with some of the text is dropped instead. A body whose
    end matters more than its middle is shortened by its renderer first."""
    if len(body) <= MAX_BODY_CHARS:
        return body
    lines = body.split("\n")
    head = lines.pop(0) if _MARKER_LINE.fullmatch(lines[0]) else ""
    tail: list[str] = []
    while lines and _MARKER_LINE.fullmatch(lines[-1]):
        tail.insert(0, lines.pop())
    while True:
        ends = "".join(f"\n{line}" for line in tail)
        room = MAX_BODY_CHARS - len(head) - len(_CUT) - len(ends) - 1
        if room >= _LEAST_TEXT or not tail:
            break
        tail.pop()
    text = "\n".join(lines)[: max(room, 0)]
    return (f"{head}\n{text}" if head else text) + _CUT + ends
