"""Late is never stale: the actions of a transition the workflow has moved past, reconciled with
where it stands now (pure).

A worker can die after an action reached GitHub and before it was recorded as done; its
transition's actions are then carried out later, possibly after newer ones. A label Triad sets
to show a stage must then follow the stage the workflow is in now, not the one it was in;
comments stay (they say what happened, once, by their marker), queued jobs check themselves
whether they still fit, and the PR is marked ready or merged only while the workflow is done.
"""

from __future__ import annotations

from bot.repo_config import Labels
from bot.workflow.actions import ISSUE, PULL, Action, AddLabel, MarkReady, MergePull, RemoveLabel
from bot.workflow.model import Stage, Workflow


def shown_stages(labels: Labels) -> dict[str, Stage]:
    """The labels Triad sets to show a stage, and the stage each one shows."""
    return {
        labels.design_proposed: Stage.DESIGN_PROPOSED,
        labels.ready_for_qa: Stage.READY_FOR_QA,
        labels.needs_human: Stage.NEEDS_HUMAN,
    }


def label_wanted(name: str, on: str, now: Workflow, labels: Labels) -> bool | None:
    """Whether label `name` belongs on the issue (`on` ISSUE) or the PR (`on` PULL) as the
    workflow stands now; None for a label that shows no stage (people add those)."""
    stage = shown_stages(labels).get(name)
    if stage is None:
        return None
    if now.stage is not stage:
        return False
    if name == labels.needs_human:  # escalate() puts it on the PR once there is one
        return _where(on, now) == _where(PULL if now.pr_number else ISSUE, now)
    if name == labels.ready_for_qa:
        return _where(on, now) == _where(PULL, now)
    return _where(on, now) == _where(ISSUE, now)


def still_wanted(actions: tuple[Action, ...], now: Workflow, labels: Labels) -> tuple[Action, ...]:
    """`actions` less those the workflow as it stands now contradicts."""
    kept: list[Action] = []
    for action in actions:
        match action:
            case AddLabel(name=name, on=on) if label_wanted(name, on, now, labels) is False:
                continue
            case RemoveLabel(name=name, on=on) if label_wanted(name, on, now, labels):
                continue
            case MarkReady() | MergePull() if now.stage is not Stage.DONE:
                continue
        kept.append(action)
    return tuple(kept)


def _where(on: str, now: Workflow) -> int:
    """The number an action `on` ISSUE or PULL lands on (PULL is the issue while no PR)."""
    return now.pr_number if on == PULL and now.pr_number else now.issue_number
