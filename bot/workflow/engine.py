"""The workflow engine: given a workflow and an event, the next state and the actions.

Pure code: no GitHub, no models, no store. It owns the gates (who may start, approve and
command; whether the approved design is the proposed one) and the loop guards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import assert_never

from bot.repo_config import RepoConfig
from bot.workflow import lifecycle, messages, pull_review
from bot.workflow.actions import (
    PULL,
    Action,
    AddLabel,
    EnsureLabels,
    PostComment,
    Refuse,
    RemoveLabel,
    ReportStatus,
    RunStage,
    UpdateProgress,
)
from bot.workflow.checkrun import check_actions
from bot.workflow.events import (
    ApprovalRequested,
    CheckActionRequested,
    ChecksCompleted,
    CommandIssued,
    DesignIsWrong,
    DesignPublished,
    DesignRequested,
    EditsHeld,
    Event,
    HeadMoved,
    ImplementationPushed,
    IssueClosed,
    IssueEdited,
    LabelAdded,
    PullClosed,
    Reopened,
    ReviewRequested,
    ReviewsFinished,
    StageFailed,
    StageName,
    StageRetried,
)
from bot.workflow.implementation import (
    checks_completed,
    design_is_wrong,
    edits_held,
    escalate,
    head_moved,
    implementation_pushed,
    redesign,
    start_implementation,
    start_review,
)
from bot.workflow.jobs import RoundReason, architect_job, ci_look_job, ci_watch_job
from bot.workflow.model import Actor, Stage, Target, Workflow, moved_on
from bot.workflow.outcome import Decision
from bot.workflow.review import check_action, label_added, review_requested, reviews_finished

__all__ = ["decide"]


def decide(
    workflow: Workflow | None,
    event: Event,
    target: Target,
    config: RepoConfig,
    config_problems: Sequence[str] = (),
) -> Decision:
    """The next state and actions for `event`; an event that changes nothing says why.

    A person who acts on a repository whose `.github/triad.yml` has problems is told about them
    (once per set of problems); a change to an approved workflow updates its progress comment.
    """
    actor = getattr(event, "actor", None)
    if isinstance(actor, Actor) and not actor.may_trigger:
        return Decision(workflow, reason=f"ignored: caused by {actor.login}, a bot")
    decision = _decide(workflow, event, target, config)
    before: tuple[Action, ...] = ()
    if isinstance(actor, Actor) and config_problems:
        before = (_config_problems(config_problems),)
    after: tuple[Action, ...] = check_actions(workflow, decision, event, config)
    if decision.workflow is not None and decision.workflow.approved_version:
        after += (UpdateProgress(),) if decision.changed(workflow) else ()
    if before or after:
        decision = replace(decision, actions=before + decision.actions + after)
    return decision


def _config_problems(problems: Sequence[str]) -> PostComment:
    """Said once per set of problems: the comment's key is their digest."""
    digest = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:12]
    return PostComment(f"config:{digest}", messages.config_problems(problems))


def _decide(
    workflow: Workflow | None, event: Event, target: Target, config: RepoConfig
) -> Decision:
    if pull_review.is_pull_review(workflow, event, target):
        decided = pull_review.decide_pull(workflow, event, target, config)
        if decided is not None:
            return decided
        if not isinstance(event, CommandIssued | StageFailed):
            return Decision(workflow, reason="ignored: not for the review of a pull request")
    match event:
        case DesignRequested():
            return _design_requested(workflow, event, target, config)
        case ApprovalRequested():
            return _approval_requested(workflow, event, config)
        case IssueEdited():
            return _issue_edited(workflow, event)
        case CommandIssued():
            return _command(workflow, event, config)
        case DesignPublished():
            return _design_published(workflow, event, config)
        case StageFailed():
            return _stage_failed(workflow, event, config)
        case StageRetried():
            return _stage_retried(workflow, event, config)
        case ImplementationPushed():
            return implementation_pushed(workflow, event, config)
        case DesignIsWrong():
            return design_is_wrong(workflow, event, config)
        case EditsHeld():
            return edits_held(workflow, event, config)
        case ChecksCompleted():
            return checks_completed(workflow, event, config)
        case LabelAdded():
            return label_added(workflow, event, config)
        case ReviewsFinished():
            return reviews_finished(workflow, event, config)
        case HeadMoved():
            return head_moved(workflow, event, config)
        case ReviewRequested():
            return review_requested(workflow, event, config)
        case CheckActionRequested():
            return check_action(workflow, event, config)
        case IssueClosed():
            return lifecycle.issue_closed(workflow, event, config)
        case PullClosed():
            return lifecycle.pull_closed(workflow, event, config)
        case Reopened():
            return lifecycle.reopened(workflow, event, config)
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
                Refuse(
                    event.actor.login,
                    messages.not_allowed(event.actor.login, "start a design"),
                    event.source,
                ),
                RemoveLabel(labels.design),
            ),
            reason=f"refused: {event.actor.login} cannot write",
        )
    if workflow is not None and workflow.stage is not Stage.STOPPED:
        return Decision(workflow, reason=f"ignored: the workflow is already {workflow.stage}")
    if workflow is None:
        started = Workflow(
            repository=target.repository,
            installation_id=target.installation_id,
            issue_number=target.issue_number,
            stage=Stage.DESIGNING,
            design_version=1,
        )
    else:
        limit = config.limits.design_revisions
        if workflow.design_version >= limit:
            # a restart after /triad stop is a new version too: it counts against the limit
            reply = PostComment(f"limit:{event.source}", messages.revisions_exhausted(limit))
            return Decision(
                workflow, (reply, RemoveLabel(labels.design)), reason="design revision limit"
            )
        # started again after /triad stop: the branch, PR and round count carry on, so the
        # next developer round builds on what is there and its job key is new
        started = moved_on(
            workflow,
            stage=Stage.DESIGNING,
            design_version=workflow.design_version + 1,
            ci_fixes=0,
            review_fixes=0,
        )
    return Decision(
        started,
        (EnsureLabels(), _architect(started, feedback_from=None)),
        reason=f"design requested by {event.actor.login}",
    )


