"""The workflow engine: given a workflow and an event, the next state and the actions.

Pure code: no GitHub, no models, no store. It owns the gates (who may start, approve and
command; whether the approved design is the proposed one) and the loop guards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import assert_never

from bot.repo_config import RepoConfig
from bot.workflow import messages
from bot.workflow.actions import (
    Action,
    AddLabel,
    Comment,
    EnsureLabels,
    RemoveLabel,
    ReportStatus,
    RunStage,
)
from bot.workflow.events import (
    ApprovalRequested,
    CommandIssued,
    DesignPublished,
    DesignRequested,
    Event,
    StageFailed,
)
from bot.workflow.model import Actor, Stage, Workflow

ARCHITECT_JOB = "architect"


@dataclass(frozen=True)
class Target:
    """The issue an event is about, for a workflow that does not exist yet."""

    repository: str
    installation_id: int
    issue_number: int


@dataclass(frozen=True)
class Decision:
    """The engine's answer; `workflow` is None when no workflow exists or starts."""

    workflow: Workflow | None
    actions: tuple[Action, ...] = ()
    reason: str = ""

    def changed(self, before: Workflow | None) -> bool:
        return self.workflow != before


def decide(workflow: Workflow | None, event: Event, target: Target, config: RepoConfig) -> Decision:
    """The next state and actions for `event`; an event that changes nothing says why."""
    actor = getattr(event, "actor", None)
    if isinstance(actor, Actor) and not actor.may_trigger:
        return Decision(workflow, reason=f"ignored: caused by {actor.login}, a bot")
    match event:
        case DesignRequested():
            return _design_requested(workflow, event, target, config)
        case ApprovalRequested():
            return _approval_requested(workflow, event, config)
        case CommandIssued():
            return _command(workflow, event, config)
        case DesignPublished():
            return _design_published(workflow, event, config)
        case StageFailed():
            return _stage_failed(workflow, event, config)
        case _:
            assert_never(event)


def _design_requested(
    workflow: Workflow | None, event: DesignRequested, target: Target, config: RepoConfig
) -> Decision:
    labels = config.labels
    if not event.actor.permission.can_write:
        return Decision(
            workflow,
            (
                Comment(
                    f"refused:{event.source}",
                    messages.not_allowed(event.actor.login, "start a design"),
                ),
                RemoveLabel(labels.design),
            ),
            reason=f"refused: {event.actor.login} cannot write",
        )
    if workflow is not None and workflow.stage is not Stage.STOPPED:
        return Decision(workflow, reason=f"ignored: the workflow is already {workflow.stage}")
    started = Workflow(
        repository=target.repository,
        installation_id=target.installation_id,
        issue_number=target.issue_number,
        stage=Stage.DESIGNING,
        design_version=(workflow.design_version if workflow else 0) + 1,
        id=workflow.id if workflow else None,
        revision=workflow.revision if workflow else 0,
    )
    return Decision(
        started,
        (EnsureLabels(), _architect(started, feedback_from=None)),
        reason=f"design requested by {event.actor.login}",
    )


def _approval_requested(
    workflow: Workflow | None, event: ApprovalRequested, config: RepoConfig
) -> Decision:
    labels, login = config.labels, event.actor.login
    if not event.actor.permission.can_write:
        refusal = messages.not_allowed(login, "approve a design")
        return _refuse_approval(workflow, event, refusal, config, f"{login} cannot write")
    if workflow is not None and workflow.approved_hash and workflow.stage is Stage.APPROVED:
        return Decision(workflow, reason="ignored: this design is already approved")
    if workflow is None or workflow.stage is not Stage.DESIGN_PROPOSED:
        refusal = messages.approval_refused_no_design(login, labels)
        return _refuse_approval(workflow, event, refusal, config, "no proposed design")
    if event.current_hash != workflow.proposed_hash:
        refusal = messages.approval_refused_edited(login, labels)
        return _refuse_approval(workflow, event, refusal, config, "design edited since proposed")
    approved = replace(
        workflow,
        stage=Stage.APPROVED,
        approved_version=workflow.design_version,
        approved_hash=workflow.proposed_hash,
    )
    return Decision(
        approved,
        (RemoveLabel(labels.design_proposed),),
        reason=f"design v{workflow.design_version} approved by {login}",
    )


def _refuse_approval(
    workflow: Workflow | None,
    event: ApprovalRequested,
    refusal: str,
    config: RepoConfig,
    reason: str,
) -> Decision:
    actions = (Comment(f"refused:{event.source}", refusal), RemoveLabel(config.labels.approved))
    return Decision(workflow, actions, reason=f"approval refused: {reason}")


