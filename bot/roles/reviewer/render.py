"""A reviewer's PR review: header naming its model, criteria, findings, inline comments.

Triad opens its PRs as its App, and GitHub refuses an approval or a change request on one's own
PR, so each review is posted as a comment review and states its verdict in the header; on a
person's PR too, where Triad's verdict on the whole is its check run.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from bot.github.markers import carries, marker, unmarked
from bot.roles.reviewer.agreement import ReviewerResult
from bot.roles.reviewer.schema import Finding, ReviewAnswer

_DATA = re.compile(r"<!-- triad:review-data:([A-Za-z0-9+/=]+) -->")


def review_key(role: str, sha: str) -> str:
    return f"review:{role}:{sha}"


def round_key(role: str, sha: str, round_: int) -> str:
    """Which review round a posted review belongs to (a head may be reviewed again)."""
    return f"review-round:{role}:{sha}:{round_}"


# A review's markers sit where `review_body` puts them: its key on the first line, its round
# and its data on the last two. The model's words between them are `unmarked`; reviews posted
# before they were are read the same way, so a marker a model wrote there is never taken for
# Triad's (an author could steer a reviewer into claiming a head it never reviewed).


def is_review_of(body: str, role: str, sha: str) -> bool:
    """Whether `body` is `role`'s review of `sha`."""
    return carries(body, review_key(role, sha))


def of_round(body: str, role: str, sha: str, round_: int) -> bool:
    """Whether `body` (a review of `sha`) was posted in `round_`."""
    return marker(round_key(role, sha, round_)) in _last_lines(body)


def _last_lines(body: str) -> list[str]:
    return body.rstrip().rsplit("\n", 2)[-2:]


@dataclass(frozen=True)
class InlineComment:
    path: str
    line: int
    body: str


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def inline_body(result: ReviewerResult, finding: Finding) -> str:
    text = f"**{finding.severity} · {finding.category}** ({result.label}): {finding.message}"
    if finding.suggestion:
        text += f"\n\n```suggestion\n{finding.suggestion.rstrip(chr(10))}\n```"
    return text


def place(
    result: ReviewerResult,
    commentable: dict[str, frozenset[int]],
    already: set[tuple[str, int, str]],
) -> tuple[list[InlineComment], list[Finding], int]:
    """Inline comments for findings on diff lines not commented before; the rest go in the
    body. Returns (inline, in_body, repeats skipped)."""
    inline, in_body, repeats = [], [], 0
    already = set(already)
    for finding in result.answer.findings:
        lines = commentable.get(finding.path, frozenset())
        if finding.line is None or finding.line not in lines:
            in_body.append(finding)
            continue
        body = inline_body(result, finding)
        key = (finding.path, finding.line, normalise(body))
        if key in already:
            repeats += 1
            continue
        already.add(key)
        inline.append(InlineComment(finding.path, finding.line, body))
    return inline, in_body, repeats


def review_body(
    result: ReviewerResult,
    sha: str,
    round_: int,
    in_body: list[Finding],
    repeats: int,
    since: str,
    *,
    own_pull: bool = True,
) -> str:
    answer = result.answer
    verdict = "✅ approves" if answer.verdict == "approve" else "❌ requests changes"
    lines = [
        f"### {result.label} — {result.model} ({result.provider}): {verdict}",
        "",
        answer.summary.strip(),
        "",
        f"Round {round_}, on {sha[:7]}." + (f" {since}" if since else ""),
    ]
    if answer.criteria:
        lines += ["", "#### Acceptance criteria"]
        lines += [
            f"- {'✅' if c.met else '❌'} {c.criterion}" + (f" — {c.note}" if c.note else "")
            for c in answer.criteria
        ]
    if in_body:
        lines += ["", "#### Findings not on a changed line"]
        for f in in_body:
            where = f"`{f.path}:{f.line}`" if f.line else f"`{f.path}`"
            lines.append(f"- **{f.severity}** {f.category} {where}: {f.message}")
            if f.suggestion:
                lines += ["  ```", *(f"  {row}" for row in f.suggestion.splitlines()), "  ```"]
    if repeats:
        lines += [
            "",
            f"{repeats} finding(s) already commented on in an earlier round are not repeated.",
        ]
    if result.left_out:
        lines += ["", "#### Not reviewed"]
        lines += [f"- `{path}`: {why}" for path, why in result.left_out.items()]
    footer = (
        "Posted as a comment review: GitHub does not let an App approve its own pull "
        "request, so the verdict is stated above."
        if own_pull
        else "Posted as a comment review by one of two independent reviewers; Triad's verdict "
        "on the pull request is its check run."
    )
    lines += ["", f"<sub>{footer}</sub>"]
    return "\n".join(
        [
            marker(review_key(result.role, sha)),
            unmarked("\n".join(lines)),
            marker(round_key(result.role, sha, round_)),
            f"<!-- triad:review-data:{_encode(result)} -->",
        ]
    )


def _encode(result: ReviewerResult) -> str:
    data = {
        "model": result.model,
        "provider": result.provider,
        "answer": result.answer.model_dump(mode="json"),
        "left_out": result.left_out,
    }
    return base64.b64encode(json.dumps(data).encode()).decode()


def decode(body: str, role: str, label: str) -> ReviewerResult | None:
    """The structured review an earlier attempt posted (so a retry need not ask again)."""
    found = _DATA.fullmatch(_last_lines(body)[-1])
    if not found:
        return None
    data = json.loads(base64.b64decode(found.group(1)))
    answer = {"walkthrough": []} | data["answer"]  # reviews posted before walkthroughs
    return ReviewerResult(
        role,
        label,
        data["model"],
        data["provider"],
        ReviewAnswer.model_validate(answer),
        data.get("left_out", {}),
    )
