"""Issues and pull requests closed, merged or reopened: the end of the workflow they carry.

Anyone who can close an issue or a PR ends its workflow, another bot included (a stale bot's
close counts); Triad's own closes (after it merged) are dropped at the door.
"""

from __future__ import annotations

from bot.github import pulls
from bot.github.events import IssuesEvent, PullRequestEvent
from bot.routing.branches import workflow_of
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router, no_workflow
from bot.workflow.events import Event, IssueClosed, PullClosed, Reopened

router = Router()


def _issue_door(_event: IssuesEvent, facts: DoorFacts) -> Ignored | None:
    return no_workflow(facts, "this issue")


def _pull_door(_event: PullRequestEvent, facts: DoorFacts) -> Ignored | None:
    return no_workflow(facts, "this pull request")


def _issue_number(event: IssuesEvent) -> int:
    return event.issue.number


@router.register("issues", "closed", IssuesEvent, door=_issue_door, asks=_issue_number)
async def issue_closed(event: IssuesEvent, intake: Intake) -> Routed | Ignored:
    """The issue's workflow stops; closed by merging Triad's PR ("Closes #N"), it is done."""
    number = event.issue.number
    workflow = await intake.workflow(number)
    if workflow is None:
        return Ignored("no workflow on the closed issue")
    actor = await intake.closer(event.sender)
    if workflow.pr_number is not None:
        pull = await pulls.get_pull(intake.repo, workflow.pr_number)
        if pull is not None and pull.merged:
            return Routed(number, PullClosed(actor, intake.source, merged=True))
    return Routed(number, IssueClosed(actor, intake.source))


@router.register("issues", "reopened", IssuesEvent, door=_issue_door, asks=_issue_number)
async def issue_reopened(event: IssuesEvent, intake: Intake) -> Routed | Ignored:
    """The workflow stays stopped; Triad says how to start it again."""
    reopened = Reopened(await intake.closer(event.sender), intake.source)
    return await _routed(event.issue.number, intake, reopened)


@router.register("pull_request", "closed", PullRequestEvent, door=_pull_door, asks=workflow_of)
async def pull_closed(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """Merged by a person: the workflow is done; closed unmerged: it stops, with a comment."""
    merged = bool(event.pull_request.merged)
    closed = PullClosed(await intake.closer(event.sender), intake.source, merged)
    return await _routed(workflow_of(event), intake, closed)


@router.register("pull_request", "reopened", PullRequestEvent, door=_pull_door, asks=workflow_of)
async def pull_reopened(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    reopened = Reopened(await intake.closer(event.sender), intake.source, pull=True)
    return await _routed(workflow_of(event), intake, reopened)


async def _routed(number: int, intake: Intake, event: Event) -> Routed | Ignored:
    if await intake.workflow(number) is None:
        return Ignored("no workflow to end or restart")
    return Routed(number, event)