def _command(workflow: Workflow | None, event: CommandIssued, config: RepoConfig) -> Decision:
    command, login = event.command, event.actor.login
    if not event.actor.permission.can_write:
        refusal = messages.not_allowed(login, f"use `/triad {command.name}`")
        return Decision(workflow, (Comment(f"refused:{event.source}", refusal),), "refused")
    if not command.known:
        reply = Comment(f"unknown:{event.source}", messages.unknown_command(command.name))
        return Decision(workflow, (reply,), reason=f"unknown command {command.name}")
    if command.name == "status":
        return Decision(workflow, (ReportStatus(f"status:{event.source}"),), reason="status")
    if workflow is None:
        reply = Comment(f"nothing:{event.source}", messages.nothing_to_revise())
        return Decision(None, (reply,), reason=f"/triad {command.name} without a workflow")
    if command.name == "stop":
        return _stop(workflow, login, config)
    return _revise(workflow, event, config)


def _revise(workflow: Workflow, event: CommandIssued, config: RepoConfig) -> Decision:
    if workflow.stage not in (Stage.DESIGN_PROPOSED, Stage.NEEDS_HUMAN):
        return Decision(workflow, reason=f"ignored: cannot revise while {workflow.stage}")
    limit = config.limits.design_revisions
    if workflow.design_version >= limit:
        reply = Comment(f"limit:{event.source}", messages.revisions_exhausted(limit))
        return Decision(workflow, (reply,), reason="design revision limit reached")
    revised = replace(
        workflow,
        stage=Stage.DESIGNING,
        design_version=workflow.design_version + 1,
        escalation=None,
    )
    actions: tuple[Action, ...] = (
        RemoveLabel(config.labels.design_proposed),
        RemoveLabel(config.labels.needs_human),
        _architect(revised, feedback_from=event.source),
    )
    return Decision(revised, actions, reason=f"revision requested by {event.actor.login}")


def _stop(workflow: Workflow, login: str, config: RepoConfig) -> Decision:
    if workflow.stage is Stage.STOPPED:
        return Decision(workflow, reason="ignored: already stopped")
    labels = config.labels
    removals = tuple(
        RemoveLabel(name)
        for name in (labels.design, labels.design_proposed, labels.approved, labels.needs_human)
    )
    stopped = replace(workflow, stage=Stage.STOPPED)
    comment = Comment(f"stopped:{workflow.design_version}", messages.stopped(login))
    return Decision(stopped, (*removals, comment), reason=f"stopped by {login}")


def _design_published(
    workflow: Workflow | None, event: DesignPublished, config: RepoConfig
) -> Decision:
    if workflow is None or workflow.stage is not Stage.DESIGNING:
        return Decision(workflow, reason="ignored: no design was being written")
    if event.version != workflow.design_version:
        return Decision(workflow, reason=f"ignored: v{event.version} is not the current version")
    proposed = replace(
        workflow,
        stage=Stage.DESIGN_PROPOSED,
        design_comment_id=event.comment_id,
        proposed_hash=event.content_hash,
    )
    return Decision(
        proposed,
        (AddLabel(config.labels.design_proposed),),
        reason=f"design v{event.version} proposed",
    )


def _stage_failed(workflow: Workflow | None, event: StageFailed, config: RepoConfig) -> Decision:
    if workflow is None or workflow.stage is Stage.STOPPED:
        return Decision(workflow, reason="ignored: no active workflow")
    escalated = replace(workflow, stage=Stage.NEEDS_HUMAN, escalation=event.reason)
    actions = (
        AddLabel(config.labels.needs_human),
        Comment(
            f"failed:{event.stage}:{workflow.design_version}",
            messages.stage_failed(event.stage, event.reason),
        ),
    )
    return Decision(escalated, actions, reason=f"{event.stage} failed")


def _architect(workflow: Workflow, feedback_from: str | None) -> RunStage:
    issue = f"{workflow.repository}#{workflow.issue_number}"
    key = f"{ARCHITECT_JOB}:{issue}:v{workflow.design_version}"
    payload = {
        "repository": workflow.repository,
        "installation_id": workflow.installation_id,
        "issue_number": workflow.issue_number,
        "version": workflow.design_version,
        "feedback_from": feedback_from,
    }
    return RunStage(ARCHITECT_JOB, key, payload)