_DESIGN_STAGES = (Stage.DESIGNING, Stage.DESIGN_PROPOSED, Stage.STOPPED)


def _approval_requested(
    workflow: Workflow | None, event: ApprovalRequested, config: RepoConfig
) -> Decision:
    labels, login = config.labels, event.actor.login
    if not event.actor.permission.can_write:
        refusal = messages.not_allowed(login, "approve a design")
        return _refuse_approval(workflow, event, refusal, config, f"{login} cannot write")
    if workflow is not None and workflow.approved_hash and workflow.stage not in _DESIGN_STAGES:
        return Decision(workflow, reason="ignored: this design is already approved")
    if workflow is None or workflow.stage is not Stage.DESIGN_PROPOSED:
        refusal = messages.approval_refused_no_design(login, labels)
        return _refuse_approval(workflow, event, refusal, config, "no proposed design")
    if event.current_hash != workflow.proposed_hash:
        refusal = messages.approval_refused_edited(login, labels)
        return _refuse_approval(workflow, event, refusal, config, "design edited since proposed")
    frozen = workflow.proposed_issue
    if frozen is not None and event.issue_hash != frozen.get("text_hash"):
        refusal = messages.approval_refused_issue_edited(login, labels)
        return _refuse_approval(workflow, event, refusal, config, "issue edited since proposed")
    approved = replace(
        workflow,
        approved_version=workflow.design_version,
        approved_hash=workflow.proposed_hash,
        approved_design=workflow.proposed_design,
        approved_issue=workflow.proposed_issue,
        human_rounds=0,
        allowed_paths=(),
    )
    implementing, job = start_implementation(approved)
    return Decision(
        implementing,
        (RemoveLabel(labels.design_proposed), job),
        reason=f"design v{workflow.design_version} approved by {login}",
    )


#: stages where nothing a model reads comes from the live issue any more
_FROZEN = (
    Stage.IMPLEMENTING,
    Stage.TESTING,
    Stage.AWAITING_REVIEW,
    Stage.REVIEWING,
    Stage.READY_FOR_QA,
    Stage.NEEDS_HUMAN,
)


def _issue_edited(workflow: Workflow | None, event: IssueEdited) -> Decision:
    """After approval an edit changes nothing a model reads: say so, once per approval."""
    if workflow is None or workflow.approved_version is None or workflow.stage not in _FROZEN:
        return Decision(workflow, reason="ignored: the issue is not frozen (no approved design)")
    if workflow.stage is Stage.NEEDS_HUMAN and workflow.escalated_from is Stage.DESIGNING:
        return Decision(workflow, reason="ignored: the architect reads the issue again next")
    note = PostComment(
        f"edited-after-approval:v{workflow.approved_version}",
        messages.issue_edited_after_approval(workflow.approved_version),
    )
    return Decision(workflow, (note,), reason=f"issue edited by {event.actor.login} after approval")


