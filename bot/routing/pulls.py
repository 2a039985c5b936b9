"""Pushes to Triad's PR branch: someone else's commit goes through CI and review again."""

from __future__ import annotations

from bot.github.events import PullRequestEvent
from bot.routing.branches import not_triads_pull
from bot.routing.intake import Intake, issue_of_branch
from bot.routing.router import Ignored, Routed, Router
from bot.workflow.events import HeadMoved

router = Router()


@router.register("pull_request", "synchronize", PullRequestEvent, door=not_triads_pull)
async def pull_pushed(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """The PR's head moved (Triad's own pushes are dropped at the door)."""
    issue = issue_of_branch(event.pull_request.head.ref)
    assert issue is not None  # the door let only Triad's branches in
    if not await intake.is_workflows_pull(issue, event.pull_request.number):
        return Ignored("a push to a pull request that is not the workflow's")
    actor = await intake.actor(event.sender)
    return Routed(issue, HeadMoved(actor, intake.source, event.pull_request.head.sha))
