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
    if issue is None:
        return Ignored(
            f"branch {event.pull_request.head.ref!r} is not a Triad branch", "not_triads_branch"
        )
    actor = await intake.actor(event.sender)
    return Routed(issue, HeadMoved(actor, intake.source, event.pull_request.head.sha))
