"""One workflow as an operator reads it: its transitions with their causes, its jobs, its cost."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.numbers import issue_number
from bot.store import Job, Store
from bot.store.queue_admin import QueueAdmin
from bot.store.usage import UsageStore, UsageTotals
from bot.store.workflows import Transition, WorkflowStore
from bot.workflow.model import Workflow

_ISSUE_REF = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)#(?P<number>.+)$")


@dataclass(frozen=True)
class WorkflowReport:
    workflow: Workflow
    transitions: list[Transition]
    jobs: list[Job]
    cost_by_role: list[tuple[str, UsageTotals]]

    @property
    def total(self) -> UsageTotals:
        sums = [totals for _, totals in self.cost_by_role]
        return UsageTotals(
            calls=sum(t.calls for t in sums),
            input_tokens=sum(t.input_tokens for t in sums),
            output_tokens=sum(t.output_tokens for t in sums),
            cost=sum(t.cost for t in sums),
            latency_ms=sum(t.latency_ms for t in sums),
        )


def parse_issue_ref(text: str) -> tuple[str, int]:
    """`owner/repo#12` → ("owner/repo", 12); ValueError saying the expected shape otherwise."""
    match = _ISSUE_REF.match(text.strip())
    number = issue_number(match["number"]) if match else None
    if match is None or number is None:
        raise ValueError(f"{text!r} is not an issue: write OWNER/REPO#NUMBER, e.g. octo/repo#12")
    return match["repo"], number


async def workflow_report(
    store: Store, repository: str, issue_number: int
) -> WorkflowReport | None:
    """The workflow of `repository#issue_number`, or None when Triad has none for it."""
    workflow = await WorkflowStore(store).get(repository, issue_number)
    if workflow is None or workflow.id is None:
        return None
    transitions = await WorkflowStore(store).history(repository, issue_number)
    jobs = await QueueAdmin(store).jobs_for_issue(repository, issue_number)
    grouped = await UsageStore(store).grouped(("role",), workflow_id=workflow.id)
    return WorkflowReport(
        workflow=workflow,
        transitions=transitions,
        jobs=jobs,
        cost_by_role=[(str(key[0]), totals) for key, totals in grouped],
    )


def github_web_url(api_url: str) -> str:
    """The web address matching an API address: api.github.com, or an Enterprise /api/v3."""
    url = api_url.rstrip("/")
    if url == "https://api.github.com":
        return "https://github.com"
    return url.removesuffix("/api/v3")


def issue_url(web: str, workflow: Workflow) -> str:
    return f"{web}/{workflow.repository}/issues/{workflow.issue_number}"


def pull_url(web: str, workflow: Workflow) -> str | None:
    if workflow.pr_number is None:
        return None
    return f"{web}/{workflow.repository}/pull/{workflow.pr_number}"
