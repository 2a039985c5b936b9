"""Transitions after the design gate: the developer's rounds, the CI loop and its guards (pure)."""

from __future__ import annotations

from dataclasses import replace

from bot.repo_config import Labels, RepoConfig
from bot.workflow import messages
from bot.workflow.actions import ISSUE, PULL, Action, AddLabel, PostComment, RemoveLabel, RunStage
from bot.workflow.events import (
    ChecksCompleted,
    DesignIsWrong,
    EditsHeld,
    HeadMoved,
    ImplementationPushed,
)
from bot.workflow.jobs import (
    RoundReason,
    architect_job,
    ci_look_job,
    ci_watch_job,
    developer_job,
    review_job,
)
from bot.workflow.model import Stage, Workflow, moved_on
from bot.workflow.outcome import Decision


def start_implementation(
    approved: Workflow, reason: RoundReason = RoundReason.IMPLEMENT, feedback: str = ""
) -> tuple[Workflow, RunStage]:
    """The next developer round, from any stage that allows one."""
    working = moved_on(
        approved,
        stage=Stage.IMPLEMENTING,
        round=approved.round + 1,
    )
    return working, developer_job(working, reason, feedback)


def escalate(
    workflow: Workflow,
    reason: str,
    config: RepoConfig,
    comment: PostComment,
    *,
    failed: bool = False,
    job_id: int | None = None,
) -> Decision:
    """Stop and wait for a human: `needs-human` where people look, and why (`job_id`: the
    stage's job that died)."""
    stuck = replace(
        workflow,
        stage=Stage.NEEDS_HUMAN,
        escalation=reason,
        escalated_from=workflow.stage,
        escalated_failed=failed,
        escalated_job=job_id,
        escalations=workflow.escalations + 1,
    )
    on = PULL if workflow.pr_number else ISSUE
    return Decision(stuck, (AddLabel(config.labels.needs_human, on), comment), reason=reason)


def implementation_pushed(
    workflow: Workflow | None, event: ImplementationPushed, config: RepoConfig
) -> Decision:
    if workflow is None or workflow.stage is not Stage.IMPLEMENTING:
        return Decision(workflow, reason="ignored: no developer round was running")
    if event.round != workflow.round:
        return Decision(workflow, reason=f"ignored: round {event.round} is not the current one")
    pushed = replace(
        workflow,
        pr_number=event.pr_number,
        branch=event.branch,
        head_sha=event.head_sha,
        has_ci=event.has_ci,
    )
    if event.has_ci:
        testing = replace(pushed, stage=Stage.TESTING)
        # keyed by the round too: a round that pushes a head seen before still waits for CI
        after = f"round-{event.round}"
        watch = ci_watch_job(testing, config.limits.ci_timeout_minutes, after=after)
        # CI may have reported while the push was not yet recorded (its webhook ignored then)
        look = ci_look_job(testing, after=after)
        return Decision(
            testing, (watch, look), reason=f"round {event.round} pushed: waiting for CI"
        )
    waiting = replace(pushed, stage=Stage.AWAITING_REVIEW)
    notice = PostComment(f"no-ci:{event.head_sha}", messages.no_ci(config.labels), PULL)
    return Decision(waiting, (notice,), reason=f"round {event.round} pushed: no CI to run")


def checks_completed(
    workflow: Workflow | None, event: ChecksCompleted, config: RepoConfig
) -> Decision:
    if workflow is None or workflow.stage is not Stage.TESTING:
        return Decision(workflow, reason="ignored: no PR head was waiting for CI")
    if event.head_sha != workflow.head_sha:
        return Decision(workflow, reason="ignored: CI ran on an older commit")
    if event.passed:
        return review_gate(workflow, config)
    limit = config.limits.ci_fix_attempts
    if workflow.ci_fixes >= limit:
        comment = PostComment(
            f"ci-exhausted:{workflow.head_sha}",
            messages.ci_exhausted(workflow.ci_fixes, event.report),
            PULL,
        )
        return escalate(workflow, f"CI still fails after {limit} fix attempt(s)", config, comment)
    counted = replace(workflow, ci_fixes=workflow.ci_fixes + 1)
    fixing, job = start_implementation(counted, RoundReason.CI, event.report)
    return Decision(fixing, (job,), reason=f"CI failed: fix attempt {fixing.ci_fixes} of {limit}")


def review_gate(workflow: Workflow, config: RepoConfig) -> Decision:
    """Gate B: CI passed; review starts now, or when a writer adds the review label."""
    if config.gates.review == "label":
        waiting = replace(workflow, stage=Stage.AWAITING_REVIEW)
        notice = PostComment(
            f"ci-passed:{workflow.head_sha}", messages.ci_passed_waiting(config.labels), PULL
        )
        return Decision(waiting, (notice,), reason="CI passed: waiting for the review label")
    return start_review(workflow, "CI passed", config.labels)


