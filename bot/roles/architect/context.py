"""What the architect reads: the issue, the discussion, the tree, the README, chosen files."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.github.repo import IssueComment, IssueText, Repo
from bot.llm.context import ContextPart

MAX_TREE_PATHS = 3_000
README_NAMES = ("README.md", "README.rst", "README.txt", "README")


@dataclass(frozen=True)
class ArchitectBrief:
    issue: IssueText
    #: people's comments, oldest first (Triad's own are left out)
    discussion: list[IssueComment]
    previous_design: str | None
    default_branch: str
    tree: list[str]
    readme: str | None
    #: why a new version is needed, from the developer or QA (empty for a first design)
    feedback: str = ""


async def gather_brief(
    repo: Repo, issue_number: int, comments: list[IssueComment], earlier: dict[int, str]
) -> ArchitectBrief:
    issue, branch = await asyncio.gather(repo.issue(issue_number), repo.default_branch())
    tree = await repo.tree(branch)
    paths = [path for path, size in tree]
    readme_path = next((name for name in README_NAMES if name in paths), None)
    readme = await repo.read_file(readme_path, branch) if readme_path else None
    return ArchitectBrief(
        issue=issue,
        discussion=[c for c in comments if not repo.is_mine(c)],
        previous_design=earlier[max(earlier)] if earlier else None,
        default_branch=branch,
        tree=paths[:MAX_TREE_PATHS],
        readme=readme,
    )


def issue_parts(brief: ArchitectBrief) -> list[ContextPart]:
    """The issue and its discussion, first in priority: never dropped for files."""
    parts = [
        ContextPart(
            f"issue #{brief.issue.number} by @{brief.issue.author}",
            f"{brief.issue.title}\n\n{brief.issue.body}",
        )
    ]
    for comment in brief.discussion:
        parts.append(ContextPart(f"comment by @{comment.author}", comment.body))
    if brief.previous_design:
        parts.append(ContextPart("the previous design version", brief.previous_design))
    if brief.feedback:
        parts.append(ContextPart("why a new version is needed", brief.feedback))
    return parts


def repository_parts(brief: ArchitectBrief, files: dict[str, str]) -> list[ContextPart]:
    parts = [ContextPart("repository tree", "\n".join(brief.tree))]
    if brief.readme:
        parts.append(ContextPart("README", brief.readme))
    parts += [ContextPart(f"file {path}", text) for path, text in files.items()]
    return parts
