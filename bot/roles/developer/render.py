"""The pull request's title and body: what it implements, which plan steps are done, the rounds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.github.markers import KEPT, ROOM, unmarked
from bot.numbers import DIGITS, natural
from bot.roles.architect.schema import DesignProposal

PR_MARKER = "<!-- triad:pr -->"
_SUMMARY_CUT = f" … (cut: {KEPT})"
_ROUNDS_START, _ROUNDS_END = "<!-- triad:rounds -->", "<!-- triad:end-rounds -->"
_ROW = re.compile(rf"^\| ({DIGITS}) \|.*$", re.M)
_DONE = re.compile(rf"^- \[x\] \*\*({DIGITS})\.\*\*", re.M)


@dataclass(frozen=True)
class Round:
    number: int
    reason: str
    sha: str
    note: str

    def row(self) -> str:
        note = unmarked(self.note.replace("|", "\\|").replace("\n", " ")[:200])
        return f"| {self.number} | {self.reason} | {self.sha[:7]} | {note} |"


def pr_title(design: DesignProposal) -> str:
    return design.title.strip()[:200]


def rows_in(body: str) -> dict[int, str]:
    """The rounds table rows an earlier body holds, by round number."""
    start, end = body.find(_ROUNDS_START), body.find(_ROUNDS_END)
    if start < 0 or end < 0:
        return {}
    found = ((natural(m.group(1)), m.group(0)) for m in _ROW.finditer(body[start:end]))
    return {number: row for number, row in found if number is not None}


def steps_done_in(body: str) -> set[int]:
    return {n for n in map(natural, _DONE.findall(body)) if n is not None}


def pr_body(  # noqa: PLR0913 (keyword-only: each is one part of the body)
    *,
    issue_number: int,
    design: DesignProposal,
    version: int,
    design_url: str,
    summary: str,
    steps_done: set[int],
    round_: Round,
    previous_body: str,
    has_ci: bool,
    branch_note: str = "",
) -> str:
    """The PR body for this round; rows and done steps of earlier rounds are kept. The
    model's summary is what gives way when the body would pass GitHub's limit: the rounds and
    the steps done are read back from the body each round."""
    done = steps_done | steps_done_in(previous_body)
    rows = rows_in(previous_body) | {round_.number: round_.row()}
    plan = [
        # one line each: a description's own lines must not read as a step done
        unmarked(
            f"- [{'x' if n in done else ' '}] **{n}.** `{step.path}` ({step.change}): "
            + " ".join(step.description.split())
        )
        for n, step in enumerate(design.plan, 1)
    ]
    qa = (
        "CI runs on every commit of this PR; Triad fixes failures (bounded) before review."
        if has_ci
        else "**No CI**: this repository has no checks, so QA has not run on this change. "
        "Review starts only when a writer adds the review label."
    )
    above = "\n".join(
        [
            PR_MARKER,
            f"Closes #{issue_number}",
            "",
            f"Implements [design v{version}]({design_url}) of #{issue_number}, as approved.",
            *([f"> [!NOTE]\n> {branch_note}"] if branch_note else []),
            "",
            "### Summary",
        ]
    )
    below = "\n".join(
        [
            "",
            "### Plan",
            *plan,
            "",
            "### Rounds",
            _ROUNDS_START,
            "| round | why | commit | note |",
            "|---|---|---|---|",
            *(rows[n] for n in sorted(rows)),
            _ROUNDS_END,
            "",
            "### QA",
            qa,
        ]
    )
    text = unmarked(summary.strip())
    room = ROOM - len(above) - len(below) - 2
    if len(text) > room:
        text = text[: max(room - len(_SUMMARY_CUT), 0)] + _SUMMARY_CUT
    return f"{above}\n{text}\n{below}"