def start_review(workflow: Workflow, why: str, labels: Labels) -> Decision:
    reviewing = moved_on(
        workflow,
        stage=Stage.REVIEWING,
        review_round=workflow.review_round + 1,
    )
    # the label is taken off, so a writer can add it again for a later round
    actions = (RemoveLabel(labels.review, PULL), review_job(reviewing))
    return Decision(reviewing, actions, reason=f"{why}: review starts")


def edits_held(workflow: Workflow | None, event: EditsHeld, config: RepoConfig) -> Decision:
    """The round touched paths outside the plan: nothing is pushed, a writer decides."""
    if workflow is None or workflow.stage is not Stage.IMPLEMENTING:
        return Decision(workflow, reason="ignored: no developer round was running")
    if event.round != workflow.round:
        return Decision(workflow, reason=f"ignored: round {event.round} is not the current one")
    held = {
        "paths": [list(entry) for entry in event.paths],
        "reason": event.reason,
        "feedback": event.feedback,
    }
    comment = PostComment(
        f"outside-plan:r{event.round}",
        messages.edits_outside_plan(event.round, event.paths, event.refused),
        PULL,
    )
    names = ", ".join(path for path, _, _ in event.paths)
    why = f"round {event.round} wanted paths outside the plan: {names}"[:300]
    return escalate(replace(workflow, held_edits=held), why, config, comment)


def design_is_wrong(
    workflow: Workflow | None, event: DesignIsWrong, config: RepoConfig
) -> Decision:
    if workflow is None or workflow.stage is not Stage.IMPLEMENTING:
        return Decision(workflow, reason="ignored: no developer round was running")
    if event.round != workflow.round:
        return Decision(workflow, reason=f"ignored: round {event.round} is not the current one")
    return redesign(
        workflow, config, feedback=event.reason, note=messages.design_wrong(event.reason)
    )


def redesign(workflow: Workflow, config: RepoConfig, feedback: str, note: str | None) -> Decision:
    """Back to the architect for a new design version, which must be approved again."""
    labels = config.labels
    limit = config.limits.design_revisions
    if workflow.design_version >= limit:
        comment = PostComment(
            f"limit:v{workflow.design_version}", messages.revisions_exhausted(limit)
        )
        return escalate(workflow, "the design revision limit is reached", config, comment)
    designing = moved_on(
        workflow,
        stage=Stage.DESIGNING,
        design_version=workflow.design_version + 1,
    )
    actions: list[Action] = [
        RemoveLabel(labels.approved),
        RemoveLabel(labels.needs_human),
        RemoveLabel(labels.needs_human, PULL),
    ]
    if note:
        actions.append(PostComment(f"redesign:v{designing.design_version}", note))
    actions.append(architect_job(designing, feedback_from=None, feedback=feedback))
    return Decision(designing, tuple(actions), reason="back to the architect")


_RETESTED = (
    Stage.TESTING,
    Stage.AWAITING_REVIEW,
    Stage.REVIEWING,
    Stage.READY_FOR_QA,
    Stage.NEEDS_HUMAN,
)


def head_moved(workflow: Workflow | None, event: HeadMoved, config: RepoConfig) -> Decision:
    """A person pushed to the PR: the new head is tested (and then reviewed) like Triad's own."""
    if workflow is None or workflow.pr_number is None or event.head_sha == workflow.head_sha:
        return Decision(workflow, reason="ignored: not a new head of Triad's PR")
    if workflow.stage not in _RETESTED or (
        workflow.stage is Stage.NEEDS_HUMAN
        and workflow.escalated_from not in (Stage.TESTING, Stage.REVIEWING, Stage.IMPLEMENTING)
    ):
        return Decision(workflow, reason=f"ignored: a push while {workflow.stage}")
    stage = Stage.TESTING if workflow.has_ci else Stage.AWAITING_REVIEW
    moved = moved_on(
        workflow,
        stage=stage,
        head_sha=event.head_sha,
    )
    labels = config.labels
    actions: tuple[Action, ...] = (
        RemoveLabel(labels.needs_human, PULL),
        RemoveLabel(labels.ready_for_qa, PULL),
        PostComment(
            f"pushed:{event.head_sha}",
            messages.head_moved(event.actor.login, event.head_sha, bool(workflow.has_ci), labels),
            PULL,
        ),
    )
    if workflow.has_ci:
        # keyed by the push too: a branch moved back to a head it had before waits for CI
        # again (keyed by the head alone, its jobs were taken for the earlier ones, done)
        minutes, after = config.limits.ci_timeout_minutes, event.source
        actions += (ci_watch_job(moved, minutes, after=after), ci_look_job(moved, after=after))
    return Decision(moved, actions, reason=f"new commits pushed by {event.actor.login}")
