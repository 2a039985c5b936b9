"""What can happen to a workflow, already interpreted: labels and comments become intents.

Handlers build these from webhook deliveries and stage results (resolving the actor's
permission and the design comment's current hash first), so the engine needs no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.workflow.commands import Command
from bot.workflow.model import Actor


@dataclass(frozen=True)
class DesignRequested:
    """The design label was added to the issue."""

    actor: Actor
    source: str


@dataclass(frozen=True)
class ApprovalRequested:
    """The approval label was added; `current_hash` is the design comment's hash now, and
    `issue_hash` the hash of the issue's title and body now."""

    actor: Actor
    source: str
    current_hash: str | None
    issue_hash: str | None = None


@dataclass(frozen=True)
class IssueEdited:
    """Someone edited the issue's title or body."""

    actor: Actor
    source: str


@dataclass(frozen=True)
class CommandIssued:
    actor: Actor
    source: str
    command: Command


@dataclass(frozen=True)
class DesignPublished:
    """The architect posted design `version`; its comment's content hash is `content_hash`."""

    version: int
    comment_id: int
    content_hash: str
    has_questions: bool
    #: the design itself (DesignProposal as a dict), frozen into the workflow at approval
    design: dict[str, Any] | None = field(default=None, compare=False)
    #: the issue as the architect read it (FrozenIssue as a dict), frozen with the design
    issue: dict[str, Any] | None = field(default=None, compare=False)


class StageName(StrEnum):
    """The stage a job ran for, as its failure comment names it."""

    ARCHITECT = "architect"
    DEVELOPER = "developer"
    REVIEW = "review"
    CI = "CI"


class ReviewVerdict(StrEnum):
    """What the two reviewers said together."""

    APPROVE = "approve"
    CHANGES = "changes"
    DISAGREE = "disagree"


@dataclass(frozen=True)
class StageFailed:
    """A stage could not finish (model unavailable, output never fit, budget spent), or its
    job ran out of attempts (`job_id`: crashes, GitHub or the store down through every retry)."""

    stage: StageName
    reason: str
    #: what the failing job worked on: a failure reported after the workflow moved on is stale
    round: int | None = None
    head_sha: str | None = None
    version: int | None = None
    #: the dead job, which the operator's `triad jobs retry` runs again
    job_id: int | None = None


@dataclass(frozen=True)
class StageRetried:
    """The operator queued stage job `job_id` again after it died (`triad jobs retry`): the
    workflow goes back to that stage, as `/triad resume` would take it."""

    stage: StageName
    job_id: int


@dataclass(frozen=True)
class ImplementationPushed:
    """The developer's commit for `round` is on the branch, and the PR exists."""

    round: int
    pr_number: int
    branch: str
    head_sha: str
    has_ci: bool


@dataclass(frozen=True)
class EditsHeld:
    """The developer's round `round` wanted to change paths outside the approved plan: nothing
    was pushed. `paths` holds (path, the model's reason, whether CI or tooling runs it)."""

    round: int
    paths: tuple[tuple[str, str, bool], ...]
    #: the round's reason (RoundReason) and feedback, to run it again if a writer allows
    reason: str
    feedback: str = ""
    #: edits refused outright in the same answer (protected paths, paths that are no paths)
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class DesignIsWrong:
    """The developer found that the approved design cannot work as written."""

    round: int
    reason: str


@dataclass(frozen=True)
class ChecksCompleted:
    """Every check suite on `head_sha` finished; `report` says what failed and why."""

    head_sha: str
    passed: bool
    report: str = ""


@dataclass(frozen=True)
class LabelAdded:
    """A label with a meaning after the design stage (review, qa-passed, qa-failed)."""

    actor: Actor
    source: str
    label: str
    #: the labeller's latest comment (for qa-failed: what failed)
    note: str = ""


@dataclass(frozen=True)
class HeadMoved:
    """Someone pushed to the PR's branch: its head is now `head_sha`."""

    actor: Actor
    source: str
    head_sha: str


@dataclass(frozen=True)
class ReviewsFinished:
    """Both reviewers posted on `head_sha`: `summary` is what Triad says on the PR, `report`
    what its check run shows (verdicts, matched findings, criteria, cost)."""

    head_sha: str
    verdict: ReviewVerdict
    summary: str = ""
    #: the review round it finished (a late finish of an earlier round is stale)
    round: int | None = None
    report: str = ""
    #: the change walked through for human reviewers (on the first review of a PR)
    walkthrough: str = ""


class RequestVia(StrEnum):
    """How a review was asked for."""

    LABEL = "label"
    COMMAND = "command"
    #: "Re-run" in GitHub's checks UI (check_run / check_suite rerequested)
    RERUN = "rerun"
    #: `review.auto`: a pull request opened or marked ready
    AUTO = "auto"


@dataclass(frozen=True)
class PullFacts:
    """A pull request as the delivery (or GitHub) showed it when a review was asked for."""

    number: int
    head_sha: str
    head_ref: str = ""
    from_fork: bool = False
    open: bool = True
    draft: bool = False


@dataclass(frozen=True)
class ReviewRequested:
    """Someone (or `review.auto`) asked the two reviewers to review a pull request."""

    actor: Actor
    source: str
    via: RequestVia
    pull: PullFacts | None = None


class CheckAction(StrEnum):
    """The buttons on Triad's check run at needs-human (their GitHub identifiers)."""

    ACCEPT = "accept"
    SEND_BACK = "send-back"


@dataclass(frozen=True)
class CheckActionRequested:
    """Someone clicked a button of Triad's check run on `head_sha`; `action` is the identifier
    GitHub sent (an unknown one does nothing)."""

    actor: Actor
    source: str
    action: str
    head_sha: str


@dataclass(frozen=True)
class IssueClosed:
    """The workflow's issue was closed (not by merging its PR)."""

    actor: Actor
    source: str


@dataclass(frozen=True)
class PullClosed:
    """The workflow's pull request was closed, merged or not."""

    actor: Actor
    source: str
    merged: bool


@dataclass(frozen=True)
class Reopened:
    """The workflow's issue (or its pull request, `pull`) was reopened."""

    actor: Actor
    source: str
    pull: bool = False


Event = (
    DesignRequested
    | ApprovalRequested
    | IssueEdited
    | CommandIssued
    | DesignPublished
    | StageFailed
    | StageRetried
    | ImplementationPushed
    | EditsHeld
    | DesignIsWrong
    | ChecksCompleted
    | LabelAdded
    | ReviewsFinished
    | HeadMoved
    | ReviewRequested
    | CheckActionRequested
    | IssueClosed
    | PullClosed
    | Reopened
)
