"""Gate B (review label), review requests, the reviewers' outcome, the check run's buttons and
gate C (human QA), on Triad's own pull request (pure)."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.repo_config import RepoConfig
from bot.workflow import messages
from bot.workflow.actions import (
    PULL,
    Action,
    AddLabel,
    MarkReady,
    MergePull,
    PostComment,
    Refuse,
    RemoveLabel,
)
from bot.workflow.events import (
    CheckAction,
    CheckActionRequested,
    LabelAdded,
    RequestVia,
    ReviewRequested,
    ReviewsFinished,
    ReviewVerdict,
)
from bot.workflow.implementation import escalate, redesign, start_implementation, start_review
from bot.workflow.jobs import RoundReason
from bot.workflow.model import Stage, Workflow, moved_on
from bot.workflow.outcome import Decision

#: words in a qa-failed note that send the workflow back to the architect
_SYSTEMIC = re.compile(
    r"\b(systemic|redesign|design is wrong|wrong design|design itself|architecture is wrong)\b",
    re.IGNORECASE,
)


def label_added(workflow: Workflow | None, event: LabelAdded, config: RepoConfig) -> Decision:
    labels = config.labels
    if not event.actor.permission.can_write:
        refusal = messages.not_allowed(event.actor.login, f"add `{event.label}`")
        actions: tuple[Action, ...] = (
            Refuse(event.actor.login, refusal, event.source, PULL),
            RemoveLabel(event.label, PULL),
        )
        return Decision(workflow, actions, reason=f"refused: {event.actor.login} cannot write")
    if workflow is None:
        return Decision(None, reason="ignored: no workflow")
    if event.label == labels.review:  # gate B, or a review again once reviewed
        request = ReviewRequested(event.actor, event.source, RequestVia.LABEL)
        return review_requested(workflow, request, config)
    if workflow.stage is not Stage.READY_FOR_QA:
        return Decision(workflow, reason=f"ignored: {event.label} while {workflow.stage}")
    if event.label == labels.qa_passed:
        done = replace(workflow, stage=Stage.DONE)
        actions = (
            RemoveLabel(labels.ready_for_qa, PULL),
            MarkReady(),
            PostComment(
                f"qa-passed:{workflow.head_sha}",
                messages.qa_passed(event.actor.login, config.gates.auto_merge),
            ),
        )
        if config.gates.auto_merge and workflow.head_sha:
            actions += (MergePull(workflow.head_sha),)
        return Decision(done, actions, reason=f"QA passed ({event.actor.login})")
    if not event.note.strip():
        ask = PostComment(f"qa-note:{event.source}", messages.qa_failed_needs_note(labels), PULL)
        return Decision(
            workflow, (ask, RemoveLabel(labels.qa_failed, PULL)), reason="QA failed with no note"
        )
    cleanup = (RemoveLabel(labels.qa_failed, PULL), RemoveLabel(labels.ready_for_qa, PULL))
    if _SYSTEMIC.search(event.note):
        decided = redesign(workflow, config, feedback=event.note, note=None)
        return replace(decided, actions=cleanup + decided.actions, reason="QA failed: systemic")
    fixing, job = start_implementation(workflow, RoundReason.QA, event.note)
    return Decision(fixing, (*cleanup, job), reason=f"QA failed ({event.actor.login})")


def reviews_finished(
    workflow: Workflow | None, event: ReviewsFinished, config: RepoConfig
) -> Decision:
    if workflow is None or workflow.stage is not Stage.REVIEWING:
        return Decision(workflow, reason="ignored: no review was running")
    if event.head_sha != workflow.head_sha:
        return Decision(workflow, reason="ignored: the review is of an older commit")
    if event.round is not None and event.round != workflow.review_round:
        return Decision(workflow, reason="ignored: the review is of an earlier round")
    reviewed = replace(workflow, reviewed_sha=event.head_sha)
    labels = config.labels
    if event.verdict is ReviewVerdict.APPROVE:
        ready = replace(reviewed, stage=Stage.READY_FOR_QA)
        return Decision(ready, (AddLabel(labels.ready_for_qa, PULL),), "both reviewers approve")
    if event.verdict is ReviewVerdict.CHANGES:
        limit = config.limits.review_fix_rounds
        if reviewed.review_fixes >= limit:
            comment = PostComment(
                f"review-exhausted:{event.head_sha}",
                messages.review_rounds_exhausted(limit, event.summary),
                PULL,
            )
            why = f"reviewers still ask for changes after {limit} round(s)"
            return escalate(reviewed, why, config, comment)
        counted = replace(reviewed, review_fixes=reviewed.review_fixes + 1)
        fixing, job = start_implementation(counted, RoundReason.REVIEW, event.summary)
        return Decision(fixing, (job,), reason="both reviewers ask for the same changes")
    comment = PostComment(f"disagreement:{event.head_sha}", event.summary, PULL)
    return escalate(reviewed, "the reviewers disagree", config, comment)


def _reviewed_and_waiting(workflow: Workflow) -> bool:
    """Past a review of the head, waiting for a human: QA, or a decision on the reviews."""
    return workflow.stage is Stage.READY_FOR_QA or (
        workflow.stage is Stage.NEEDS_HUMAN and workflow.escalated_from is Stage.REVIEWING
    )


def review_requested(
    workflow: Workflow | None, event: ReviewRequested, config: RepoConfig
) -> Decision:
    """`/triad review` or a re-run of Triad's check: the reviewers on the PR's head (again)."""
    login, labels = event.actor.login, config.labels
    if not event.actor.permission.can_write:
        if event.via is RequestVia.RERUN:
            return Decision(workflow, reason=f"refused: {login} cannot write (re-run ignored)")
        refusal = messages.not_allowed(login, "ask for a review")
        return Decision(workflow, (Refuse(login, refusal, event.source, PULL),), "refused")
    stage = workflow.stage if workflow else "none"
    if workflow is not None and workflow.stage is Stage.REVIEWING:
        return Decision(workflow, reason="ignored: the reviewers are already at work")
    if workflow is None or not (
        workflow.stage is Stage.AWAITING_REVIEW or _reviewed_and_waiting(workflow)
    ):
        if event.via is not RequestVia.COMMAND:
            return Decision(workflow, reason=f"ignored: a review request while {stage}")
        reply = PostComment(f"nothing:{event.source}", messages.nothing_to_review(stage), PULL)
        return Decision(workflow, (reply,), reason=f"ignored: /triad review while {stage}")
    cleanup = (RemoveLabel(labels.needs_human, PULL), RemoveLabel(labels.ready_for_qa, PULL))
    started = start_review(workflow, f"review asked for by {login} ({event.via})", labels)
    return replace(started, actions=cleanup + started.actions)


def check_action(
    workflow: Workflow | None, event: CheckActionRequested, config: RepoConfig
) -> Decision:
    """The check run's buttons at needs-human: accept the change as it is, or send it back to
    the developer (who answers the review comments). Only writers; anyone else's click does
    nothing (and is logged with the reason)."""
    login, labels = event.actor.login, config.labels
    if not event.actor.permission.can_write:
        return Decision(workflow, reason=f"refused: {login} cannot write; the button did nothing")
    if (
        workflow is None
        or workflow.stage is not Stage.NEEDS_HUMAN
        or workflow.escalated_from is not Stage.REVIEWING
        or workflow.escalated_failed
        or workflow.head_sha != event.head_sha
    ):
        return Decision(workflow, reason="ignored: the check run's question is no longer open")
    cleanup = (RemoveLabel(labels.needs_human, PULL), RemoveLabel(labels.needs_human))
    if event.action == CheckAction.ACCEPT:
        ready = moved_on(workflow, stage=Stage.READY_FOR_QA)
        actions = (*cleanup, AddLabel(labels.ready_for_qa, PULL))
        return Decision(ready, actions, reason=f"accepted as is by {login} (check run)")
    if event.action == CheckAction.SEND_BACK:
        fresh = replace(workflow, ci_fixes=0, review_fixes=0)
        fixing, job = start_implementation(fresh, RoundReason.HUMAN)
        return Decision(fixing, (*cleanup, job), reason=f"sent back by {login} (check run)")
    return Decision(workflow, reason=f"ignored: unknown check run action {event.action!r}")
