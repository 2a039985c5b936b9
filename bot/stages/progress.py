"""One progress comment on the issue, updated in place: stage, PR, attempts, cost so far."""

from __future__ import annotations

from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.store import Store
from bot.store.usage import UsageStore
from bot.workflow.model import Stage, Workflow

PROGRESS_KEY = "progress"

_SAYS = {
    Stage.IMPLEMENTING: "the developer is writing the change",
    Stage.TESTING: "CI is testing the PR",
    Stage.AWAITING_REVIEW: "waiting for a writer to add the review label",
    Stage.REVIEWING: "two reviewers are reading the change",
    Stage.READY_FOR_QA: "both reviewers approve: human QA decides",
    Stage.DONE: "done: QA passed, the PR is ready for a human to merge",
    Stage.NEEDS_HUMAN: "waiting for a human",
    Stage.DESIGNING: "back with the architect for a new design version",
    Stage.STOPPED: "stopped",
}


def render_progress(workflow: Workflow, config: RepoConfig, cost: float, tokens: int) -> str:
    limits = config.limits
    pr = f"#{workflow.pr_number}" if workflow.pr_number else "not opened yet"
    lines = [
        f"**Triad progress** — `{workflow.stage}`: {_SAYS.get(workflow.stage, workflow.stage)}",
        "",
        "| | |",
        "|---|---|",
        f"| approved design | v{workflow.approved_version} |",
        f"| pull request | {pr} |",
        f"| developer rounds | {workflow.round} |",
        f"| CI fix attempts | {workflow.ci_fixes} of {limits.ci_fix_attempts} |",
        f"| review rounds | {workflow.review_round} (fix rounds {workflow.review_fixes} of "
        f"{limits.review_fix_rounds}) |",
        f"| cost so far | ${cost:.2f} ({tokens:,} tokens) |",
    ]
    if workflow.escalation:
        lines.append(f"| needs a human because | {workflow.escalation} |")
    return "\n".join(lines)


async def update_progress(store: Store, repo: Repo, workflow: Workflow, config: RepoConfig) -> None:
    totals = await UsageStore(store).totals(workflow.id) if workflow.id else None
    body = render_progress(
        workflow, config, totals.cost if totals else 0.0, totals.tokens if totals else 0
    )
    await repo.upsert_comment(workflow.issue_number, PROGRESS_KEY, body)
