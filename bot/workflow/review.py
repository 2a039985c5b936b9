"""Gate B (review label), the reviewers' outcome, and gate C (human QA) (pure)."""

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
from bot.workflow.events import LabelAdded, ReviewsFinished, ReviewVerdict
from bot.workflow.implementation import escalate, redesign, start_implementation, start_review
from bot.workflow.jobs import RoundReason
from bot.workflow.model import Stage, Workflow
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
        refused = (
            Refuse(event.actor.login, refusal, event.source, PULL),
            RemoveLabel(event.label, PULL),
        )
        return Decision(workflow, refused, reason=f"refused: {event.actor.login} cannot write")
    if workflow is None:
        return Decision(None, reason="ignored: no workflow")
    if event.label == labels.review:
        if workflow.stage is not Stage.AWAITING_REVIEW:
            return Decision(workflow, reason=f"ignored: review label while {workflow.stage}")
        return start_review(workflow, f"review label added by {event.actor.login}", labels)
    if workflow.stage is not Stage.READY_FOR_QA:
        return Decision(workflow, reason=f"ignored: {event.label} while {workflow.stage}")
    if event.label == labels.qa_passed:
        done = replace(workflow, stage=Stage.DONE)
        actions: tuple[Action, ...] = (
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
