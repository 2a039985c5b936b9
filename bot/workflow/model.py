"""The workflow's state: one issue, its design versions and (later) its pull request.

Changes to the stages should be reflected in docs/architecture.md's state diagrams.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """Where a workflow stands; each stage names what Triad (or a human) does next."""

    DESIGNING = "designing"
    DESIGN_PROPOSED = "design-proposed"
    #: the developer is writing (or fixing) the change
    IMPLEMENTING = "implementing"
    #: the PR's head waits for the repository's CI
    TESTING = "testing"
    #: CI passed (or there is none): a writer's review label starts the reviewers
    AWAITING_REVIEW = "awaiting-review"
    REVIEWING = "reviewing"
    #: both reviewers approve: human QA decides with a label
    READY_FOR_QA = "ready-for-qa"
    DONE = "done"
    NEEDS_HUMAN = "needs-human"
    STOPPED = "stopped"
    #: a person's pull request: the reviewers agree it is right, or a writer accepted it
    REVIEWED = "reviewed"
    #: a person's pull request: both reviewers ask its author for changes
    CHANGES_REQUESTED = "changes-requested"


class WorkflowKind(StrEnum):
    """What a workflow runs on: an issue (design, code, review, QA) or a person's pull request
    (the two reviewers only)."""

    ISSUE = "issue"
    PULL = "pull"


class Permission(StrEnum):
    """A person's role on the repository, as GitHub's collaborator API names it."""

    ADMIN = "admin"
    MAINTAIN = "maintain"
    WRITE = "write"
    TRIAGE = "triage"
    READ = "read"
    NONE = "none"

    @property
    def can_write(self) -> bool:
        return self in (Permission.ADMIN, Permission.MAINTAIN, Permission.WRITE)


@dataclass(frozen=True)
class Actor:
    """Who caused an event, with what the engine needs to know to trust it."""

    login: str
    permission: Permission = Permission.NONE
    #: Triad's own bot user
    is_self: bool = False
    #: another bot (an App or a machine account)
    is_bot: bool = False
    #: a bot the repository's config allows to trigger Triad
    bot_allowed: bool = False

    @property
    def may_trigger(self) -> bool:
        """Triad never reacts to itself, nor to other bots unless allow-listed."""
        return not self.is_self and (not self.is_bot or self.bot_allowed)


@dataclass(frozen=True)
class Target:
    """The issue an event is about, for a workflow that does not exist yet."""

    repository: str
    installation_id: int
    issue_number: int


@dataclass(frozen=True)
class Workflow:
    """One issue's run through the stages, or the review of a person's pull request (keyed by
    its number, which never collides with an issue's); `revision` guards concurrent updates."""

    repository: str
    installation_id: int
    issue_number: int
    stage: Stage
    kind: WorkflowKind = WorkflowKind.ISSUE
    design_version: int = 0
    design_comment_id: int | None = None
    proposed_hash: str | None = None
    approved_version: int | None = None
    approved_hash: str | None = None
    escalation: str | None = None
    #: the stage it was in when it escalated (what `/triad resume` goes back to)
    escalated_from: Stage | None = None
    #: the escalation was a stage failing (model down, budget spent), not a decision to make
    escalated_failed: bool = False
    #: the stage's job that died and caused the escalation (the operator may run it again)
    escalated_job: int | None = None
    #: times it stopped for a human: each escalation's comment is its own (a stage that fails
    #: again in the same round, after a resume or a retry, is said again)
    escalations: int = 0
    #: the design as proposed and as approved (DesignProposal as a dict): what the later
    #: stages follow, frozen at approval
    proposed_design: dict[str, Any] | None = field(default=None, compare=False)
    approved_design: dict[str, Any] | None = field(default=None, compare=False)
    #: the issue as the architect read it for the proposed design, and as approved with it
    #: (FrozenIssue as a dict): what the developer reads, never the live issue
    proposed_issue: dict[str, Any] | None = field(default=None, compare=False)
    approved_issue: dict[str, Any] | None = field(default=None, compare=False)
    #: the developer's PR, its branch and the head commit Triad last pushed
    pr_number: int | None = None
    branch: str | None = None
    head_sha: str | None = None
    #: whether the repository has CI that reports on the PR
    has_ci: bool | None = None
    #: developer rounds so far (1: the implementation; each fix is one more)
    round: int = 0
    ci_fixes: int = 0
    review_fixes: int = 0
    #: rounds people asked for with `/triad fix` and `/triad resume` since the approval
    #: (bounded by `limits.human_rounds`)
    human_rounds: int = 0
    #: paths outside the plan a writer allowed (`/triad resume allow`), until a new approval
    allowed_paths: tuple[str, ...] = ()
    #: the edits of a round stopped for touching paths outside the plan, and that round's
    #: reason and feedback (what `/triad resume allow` runs again)
    held_edits: dict[str, Any] | None = field(default=None, compare=False)
    #: review rounds so far, and the head they last reviewed
    review_round: int = 0
    reviewed_sha: str | None = None
    #: a person's pull request from a fork: reviewed from its diff alone, only on request
    from_fork: bool = False
    id: int | None = None
    revision: int = 0


def moved_on(workflow: Workflow, **changes: Any) -> Workflow:
    """`workflow` with `changes`, no longer waiting for a human (any escalation cleared)."""
    cleared: dict[str, Any] = {
        "escalation": None,
        "escalated_from": None,
        "escalated_failed": False,
        "held_edits": None,
        "escalated_job": None,
    }
    return replace(workflow, **(cleared | changes))
