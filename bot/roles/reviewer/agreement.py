"""Match the two reviews point by point and decide: approve, fix, or ask a human (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.roles.reviewer.schema import Finding, ReviewAnswer
from bot.workflow.events import ReviewVerdict

NEARBY_LINES = 3
_WORD = re.compile(r"[a-z0-9_]{3,}")
_STOP = frozenset(
    "the and for with that this from into when then than are was were has have not but its "
    "can could should would will may might must does did also any all one two use used uses "
    "which what where who how why there their them they it's isn't doesn't line code file "
    "function method value".split()
)
_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class ReviewerResult:
    role: str
    label: str
    model: str
    provider: str
    answer: ReviewAnswer
    left_out: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Agreement:
    verdict: ReviewVerdict
    matched: list[tuple[Finding, Finding]]
    only_a: list[Finding]
    only_b: list[Finding]


def content_words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _STOP


def similarity(a: str, b: str) -> float:
    """Overlap (Jaccard) of two messages' content words."""
    words_a, words_b = content_words(a), content_words(b)
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / len(words_a | words_b)


def same_point(a: Finding, b: Finding) -> bool:
    """Same file, nearby lines, at least two content words in common, and the same category
    or clearly the same words; a high finding is not shared by a low one."""
    if a.path != b.path or abs(_RANK[a.severity] - _RANK[b.severity]) > 1:
        return False
    if (a.line is None) != (b.line is None):
        return False
    if a.line is not None and b.line is not None and abs(a.line - b.line) > NEARBY_LINES:
        return False
    if len(content_words(a.message) & content_words(b.message)) < 2:
        return False
    text = similarity(a.message, b.message)
    return (a.category == b.category and text >= 0.15) or text >= 0.4


def match(
    a: list[Finding], b: list[Finding]
) -> tuple[list[tuple[Finding, Finding]], list[Finding], list[Finding]]:
    """Pairs of findings on the same point (each used once), and those of one reviewer only."""
    pairs, rest_b = [], list(b)
    only_a = []
    for finding in a:
        candidates = [other for other in rest_b if same_point(finding, other)]
        partner = max(
            candidates, key=lambda other: similarity(finding.message, other.message), default=None
        )
        if partner is None:
            only_a.append(finding)
        else:
            pairs.append((finding, partner))
            rest_b.remove(partner)
    return pairs, only_a, rest_b


def agree(a: ReviewerResult, b: ReviewerResult) -> Agreement:
    pairs, only_a, only_b = match(a.answer.findings, b.answer.findings)
    unshared_high = [f for f in (*only_a, *only_b) if f.severity == "high"]
    if a.answer.verdict != b.answer.verdict or unshared_high:
        return Agreement(ReviewVerdict.DISAGREE, pairs, only_a, only_b)
    if a.answer.verdict == "approve":
        return Agreement(ReviewVerdict.APPROVE, pairs, only_a, only_b)
    return Agreement(ReviewVerdict.CHANGES, pairs, only_a, only_b)


def where(finding: Finding) -> str:
    return f"`{finding.path}:{finding.line}`" if finding.line else f"`{finding.path}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _says(finding: Finding | None) -> str:
    if finding is None:
        return "— not raised —"
    return cell(f"**{finding.severity}** {finding.category}: {finding.message}")


def verdict_of(result: ReviewerResult) -> str:
    return "approves" if result.answer.verdict == "approve" else "requests changes"


def side_by_side(
    a: ReviewerResult, b: ReviewerResult, agreement: Agreement, how: str | None = None
) -> str:
    """The one comment that lays the two positions out, point by point, with the question;
    `how` says what a human may answer (Triad's own PR: `/triad resume` and the rest)."""
    rows = []
    # each point: where it is (the finding that names it), then what A and B say
    points: list[tuple[Finding, Finding | None, Finding | None]] = (
        [(fa, fa, fb) for fa, fb in agreement.matched]
        + [(f, f, None) for f in agreement.only_a]
        + [(f, None, f) for f in agreement.only_b]
    )
    for number, (named, fa, fb) in enumerate(points, 1):
        rows.append(f"| {number} | {where(named)} | {_says(fa)} | {_says(fb)} |")
    lines = [
        "## The reviewers disagree: a human decides",
        "",
        f"- **{a.label}** ({a.model}) {verdict_of(a)}: {cell(a.answer.summary)}",
        f"- **{b.label}** ({b.model}) {verdict_of(b)}: {cell(b.answer.summary)}",
        "",
    ]
    if rows:
        lines += ["| # | where | " + a.label + " | " + b.label + " |", "|---|---|---|---|", *rows]
        lines.append("")
    lines += ["**The question:** " + _question(a, b, agreement), "", how or _HOW]
    return "\n".join(lines)


_HOW = (
    "Answer with `/triad resume` to accept the change as it is (human QA comes next), "
    "`/triad resume <your decision>` to send the developer back with it, or "
    "`/triad redesign` if the design itself is at fault."
)


def _question(a: ReviewerResult, b: ReviewerResult, agreement: Agreement) -> str:
    high = [f for f in (*agreement.only_a, *agreement.only_b) if f.severity == "high"]
    if a.answer.verdict != b.answer.verdict:
        asking = a if a.answer.verdict == "request_changes" else b
        return (
            f"is the change ready for QA as it is, or must the points {asking.label} raised "
            "be fixed first?"
        )
    if len(high) == 1:
        finding = high[0]
        return f"is this a real problem that must be fixed: {where(finding)} {finding.message}"
    listed = "; ".join(f"{where(f)} {f.message}" for f in high)
    return f"which of these, raised by one reviewer only, must be fixed: {listed}"


def fix_request(a: ReviewerResult, b: ReviewerResult, agreement: Agreement) -> str:
    """What the developer is asked to fix after both reviewers request changes."""
    lines = ["Both reviewers request changes."]
    if agreement.matched:
        lines.append("Raised by both:")
        for fa, fb in agreement.matched:
            lines.append(f"- {where(fa)} ({fa.category}): {fa.message} / {fb.message}")
            if fa.suggestion or fb.suggestion:
                lines.append(f"  suggested: {fa.suggestion or fb.suggestion}")
    for result, only in ((a, agreement.only_a), (b, agreement.only_b)):
        if only:
            lines.append(f"Raised by {result.label} only (not high severity):")
            lines += [f"- {where(f)} ({f.category}): {f.message}" for f in only]
    return "\n".join(lines)
