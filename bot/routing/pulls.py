"""Pushes to a pull request: someone else's commit on Triad's PR goes through CI and review
again; a person's PR under review is reviewed again only with `review.on_push`."""

from __future__ import annotations

from bot.github.events import PullRequestEvent
from bot.routing.branches import from_fork, triads_issue, workflow_of
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router, no_workflow
from bot.workflow.events import HeadMoved

router = Router()


def _door(event: PullRequestEvent, facts: DoorFacts) -> Ignored | None:
    """A fork's push, a push to a PR Triad neither made nor reviews, or to a person's PR when
    the repository reviews pushes only on request."""
    if from_fork(event):
        return Ignored("a fork's pushes are reviewed only on a writer's request", "fork")
    dropped = no_workflow(facts, "this pull request")
    if dropped or triads_issue(event) is not None:
        return dropped
    if facts.config is not None and not facts.config.review.on_push:
        return Ignored("pushes are reviewed on request (review.on_push is off)", "on_push_off")
    return None


@router.register("pull_request", "synchronize", PullRequestEvent, door=_door, asks=workflow_of)
async def pull_pushed(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """The PR's head moved (Triad's own pushes are dropped at the door)."""
    issue = triads_issue(event)
    if issue is None:
        number = event.pull_request.number
        if await intake.workflow(number) is None:
            return Ignored("a push to a pull request Triad has not reviewed")
        if not (await intake.config()).config.review.on_push:
            return Ignored("pushes are reviewed on request (review.on_push is off)")
        issue = number
    elif not await intake.is_workflows_pull(issue, event.pull_request.number):
        return Ignored("a push to a pull request that is not the workflow's")
    actor = await intake.actor(event.sender)
    return Routed(issue, HeadMoved(actor, intake.source, event.pull_request.head.sha))
