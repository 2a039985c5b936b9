"""What the developer reads: the frozen design, the issue, the feedback, the files to change."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.github.repo import IssueText
from bot.llm.context import ContextPart
from bot.roles.architect.render import render_version
from bot.roles.architect.schema import DesignProposal

#: paths in CI output and review notes, e.g. "src/app.py:12: ..."
_PATH_IN_TEXT = re.compile(r"(?<![\w/.-])([\w.-]+(?:/[\w.-]+)+\.\w+)(?::\d+)?")


@dataclass(frozen=True)
class DeveloperBrief:
    issue: IssueText
    design: DesignProposal
    design_version: int
    #: why this round runs: implement, ci, review, human, qa
    reason: str
    feedback: str
    #: every file the round may edit or needs to see, by path (None: does not exist)
    files: dict[str, str | None]


def plan_paths(design: DesignProposal) -> list[str]:
    return list(dict.fromkeys(step.path for step in design.plan))


def paths_named_in(text: str, known: set[str]) -> list[str]:
    """Repository files a CI log or a review mentions (so the fix round can read them)."""
    return [p for p in dict.fromkeys(_PATH_IN_TEXT.findall(text)) if p in known]


_WHY = {
    "implement": "Implement the approved design.",
    "ci": "CI failed on your last commit. Find the root cause and fix it.",
    "review": "Both reviewers asked for these changes. Address each one at its root.",
    "human": "A maintainer asked for changes. Address each point.",
    "qa": "Human QA failed the change. Fix what they found, at its root.",
}


def brief_parts(brief: DeveloperBrief) -> list[ContextPart]:
    """Highest priority first: the task, the design, the feedback, then the files."""
    parts = [
        ContextPart("task", _WHY.get(brief.reason, brief.reason), truncatable=False),
        ContextPart(
            f"approved design v{brief.design_version}",
            render_version(brief.design_version, brief.design),
            truncatable=False,
        ),
        ContextPart(
            f"issue #{brief.issue.number} by @{brief.issue.author}",
            f"{brief.issue.title}\n\n{brief.issue.body}",
        ),
    ]
    if brief.feedback.strip():
        parts.append(ContextPart(f"feedback ({brief.reason})", brief.feedback))
    for path, text in brief.files.items():
        shown = "(does not exist yet)" if text is None else text
        parts.append(ContextPart(f"file {path}", shown, truncatable=False))
    return parts
