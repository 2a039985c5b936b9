"""Pushes to a pull request: someone else's commit on Triad's PR goes through CI and review
again; a person's PR under review is reviewed again only with `review.on_push`."""

from __future__ import annotations

from bot.github.events import PullRequestEvent
from bot.routing.branches import from_fork, triads_issue
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router
from bot.workflow.events import HeadMoved

router = Router()


def _fork(event: PullRequestEvent, _facts: DoorFacts) -> Ignored | None:
    if from_fork(event):
        return Ignored("a fork's pushes are reviewed only on a writer's request", "fork")
    return None


@router.register("pull_request", "synchronize", PullRequestEvent, door=_fork)
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