def _refuse_approval(
    workflow: Workflow | None,
    event: ApprovalRequested,
    refusal: str,
    config: RepoConfig,
    reason: str,
) -> Decision:
    said: Action = PostComment(f"refused:{event.source}", refusal)
    if not event.actor.permission.can_write:  # a non-writer is told once a day
        said = Refuse(event.actor.login, refusal, event.source)
    actions = (said, RemoveLabel(config.labels.approved))
    return Decision(workflow, actions, reason=f"approval refused: {reason}")


def _command(workflow: Workflow | None, event: CommandIssued, config: RepoConfig) -> Decision:
    command, login = event.command, event.actor.login
    if not event.actor.permission.can_write:
        refusal = messages.not_allowed(login, f"use `/triad {command.name}`")
        return Decision(workflow, (Refuse(login, refusal, event.source),), "refused")
    if not command.known:
        reply = PostComment(f"unknown:{event.source}", messages.unknown_command(command.name))
        return Decision(workflow, (reply,), reason=f"unknown command {command.name}")
    if command.name == "status":
        return Decision(workflow, (ReportStatus(f"status:{event.source}"),), reason="status")
    if workflow is None:
        reply = PostComment(f"nothing:{event.source}", messages.nothing_to_revise())
        return Decision(None, (reply,), reason=f"/triad {command.name} without a workflow")
    if command.name == "stop":
        return _stop(workflow, login, config)
    if command.name == "revise":
        return _revise(workflow, event, config)
    if command.name == "redesign":
        return _redesign(workflow, event, config)
    if command.name == "fix":
        return _fix(workflow, event, config)
    return _resume(workflow, event, config)


_AFTER_PUSH = (Stage.TESTING, Stage.AWAITING_REVIEW, Stage.READY_FOR_QA, Stage.NEEDS_HUMAN)


def _fix(workflow: Workflow, event: CommandIssued, config: RepoConfig) -> Decision:
    """`/triad fix`: the developer answers the review comments since its last commit."""
    if workflow.pr_number is None or workflow.stage not in _AFTER_PUSH:
        reply = PostComment(
            f"nothing:{event.source}", messages.nothing_to_do("fix", workflow.stage), PULL
        )
        return Decision(workflow, (reply,), reason=f"ignored: /triad fix while {workflow.stage}")
    cleanup = (
        RemoveLabel(config.labels.needs_human, PULL),
        RemoveLabel(config.labels.ready_for_qa, PULL),
    )
    exhausted = _human_rounds_exhausted(workflow, event, config)
    if exhausted is not None:
        return exhausted
    if workflow.stage is Stage.NEEDS_HUMAN:
        workflow = replace(workflow, ci_fixes=0, review_fixes=0)  # a human chose to go on
    fixing, job = start_implementation(
        _counted(workflow), RoundReason.HUMAN, event.command.argument
    )
    return Decision(fixing, (*cleanup, job), reason=f"/triad fix by {event.actor.login}")


def _human_rounds_exhausted(
    workflow: Workflow, event: CommandIssued, config: RepoConfig
) -> Decision | None:
    """`/triad fix` and `/triad resume` rounds are bounded per approval (each costs a model
    round, and nothing else bounds them)."""
    limit = config.limits.human_rounds
    if workflow.human_rounds < limit:
        return None
    reply = PostComment(f"limit:{event.source}", messages.human_rounds_exhausted(limit), PULL)
    return Decision(workflow, (reply,), reason=f"human round limit ({limit}) reached")


def _counted(workflow: Workflow) -> Workflow:
    return replace(workflow, human_rounds=workflow.human_rounds + 1)


def _redesign(workflow: Workflow, event: CommandIssued, config: RepoConfig) -> Decision:
    limit = config.limits.design_revisions
    if workflow.design_version >= limit:
        reply = PostComment(f"limit:{event.source}", messages.revisions_exhausted(limit))
        return Decision(workflow, (reply,), reason="design revision limit reached")
    if workflow.stage in (Stage.DESIGNING, Stage.STOPPED, Stage.DONE):
        reply = PostComment(
            f"nothing:{event.source}", messages.nothing_to_do("redesign", workflow.stage)
        )
        return Decision(workflow, (reply,), reason=f"ignored: redesign while {workflow.stage}")
    return redesign(workflow, config, feedback=event.command.argument, note=None)


