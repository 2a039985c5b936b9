"""Ask the architect model: first which files to read, then the design itself."""

from __future__ import annotations

import logging
from importlib import resources

from bot.github.repo import Repo
from bot.llm.context import ContextPart
from bot.llm.usage import UsageScope
from bot.repo_config import RepoConfig
from bot.roles.architect.context import ArchitectBrief, issue_parts, repository_parts
from bot.roles.architect.schema import DesignProposal, FileSelection
from bot.roles.context_budget import fit_budget, rank_paths
from bot.roles.files import readable
from bot.roles.models import RoleModels

log = logging.getLogger(__name__)

ROLE = "architect"


def _prompt(name: str) -> str:
    return resources.files("bot.roles.architect").joinpath(name).read_text()


async def write_design(
    models: RoleModels,
    repo: Repo,
    brief: ArchitectBrief,
    config: RepoConfig,
    scope: UsageScope,
) -> DesignProposal:
    budget = config.budget.context_tokens
    about_issue = issue_parts(brief)
    choosing = fit_budget(
        [*about_issue, ContextPart("repository tree", "\n".join(brief.tree))], budget
    )
    selection = await models.ask(
        ROLE, _prompt("system_files.md"), choosing.parts, FileSelection, scope
    )
    known = set(brief.tree)
    paths = [path for path in selection.paths if path in known]
    if not paths:
        paths = rank_paths(brief.tree, f"{brief.issue.title}\n{brief.issue.body}")
    files = await readable(repo, paths, brief.default_branch)
    fitted = fit_budget([*about_issue, *repository_parts(brief, files)], budget)
    log.info(
        "architect context",
        extra={
            "repository": repo.full_name,
            "issue": brief.issue.number,
            "tokens": fitted.tokens,
            "budget": budget,
            "files": list(files),
            "dropped": fitted.dropped,
            "truncated": fitted.truncated,
        },
    )
    return await models.ask(ROLE, _prompt("system.md"), fitted.parts, DesignProposal, scope)
