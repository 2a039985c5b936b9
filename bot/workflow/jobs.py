"""The stage jobs the engine queues, each keyed so the same work is never queued twice."""

from __future__ import annotations

from typing import Any

from bot.workflow.actions import RunStage
from bot.workflow.model import Workflow

ARCHITECT_JOB = "architect"
DEVELOPER_JOB = "developer"
REVIEW_JOB = "review"
CI_WATCH_JOB = "ci-watch"


def _about(workflow: Workflow) -> dict[str, Any]:
    return {
        "repository": workflow.repository,
        "installation_id": workflow.installation_id,
        "issue_number": workflow.issue_number,
    }


def _issue(workflow: Workflow) -> str:
    return f"{workflow.repository}#{workflow.issue_number}"


def architect_job(workflow: Workflow, feedback_from: str | None, feedback: str = "") -> RunStage:
    """Design version `workflow.design_version`; `feedback` is what the developer or QA said."""
    payload = _about(workflow) | {
        "version": workflow.design_version,
        "feedback_from": feedback_from,
    }
    if feedback:
        payload["feedback"] = feedback
    return RunStage(
        ARCHITECT_JOB, f"{ARCHITECT_JOB}:{_issue(workflow)}:v{workflow.design_version}", payload
    )


def developer_job(workflow: Workflow, reason: str, feedback: str = "") -> RunStage:
    """Developer round `workflow.round`: `reason` is implement, ci, review, human or qa."""
    payload = _about(workflow) | {"round": workflow.round, "reason": reason, "feedback": feedback}
    return RunStage(DEVELOPER_JOB, f"{DEVELOPER_JOB}:{_issue(workflow)}:r{workflow.round}", payload)


def review_job(workflow: Workflow) -> RunStage:
    """Both reviewers on the PR's head commit (once per commit and review round)."""
    payload = _about(workflow) | {
        "pr_number": workflow.pr_number,
        "head_sha": workflow.head_sha,
        "round": workflow.review_round,
        "previous_sha": workflow.reviewed_sha,
    }
    key = f"{REVIEW_JOB}:{_issue(workflow)}:{workflow.head_sha}:r{workflow.review_round}"
    return RunStage(REVIEW_JOB, key, payload)


def ci_watch_job(workflow: Workflow, minutes: int, after: str = "") -> RunStage:
    """A check, `minutes` from now, that CI reported on the head (it may never run)."""
    key = f"{CI_WATCH_JOB}:{_issue(workflow)}:{workflow.head_sha}" + (f":{after}" if after else "")
    payload = _about(workflow) | {"head_sha": workflow.head_sha, "minutes": minutes}
    return RunStage(CI_WATCH_JOB, key, payload, delay_seconds=minutes * 60.0)
