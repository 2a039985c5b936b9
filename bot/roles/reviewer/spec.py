"""What a person's pull request must do, and the repository's review instructions (pure).

There is no approved design: the spec is the pull request's title and body and the issues it
closes with GitHub's closing keywords, all of them people's words, fenced as data. The review
instructions come from `.github/triad.yml` on the default branch (never a fork's copy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bot.github.repo import IssueText
from bot.llm.context import CHARS_PER_TOKEN, ContextPart, estimate_tokens
from bot.numbers import DIGITS, issue_number
from bot.repo_config import Review

#: GitHub's closing keywords, then `#N` or `owner/repo#N`
_CLOSES = re.compile(
    rf"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+(?:([\w.-]+/[\w.-]+))?#({DIGITS})\b"
)
#: issues read for one pull request, at most
MAX_LINKED = 5
#: the share of a call's context the spec may take (the rest is the diff and its code)
SPEC_SHARE = 4


def closing_issues(body: str, repository: str) -> list[int]:
    """The issues of `repository` the body closes, in order, each once."""
    found: list[int] = []
    for other, digits in _CLOSES.findall(body or ""):
        if other and other.lower() != repository.lower():
            continue
        number = issue_number(digits)
        if number is not None and number not in found:
            found.append(number)
    return found[:MAX_LINKED]


def pull_spec(
    number: int, title: str, body: str, issues: Iterable[IssueText]
) -> tuple[ContextPart, ...]:
    """The pull request's text and its issues', as the reviewers read them."""
    parts = [
        ContextPart(
            f"pull request #{number}: its title and description, by its author",
            f"{title}\n\n{body.strip() or '(no description)'}",
        )
    ]
    parts += [
        ContextPart(f"issue #{issue.number} it closes", f"{issue.title}\n\n{issue.body}")
        for issue in issues
    ]
    return tuple(parts)


def capped(parts: tuple[ContextPart, ...], context_tokens: int) -> tuple[ContextPart, ...]:
    """Each part that may be cut, cut to an equal share of a quarter of `context_tokens`:
    however long a PR's body or its issues, the diff keeps its room."""
    if not parts:
        return parts
    share = max(context_tokens // SPEC_SHARE // len(parts), 100)
    cut = "\n[… cut: the rest is too long to review with the diff]"
    return tuple(
        ContextPart(p.label, p.text[: share * CHARS_PER_TOKEN - len(cut)] + cut, p.truncatable)
        if p.truncatable and estimate_tokens(p.text) > share
        else p
        for p in parts
    )


def review_instructions(review: Review, paths: Iterable[str]) -> str:
    """`review.instructions`, then each path instruction whose glob matches a changed file:
    the maintainers' globs and words only. The changed paths are the PR author's (a file may
    be named anything), so they never reach the system prompt: see `matched_paths`."""
    changed = list(paths)
    lines = [review.instructions.strip()] if review.instructions.strip() else []
    for rule in review.path_instructions:
        if any(matches(rule.path, path) for path in changed):
            lines.append(f"For files matching `{rule.path}`: {rule.instructions.strip()}")
    return "\n\n".join(lines)


def matched_paths(review: Review, paths: Iterable[str]) -> ContextPart | None:
    """Which changed files each path instruction's glob matches, fenced as data (the names
    are the PR author's words)."""
    changed = list(paths)
    lines = []
    for rule in review.path_instructions:
        hits = [path for path in changed if matches(rule.path, path)]
        if hits:
            lines.append(f"{rule.path}: " + ", ".join(hits[:5]))
    if not lines:
        return None
    return ContextPart("changed files each path instruction's glob matches", "\n".join(lines))


def matches(glob: str, path: str) -> bool:
    """A glob as CodeRabbit's path instructions take it: `*` within a folder, `**` across
    folders, `?` one character; a pattern without a slash matches a file name anywhere."""
    pattern = glob.strip().lstrip("/")
    if "/" not in pattern:
        pattern = f"**/{pattern}"
    return _compiled(pattern).fullmatch(path) is not None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