def _resume(workflow: Workflow, event: CommandIssued, config: RepoConfig) -> Decision:
    """`/triad resume [decision]`: go on after needs-human, where it stopped."""
    if workflow.stage is not Stage.NEEDS_HUMAN:
        reply = PostComment(
            f"nothing:{event.source}", messages.nothing_to_do("resume", workflow.stage)
        )
        return Decision(workflow, (reply,), reason=f"ignored: resume while {workflow.stage}")
    decision, labels = event.command.argument, config.labels
    cleanup = (RemoveLabel(labels.needs_human, PULL), RemoveLabel(labels.needs_human))
    came_from = workflow.escalated_from
    words = decision.split(maxsplit=1)
    if words and words[0].lower().strip(".,;:!") == "allow":
        # `/triad resume allow`, with any words after it passed on to the developer
        return _allow(workflow, event, config, cleanup, words[1] if len(words) > 1 else "")

    def developer_round(from_: Workflow, reason: RoundReason, feedback: str = "") -> Decision:
        """A developer round a person asked for: bounded by `limits.human_rounds`."""
        exhausted = _human_rounds_exhausted(workflow, event, config)
        if exhausted is not None:
            return exhausted
        retrying, job = start_implementation(_counted(from_), reason, feedback)
        return Decision(retrying, (*cleanup, job), reason=f"resumed by {event.actor.login}")

    if workflow.escalated_failed and came_from is Stage.REVIEWING:
        # the reviewers failed to run: run them again, never skip review
        retried = start_review(workflow, f"resumed by {event.actor.login}", config.labels)
        return replace(retried, actions=cleanup + retried.actions)
    fresh = replace(workflow, ci_fixes=0, review_fixes=0)
    if workflow.held_edits is not None:
        # the round stopped on paths outside the plan: run it again, within the plan
        held = workflow.held_edits
        feedback = "\n\n".join(part for part in (str(held.get("feedback", "")), decision) if part)
        return developer_round(fresh, RoundReason(held.get("reason", "human")), feedback)
    if workflow.escalated_failed and came_from is Stage.IMPLEMENTING:
        # the developer failed to run (model down, edits never applied): run it again
        reason = RoundReason.IMPLEMENT if workflow.pr_number is None else RoundReason.HUMAN
        return developer_round(fresh, reason, decision)
    if workflow.escalated_failed and came_from is Stage.TESTING:
        # CI never reported: wait for it again, with a fresh deadline
        waiting = moved_on(
            workflow,
            stage=Stage.TESTING,
        )
        watch = ci_watch_job(waiting, config.limits.ci_timeout_minutes, after=event.source)
        look = ci_look_job(waiting, after=event.source)
        return Decision(waiting, (*cleanup, watch, look), reason=f"resumed by {event.actor.login}")
    if came_from is Stage.TESTING and not decision:
        # CI attempts ran out: one more round (its failure escalates again); the developer
        # reads the failing checks again
        return developer_round(workflow, RoundReason.CI)
    if came_from in (Stage.DESIGNING, None) or (workflow.pr_number is None and not decision):
        limit = config.limits.design_revisions
        if workflow.design_version >= limit:  # a new version, bounded as `/triad revise` is
            reply = PostComment(f"limit:{event.source}", messages.revisions_exhausted(limit))
            return Decision(workflow, (reply,), reason="design revision limit reached")
        revised = moved_on(
            workflow,
            stage=Stage.DESIGNING,
            design_version=workflow.design_version + 1,
        )
        job = architect_job(revised, feedback_from=event.source, feedback=decision)
        return Decision(revised, (*cleanup, job), reason="resumed: the architect again")
    if came_from is Stage.REVIEWING and not decision and not workflow.escalated_failed:
        ready = replace(workflow, stage=Stage.READY_FOR_QA, escalation=None, escalated_from=None)
        actions = (*cleanup, AddLabel(labels.ready_for_qa, PULL))
        return Decision(ready, actions, reason=f"resumed by {event.actor.login}: accepted as is")
    return developer_round(fresh, RoundReason.HUMAN, decision)


def _allow(
    workflow: Workflow,
    event: CommandIssued,
    config: RepoConfig,
    cleanup: tuple[Action, ...],
    note: str = "",
) -> Decision:
    """`/triad resume allow`: the held round runs again, allowed the paths it asked for (never
    one CI or tooling runs: only an approved plan may name those); the developer is told which
    paths it may now change, and the maintainer's `note`."""
    held = workflow.held_edits
    paths = [(str(p), bool(sensitive)) for p, _, sensitive in (held or {}).get("paths", [])]
    allowable = [path for path, sensitive in paths if not sensitive]
    if held is None or not allowable:
        reply = PostComment(f"nothing:{event.source}", messages.nothing_to_allow(bool(paths)), PULL)
        return Decision(workflow, (reply,), reason="nothing to allow")
    exhausted = _human_rounds_exhausted(workflow, event, config)
    if exhausted is not None:
        return exhausted
    allowed = tuple(sorted({*workflow.allowed_paths, *allowable}))
    fresh = replace(_counted(workflow), allowed_paths=allowed, ci_fixes=0, review_fixes=0)
    reason = RoundReason(held.get("reason", RoundReason.HUMAN))
    told = "\n\n".join(
        part
        for part in (
            str(held.get("feedback", "")),
            "A maintainer allowed these paths outside the plan for this round: "
            + ", ".join(allowable),
            note.strip(),
        )
        if part
    )
    retrying, job = start_implementation(fresh, reason, told)
    why = f"{event.actor.login} allowed {', '.join(allowable)}"
    return Decision(retrying, (*cleanup, job), reason=why[:300])


