"""Labels people add: the design label, approval, and the review and QA gates; each acts only
while the label is still on the issue or PR (so an old or replayed delivery cannot act again)."""

from __future__ import annotations

from bot.github.events import IssuesEvent, PullRequestEvent
from bot.repo_config import Labels
from bot.routing import reviews
from bot.routing.branches import triads_issue
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router, config_only
from bot.workflow.events import ApprovalRequested, DesignRequested, Event, LabelAdded
from bot.workflow.frozen import issue_text_hash

router = Router()


def _no_label(event: IssuesEvent | PullRequestEvent, _facts: DoorFacts) -> Ignored | None:
    return Ignored("the delivery names no label", "no_label") if event.label is None else None


def _unrelated(name: str, acting: tuple[str, ...] | None) -> Ignored | None:
    """A label outside the names that act here (None: the config is not known: admitted)."""
    if acting is None or name in acting:
        return None
    return Ignored(f"label {name!r} is not one of Triad's labels here", "unrelated_label")


def _issue_door(event: IssuesEvent, facts: DoorFacts) -> Ignored | None:
    if event.label is None:
        return _no_label(event, facts)
    acting = _meaningful(facts.config.labels) if facts.config else None
    return _unrelated(event.label.name, acting)


def _pull_door(event: PullRequestEvent, facts: DoorFacts) -> Ignored | None:
    """A label on any open pull request may be the review label (its name is per repository):
    on Triad's PR the review and QA labels act, on a person's PR the review label."""
    if event.pull_request.state != "open":
        return Ignored("the pull request is not open", "closed")
    if event.label is None:
        return _no_label(event, facts)
    if facts.config is None:
        return None
    labels = facts.config.labels
    acting = _gates(labels) if triads_issue(event) is not None else (labels.review,)
    return _unrelated(event.label.name, acting)


@router.register("issues", "labeled", IssuesEvent, door=_issue_door, asks=config_only)
async def issue_labeled(event: IssuesEvent, intake: Intake) -> Routed | Ignored:
    """The design label starts the architect; the approval label is gate A; the review and QA
    labels are read on the issue as on its PR."""
    if event.label is None:
        return Ignored("the delivery names no label", "no_label")
    number = event.issue.number
    labels = (await intake.config()).config.labels
    name = event.label.name
    if name not in _meaningful(labels):
        return Ignored(f"label {name!r} means nothing to Triad")
    if not await intake.label_still_on(number, name):
        return Ignored(f"label {name!r} is no longer on the issue")
    found: Event | None = None
    if name == labels.design:
        found = DesignRequested(await intake.actor(event.sender), intake.source)
    elif name == labels.approved:
        actor = await intake.actor(event.sender)
        issue = await intake.issue(number)
        found = ApprovalRequested(
            actor,
            intake.source,
            await intake.design_hash(number),
            issue_text_hash(issue.title, issue.body),
        )
    else:
        found = await _gate_label(name, number, number, event, intake)
    return Routed(number, found) if found else Ignored(f"label {name!r} means nothing to Triad")


@router.register("pull_request", "labeled", PullRequestEvent, door=_pull_door, asks=config_only)
async def pull_labeled(event: PullRequestEvent, intake: Intake) -> Routed | Ignored:
    """The review label (gate B) and the QA labels (gate C) on Triad's PR; on a person's PR,
    the review label asks the two reviewers for a review."""
    if event.label is None:
        return Ignored("the delivery names no label", "no_label")
    issue = triads_issue(event)
    if issue is None:
        return await reviews.label_on_persons_pull(event, intake)
    name, number = event.label.name, event.pull_request.number
    if not await intake.is_workflows_pull(issue, number):
        return Ignored("a label on a pull request that is not the workflow's")
    labels = (await intake.config()).config.labels
    if name in _meaningful(labels) and not await intake.label_still_on(number, name):
        return Ignored(f"label {name!r} is no longer on the pull request")
    found = await _gate_label(name, number, issue, event, intake)
    if found is None:
        return Ignored(f"label {event.label.name!r} means nothing to Triad")
    return Routed(issue, found)


def _meaningful(labels: Labels) -> tuple[str, ...]:
    return (labels.design, labels.approved, *_gates(labels))


def _gates(labels: Labels) -> tuple[str, ...]:
    """The labels that act on Triad's pull request (gates B and C)."""
    return (labels.review, labels.qa_passed, labels.qa_failed)


async def _gate_label(
    name: str,
    where: int,
    issue: int,
    event: IssuesEvent | PullRequestEvent,
    intake: Intake,
) -> LabelAdded | None:
    labels = (await intake.config()).config.labels
    if name not in _gates(labels):
        return None
    actor = await intake.actor(event.sender)
    note = ""
    if name == labels.qa_failed:
        note = await intake.qa_note(where, actor.login, issue)
    return LabelAdded(actor, intake.source, name, note)
