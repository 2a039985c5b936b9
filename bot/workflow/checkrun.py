"""Triad's check run on the head commit of every pull request it reviews, following the
workflow's stage (pure): what branch protection can require.

- `in_progress` while the two reviewers work on a head;
- `success` when they agree the change is right, a writer accepts it as it is, or passes QA;
- `action_required` at needs-human, with buttons only writers may use ("Accept as is", and
  "Send back" to the developer on Triad's own pull requests);
- `failure` (or `neutral`, `review.check_on_changes`) when both ask for changes, or QA failed;
- `cancelled` when the review it shows is abandoned (stopped, closed, a newer head).
"""

from __future__ import annotations

from bot.repo_config import RepoConfig
from bot.workflow.actions import SetCheckRun
from bot.workflow.events import (
    CheckAction,
    Event,
    LabelAdded,
    ReviewsFinished,
    ReviewVerdict,
    StageFailed,
)
from bot.workflow.model import Actor, Stage, Workflow, WorkflowKind
from bot.workflow.outcome import Decision

SUCCESS, ACTION_REQUIRED, CANCELLED = "success", "action_required", "cancelled"


def check_actions(
    before: Workflow | None, decision: Decision, event: Event, config: RepoConfig
) -> tuple[SetCheckRun, ...]:
    """The check run updates a decision implies (none when the review is not concerned)."""
    after = decision.workflow
    if after is not None and after.head_sha and _review_started(before, after):
        return (*_superseded(before, after), _in_progress(after))
    if before is None or after is None or not before.head_sha or after.stage is before.stage:
        return ()
    sha, who = before.head_sha, _who(event)
    if before.stage is Stage.REVIEWING:
        if isinstance(event, ReviewsFinished):
            return (_finished(after, event, config),)
        if isinstance(event, StageFailed):
            return (_failed(sha, event.reason),)
        return (_cancelled(sha, decision.reason),)
    if _awaiting_decision(before):
        if after.stage in (Stage.READY_FOR_QA, Stage.REVIEWED):
            return (_decided(sha, SUCCESS, f"Accepted as it is by {who}"),)
        if after.stage is Stage.IMPLEMENTING:
            changes = config.review.check_on_changes
            return (_decided(sha, changes, f"Sent back to the developer by {who}"),)
        return (_cancelled(sha, decision.reason, keep=True),)
    if before.stage is Stage.READY_FOR_QA and isinstance(event, LabelAdded):
        if after.stage is Stage.DONE:
            return (_decided(sha, SUCCESS, f"QA passed ({who})"),)
        if after.stage in (Stage.IMPLEMENTING, Stage.DESIGNING):
            return (_decided(sha, "failure", f"QA failed ({who})"),)
    return ()


def _review_started(before: Workflow | None, after: Workflow) -> bool:
    return after.stage is Stage.REVIEWING and (
        before is None
        or before.stage is not Stage.REVIEWING
        or before.review_round != after.review_round
        or before.head_sha != after.head_sha
    )


def _awaiting_decision(workflow: Workflow) -> bool:
    """At needs-human over a review: its check run waits with `action_required`."""
    return workflow.stage is Stage.NEEDS_HUMAN and workflow.escalated_from is Stage.REVIEWING


def _superseded(before: Workflow | None, after: Workflow) -> tuple[SetCheckRun, ...]:
    """The check run of an older head whose review is left behind."""
    if before is None or not before.head_sha or before.head_sha == after.head_sha:
        return ()
    if before.stage is not Stage.REVIEWING and not _awaiting_decision(before):
        return ()
    why = f"a newer commit, {(after.head_sha or '')[:7]}, is reviewed instead"
    return (_cancelled(before.head_sha, why, keep=before.stage is not Stage.REVIEWING),)


def _in_progress(workflow: Workflow) -> SetCheckRun:
    return SetCheckRun(
        workflow.head_sha or "",
        "Two reviewers are reading the change",
        f"Review round {workflow.review_round} of {(workflow.head_sha or '')[:7]}: two "
        "reviewers from different providers read the change, blind to each other.",
    )


def buttons(workflow: Workflow) -> tuple[str, ...]:
    """What a writer may decide from the check run: accept, or (with a developer) send back."""
    if workflow.kind is WorkflowKind.PULL:
        return (CheckAction.ACCEPT,)
    return (CheckAction.ACCEPT, CheckAction.SEND_BACK)


def _finished(after: Workflow, event: ReviewsFinished, config: RepoConfig) -> SetCheckRun:
    report = event.report or event.summary
    if after.stage is Stage.NEEDS_HUMAN:
        title = (
            "The reviewers disagree: a human decides"
            if event.verdict is ReviewVerdict.DISAGREE
            else "The reviewers still ask for changes: a human decides"
        )
        return SetCheckRun(
            event.head_sha,
            title,
            report,
            ACTION_REQUIRED,
            event.walkthrough,
            buttons=buttons(after),
        )
    if event.verdict is ReviewVerdict.APPROVE:
        title, conclusion = "Both reviewers approve", SUCCESS
    else:
        title, conclusion = "Both reviewers ask for changes", config.review.check_on_changes
    return SetCheckRun(event.head_sha, title, report, conclusion, event.walkthrough)


def _failed(sha: str, reason: str) -> SetCheckRun:
    return SetCheckRun(
        sha,
        "The reviewers could not finish",
        f"{reason}\n\nRe-run this check, or comment `/triad resume`, once the cause is fixed.",
        ACTION_REQUIRED,
    )


def _decided(sha: str, conclusion: str, title: str) -> SetCheckRun:
    return SetCheckRun(sha, title, f"**{title}.**", conclusion, keep_summary=True)


def _cancelled(sha: str, reason: str, *, keep: bool = False) -> SetCheckRun:
    title = "Not reviewed to the end"
    return SetCheckRun(sha, title, f"**{title}:** {reason}.", CANCELLED, keep_summary=keep)


def _who(event: Event) -> str:
    actor = getattr(event, "actor", None)
    return f"@{actor.login}" if isinstance(actor, Actor) else "Triad"