def _revise(workflow: Workflow, event: CommandIssued, config: RepoConfig) -> Decision:
    if workflow.stage not in (Stage.DESIGN_PROPOSED, Stage.NEEDS_HUMAN):
        return Decision(workflow, reason=f"ignored: cannot revise while {workflow.stage}")
    limit = config.limits.design_revisions
    if workflow.design_version >= limit:
        reply = PostComment(f"limit:{event.source}", messages.revisions_exhausted(limit))
        return Decision(workflow, (reply,), reason="design revision limit reached")
    revised = moved_on(
        workflow,
        stage=Stage.DESIGNING,
        design_version=workflow.design_version + 1,
    )
    actions: tuple[Action, ...] = (
        RemoveLabel(config.labels.design_proposed),
        RemoveLabel(config.labels.needs_human),
        RemoveLabel(config.labels.needs_human, PULL),
        _architect(revised, feedback_from=event.source),
    )
    return Decision(revised, actions, reason=f"revision requested by {event.actor.login}")


def _stop(workflow: Workflow, login: str, config: RepoConfig) -> Decision:
    if workflow.stage is Stage.STOPPED:
        return Decision(workflow, reason="ignored: already stopped")
    comment = PostComment(f"stopped:{workflow.design_version}", messages.stopped(login))
    return lifecycle.stop(workflow, config, comment, f"stopped by {login}")


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
        proposed_design=event.design,
        proposed_issue=event.issue,
    )
    return Decision(
        proposed,
        (AddLabel(config.labels.design_proposed),),
        reason=f"design v{event.version} proposed",
    )


_FAILS_IN = {
    StageName.ARCHITECT: Stage.DESIGNING,
    StageName.DEVELOPER: Stage.IMPLEMENTING,
    StageName.REVIEW: Stage.REVIEWING,
    StageName.CI: Stage.TESTING,
}


def _stage_failed(workflow: Workflow | None, event: StageFailed, config: RepoConfig) -> Decision:
    if workflow is None or workflow.stage is Stage.STOPPED:
        return Decision(workflow, reason="ignored: no active workflow")
    expected = _FAILS_IN.get(event.stage)
    stale = (
        (expected is not None and workflow.stage is not expected)
        or (event.round is not None and event.round != workflow.round)
        or (event.head_sha is not None and event.head_sha != workflow.head_sha)
        or (event.version is not None and event.version != workflow.design_version)
    )
    if stale:
        return Decision(
            workflow, reason=f"ignored: {event.stage} failed after the workflow moved on"
        )
    # keyed on the escalation: the same stage may fail again in the same round after a resume
    escalation = workflow.escalations + 1
    comment = PostComment(
        f"failed:{event.stage}:{workflow.design_version}:{workflow.round}:"
        f"{workflow.review_round}:{escalation}",
        messages.stage_failed(event.stage, event.reason, event.job_id),
        PULL,
    )
    reason = f"{event.stage} failed: {event.reason}"
    return escalate(workflow, reason, config, comment, failed=True, job_id=event.job_id)


def _stage_retried(workflow: Workflow | None, event: StageRetried, config: RepoConfig) -> Decision:
    """The operator ran the dead job that escalated the workflow again: back to its stage."""
    stage = _FAILS_IN.get(event.stage)
    if (
        workflow is None
        or stage is None
        or workflow.stage is not Stage.NEEDS_HUMAN
        or workflow.escalated_job != event.job_id
        or workflow.escalated_from is not stage
    ):
        return Decision(workflow, reason=f"ignored: the {event.stage} job is not what waits")
    labels = config.labels
    back = moved_on(workflow, stage=stage)
    cleanup = (RemoveLabel(labels.needs_human, PULL), RemoveLabel(labels.needs_human))
    return Decision(back, cleanup, reason=f"the {event.stage} job was retried by an operator")


def _architect(workflow: Workflow, feedback_from: str | None) -> RunStage:
    return architect_job(workflow, feedback_from)
