"""What Triad shows of a finished review round (pure): the check run's report, the walkthrough
for human reviewers, and on a person's pull request the comment its author reads."""

from __future__ import annotations

from bot.roles.reviewer.agreement import Agreement, ReviewerResult, cell, verdict_of, where
from bot.roles.reviewer.schema import Finding

#: what a writer may answer on a person's PR when the reviewers disagree
PULL_HOW = (
    "A writer decides: **Accept as is** on Triad's check run (or `/triad resume`) accepts the "
    "change as it is and the check passes; otherwise the author addresses the points and a "
    "writer asks for another review with `/triad review`."
)


def _finding(finding: Finding | None) -> str:
    if finding is None:
        return "—"
    return cell(f"{finding.severity} {finding.category}: {finding.message}")


def check_report(
    a: ReviewerResult,
    b: ReviewerResult,
    agreement: Agreement,
    *,
    round_: int,
    cost: float,
    tokens: int,
) -> str:
    """Both verdicts, the findings matched point by point, each acceptance criterion as both
    reviewers judged it, and what the review has cost."""
    lines = [
        f"Review round {round_}: **{agreement.verdict}**.",
        "",
        "| reviewer | model | verdict | summary |",
        "|---|---|---|---|",
        *(
            f"| {r.label} | {cell(r.model)} ({r.provider}) | {verdict_of(r)} | "
            f"{cell(r.answer.summary)} |"
            for r in (a, b)
        ),
    ]
    points = (
        [(fa, fb) for fa, fb in agreement.matched]
        + [(f, None) for f in agreement.only_a]
        + [(None, f) for f in agreement.only_b]
    )
    if points:
        lines += [
            "",
            "#### Findings, matched",
            "",
            f"| where | {a.label} | {b.label} | |",
            "|---|---|---|---|",
        ]
        for fa, fb in points:
            shared = "both" if fa and fb else "one reviewer"
            place = where(fa or fb)  # type: ignore[arg-type]
            lines.append(f"| {place} | {_finding(fa)} | {_finding(fb)} | {shared} |")
    criteria = _criteria(a, b)
    if criteria:
        lines += ["", "#### Acceptance criteria", "", *criteria]
    lines += ["", f"Cost so far: ${cost:.2f} ({tokens:,} tokens)."]
    return "\n".join(lines)


def _criteria(a: ReviewerResult, b: ReviewerResult) -> list[str]:
    """`- [x]` when both reviewers found a criterion met, with each one's mark."""
    judged: dict[str, dict[str, bool]] = {}
    for result in (a, b):
        for check in result.answer.criteria:
            judged.setdefault(check.criterion, {})[result.label] = check.met
    lines = []
    for criterion, marks in judged.items():
        met = len(marks) == 2 and all(marks.values())
        who = ", ".join(f"{label} {'✅' if ok else '❌'}" for label, ok in marks.items())
        lines.append(f"- [{'x' if met else ' '}] {cell(criterion)} ({who})")
    return lines


def walkthrough(a: ReviewerResult, b: ReviewerResult) -> str:
    """What the change does, by purpose, for human reviewers (reviewer A's reading, else B's)."""
    groups = a.answer.walkthrough or b.answer.walkthrough
    if not groups:
        return ""
    lines = ["### Walkthrough", ""]
    for group in groups:
        files = ", ".join(f"`{path}`" for path in group.files)
        lines.append(f"- **{cell(group.purpose)}** ({files}): {cell(group.summary)}")
    return "\n".join(lines)


def approved(a: ReviewerResult, b: ReviewerResult, walk: str) -> str:
    """The short comment when both reviewers approve a person's PR."""
    lines = [
        "## Both reviewers approve",
        "",
        f"- **{a.label}** ({a.model}): {cell(a.answer.summary)}",
        f"- **{b.label}** ({b.model}): {cell(b.answer.summary)}",
        "",
        "Triad's check passes.",
    ]
    return _with(lines, walk)


def for_the_author(b: ReviewerResult, agreement: Agreement, walk: str) -> str:
    """Both ask a person's PR for changes: the points they agree on, for its author."""
    lines = ["## Both reviewers ask for changes", ""]
    if agreement.matched:
        lines.append("The points both raised:")
        for fa, fb in agreement.matched:
            lines.append(f"- {where(fa)} ({fa.severity} {fa.category}): {fa.message}")
            if fb.message.strip() != fa.message.strip():
                lines.append(f"  ({b.label}: {fb.message})")
            if fa.suggestion or fb.suggestion:
                lines.append(f"  suggested: `{cell(fa.suggestion or fb.suggestion or '')}`")
    else:
        lines.append("They raised no point in common; their reviews above say what each found.")
    alone = len(agreement.only_a) + len(agreement.only_b)
    if alone:
        lines += ["", f"{alone} more point(s) raised by one reviewer only are in the reviews."]
    lines += [
        "",
        "Push the changes, then a writer asks for another review with `/triad review`.",
    ]
    return _with(lines, walk)


def _with(lines: list[str], walk: str) -> str:
    return "\n".join([*lines, "", walk] if walk else lines)
