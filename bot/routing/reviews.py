"""Review requests on any pull request: the review label, `/triad review` and `review.auto`.

On Triad's own PR a request concerns its issue's workflow; on a person's PR (a fork's too) it
starts or continues a review workflow keyed by the PR's number.
"""

from __future__ import annotations

from bot.github import pulls
from bot.github.events import PullRequestEvent, Sender
from bot.routing.branches import facts_from, facts_of, from_fork, is_triads, triads_issue
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router, config_only
from bot.workflow.events import RequestVia, ReviewRequested

router = Router()


def _not_auto_reviewable(event: PullRequestEvent, facts: DoorFacts) -> Ignored | None:
    """`review.auto` never takes a draft, a fork's PR or Triad's own; nothing is reviewed by
    itself in a repository whose cached config leaves `review.auto` off."""
    if from_fork(event):
        return Ignored("a fork's pull request is reviewed only on a writer's request", "fork")
    if event.pull_request.draft:
        return Ignored("a draft pull request is not reviewed by itself", "draft")
    if triads_issue(event) is not None:
        return Ignored("Triad's own pull request is reviewed by its workflow", "triads_pull")
    if facts.config is not None and not facts.config.review.auto:
        return Ignored("review.auto is off", "review_auto_off")
    return None


@router.register(
    "pull_request", "opened", PullRequestEvent, door=_not_auto_reviewable, asks=config_only
)
async def pull_opened(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """A person opened a pull request: reviewed when the repository sets `review.auto`."""
    return await _auto(event, intake)


@router.register(
    "pull_request",
    "ready_for_review",
    PullRequestEvent,
    door=_not_auto_reviewable,
    asks=config_only,
)
async def pull_ready(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """A draft marked ready for review: reviewed when the repository sets `review.auto`."""
    return await _auto(event, intake)


async def _auto(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    if not (await intake.config()).config.review.auto:
        return Ignored("review.auto is off")
    pull = facts_of(event.pull_request, intake.repository)
    actor = await intake.actor(event.sender)
    return Routed(pull.number, ReviewRequested(actor, intake.source, RequestVia.AUTO, pull))


async def label_on_persons_pull(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """The review label on a person's pull request asks for a review of its head as it is
    now, read from GitHub as `/triad review` does: a push after the label (whose delivery the
    door may have judged before this one's job made the workflow) is not missed."""
    assert event.label is not None
    if event.label.name != (await intake.config()).config.labels.review:
        return Ignored(f"label {event.label.name!r} means nothing on a person's pull request")
    info = await pulls.get_pull(intake.repo, event.pull_request.number)
    if info is None:
        return Ignored("the pull request is gone")
    return await request(info.number, info, RequestVia.LABEL, intake, event.sender)


async def request(
    number: int,
    info: pulls.PullInfo | None,
    via: RequestVia,
    intake: Intake,
    sender: Sender,
    source: str | None = None,
) -> Routed:
    """A review request for the workflow `number` names (`info` None: an issue's), or for the
    pull request `info` shows: Triad's own goes to its issue's workflow. `source` is what it
    is applied once per (a command's comment; default: the delivery)."""
    actor = await intake.actor(sender)
    cause = source or intake.source
    if info is None:
        return Routed(number, ReviewRequested(actor, cause, via), source=source)
    pull = facts_from(info, intake.repository)
    issue = is_triads(info, intake.repository)
    if issue is not None:
        return Routed(issue, ReviewRequested(actor, cause, via, pull), source=source)
    return Routed(info.number, ReviewRequested(actor, cause, via, pull), source=source)
