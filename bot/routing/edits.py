"""Edits to an issue's title or body: after a design was approved they change nothing a model
reads (the developer and reviewers read the issue as frozen at the gate), and Triad says so."""

from __future__ import annotations

from bot.github.events import IssuesEvent
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router, no_workflow
from bot.workflow.events import IssueEdited

router = Router()


def _unlabelled(event: IssuesEvent, facts: DoorFacts) -> Ignored | None:
    """An issue Triad works on carries Triad's labels: one with none has no workflow."""
    if event.issue.is_pull_request or not event.issue.labels:
        return Ignored("an edit of an issue with no label", "no_label")
    return no_workflow(facts, "this issue")


def _issue_number(event: IssuesEvent) -> int:
    return event.issue.number


@router.register("issues", "edited", IssuesEvent, door=_unlabelled, asks=_issue_number)
async def issue_edited(event: IssuesEvent, intake: Intake) -> Routed | Ignored:
    workflow = await intake.workflow(event.issue.number)
    if workflow is None or workflow.approved_version is None:
        return Ignored("an edit of an issue with no approved design")
    return Routed(event.issue.number, IssueEdited(await intake.actor(event.sender), intake.source))
