"""The jobs Triad queues, each with a typed payload and a key so the same work is never queued
twice.

A payload is stored as JSON with its job and read back by the stage skeleton
(`bot.stages.skeleton`) with the same model, so a stage never unpacks a dict by hand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from bot.workflow.actions import RunStage
from bot.workflow.events import StageName
from bot.workflow.model import Target, Workflow


class JobKind(StrEnum):
    """Every job kind a worker runs, by the name it is stored under."""

    DELIVERY = "delivery"
    ARCHITECT = "architect"
    DEVELOPER = "developer"
    REVIEW = "review"
    CI_WATCH = "ci-watch"
    #: finish an issue's undone actions and report its dead stage jobs (queued by the sweep)
    FINISH = "finish"


#: the kinds whose job asks models
MODEL_KINDS = (JobKind.ARCHITECT, JobKind.DEVELOPER, JobKind.REVIEW)

#: the kinds whose job runs a stage of a workflow (one that dies must reach a human), and the
#: stage each runs
STAGE_OF = {
    JobKind.ARCHITECT: StageName.ARCHITECT,
    JobKind.DEVELOPER: StageName.DEVELOPER,
    JobKind.REVIEW: StageName.REVIEW,
    JobKind.CI_WATCH: StageName.CI,
}


class RoundReason(StrEnum):
    """Why the developer works again: what its brief asks of it."""

    IMPLEMENT = "implement"
    CI = "ci"
    REVIEW = "review"
    HUMAN = "human"
    QA = "qa"


class JobPayload(BaseModel):
    """A job's payload; lenient on read so a job stored by an older version still runs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: ClassVar[JobKind]


class DeliveryTask(JobPayload):
    """Interpret one stored webhook delivery."""

    kind: ClassVar[JobKind] = JobKind.DELIVERY
    delivery_id: str


class StageTask(JobPayload):
    """A stage's work on one issue's workflow."""

    repository: str
    installation_id: int
    issue_number: int

    @property
    def target(self) -> Target:
        return Target(self.repository, self.installation_id, self.issue_number)

    @property
    def issue(self) -> str:
        return f"{self.repository}#{self.issue_number}"


class ArchitectTask(StageTask):
    """Design version `version`; `feedback` is what the developer or QA said."""

    kind: ClassVar[JobKind] = JobKind.ARCHITECT
    version: int
    feedback_from: str | None = None
    feedback: str = ""


class DeveloperTask(StageTask):
    """Developer round `round`, for `reason`."""

    kind: ClassVar[JobKind] = JobKind.DEVELOPER
    round: int
    reason: RoundReason = RoundReason.IMPLEMENT
    feedback: str = ""


class ReviewTask(StageTask):
    """Both reviewers on the PR's head commit (once per commit and review round)."""

    kind: ClassVar[JobKind] = JobKind.REVIEW
    pr_number: int
    head_sha: str
    round: int = 1
    previous_sha: str | None = None
    #: the head was reviewed before: ask the reviewers again instead of reusing their reviews
    fresh: bool = False


class CiWatchTask(StageTask):
    """A check, `minutes` after the push, that CI reported on the head (it may never run).

    `look_only`: the look right after the push, for CI that reported before the workflow knew
    the commit (its webhook was ignored then); no verdict yet is no failure.
    """

    kind: ClassVar[JobKind] = JobKind.CI_WATCH
    head_sha: str
    minutes: int
    look_only: bool = False


class FinishTask(StageTask):
    """What no live job is doing for one issue: undone actions whose holder is gone, and stage
    jobs that died unreported (found by the workers' sweep, not by an event)."""

    kind: ClassVar[JobKind] = JobKind.FINISH


def queue(task: JobPayload, key: str, delay_seconds: float = 0.0) -> RunStage:
    """The action that queues `task` under `key`."""
    return RunStage(task.kind, key, task.model_dump(mode="json"), delay_seconds)


def _about(workflow: Workflow) -> dict[str, str | int]:
    return {
        "repository": workflow.repository,
        "installation_id": workflow.installation_id,
        "issue_number": workflow.issue_number,
    }


def _issue(workflow: Workflow) -> str:
    return f"{workflow.repository}#{workflow.issue_number}"


def architect_job(workflow: Workflow, feedback_from: str | None, feedback: str = "") -> RunStage:
    """Design version `workflow.design_version`."""
    task = ArchitectTask.model_validate(
        _about(workflow)
        | {"version": workflow.design_version, "feedback_from": feedback_from, "feedback": feedback}
    )
    return queue(task, f"{task.kind}:{_issue(workflow)}:v{workflow.design_version}")


def developer_job(workflow: Workflow, reason: RoundReason, feedback: str = "") -> RunStage:
    """Developer round `workflow.round`."""
    task = DeveloperTask.model_validate(
        _about(workflow) | {"round": workflow.round, "reason": reason, "feedback": feedback}
    )
    return queue(task, f"{task.kind}:{_issue(workflow)}:r{workflow.round}")


def review_job(workflow: Workflow) -> RunStage:
    """Both reviewers on the PR's head commit."""
    task = ReviewTask.model_validate(
        _about(workflow)
        | {
            "pr_number": workflow.pr_number,
            "head_sha": workflow.head_sha,
            "round": workflow.review_round,
            "previous_sha": workflow.reviewed_sha,
            "fresh": workflow.reviewed_sha is not None
            and workflow.reviewed_sha == workflow.head_sha,
        }
    )
    key = f"{task.kind}:{_issue(workflow)}:{workflow.head_sha}:r{workflow.review_round}"
    return queue(task, key)


def ci_look_job(workflow: Workflow, after: str = "pushed") -> RunStage:
    """The CI verdict on the head, read once now that the workflow waits for it (CI that
    reported meanwhile had its webhook ignored)."""
    task = CiWatchTask.model_validate(
        _about(workflow) | {"head_sha": workflow.head_sha, "minutes": 0, "look_only": True}
    )
    return queue(task, f"{task.kind}:{_issue(workflow)}:{workflow.head_sha}:look:{after}")


def ci_watch_job(workflow: Workflow, minutes: int, after: str = "") -> RunStage:
    """A check, `minutes` from now, that CI reported on the head."""
    task = CiWatchTask.model_validate(
        _about(workflow) | {"head_sha": workflow.head_sha, "minutes": minutes}
    )
    key = f"{task.kind}:{_issue(workflow)}:{workflow.head_sha}" + (f":{after}" if after else "")
    return queue(task, key, delay_seconds=minutes * 60.0)
