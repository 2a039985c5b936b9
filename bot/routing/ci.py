"""CI finished on a Triad branch: check suites, GitHub Actions runs and commit statuses all
lead to one verdict on the PR's head, once every suite on it has completed."""

from __future__ import annotations

from bot.github.events import CheckSuiteEvent, StatusEvent, WorkflowRunEvent
from bot.routing.branches import not_triads_branch
from bot.routing.intake import Intake, issue_of_branch
from bot.routing.router import NO_ACTION, DoorFacts, Ignored, Routed, Router, no_workflow

router = Router()


def _suite_door(event: CheckSuiteEvent, facts: DoorFacts) -> Ignored | None:
    app = event.check_suite.app
    if app is not None and app.is_me(facts.own_login):
        return Ignored("Triad's own check suite is not CI", "own_check")
    return not_triads_branch(event.check_suite.head_branch) or _no_workflow(facts)


def _run_door(event: WorkflowRunEvent, facts: DoorFacts) -> Ignored | None:
    return not_triads_branch(event.workflow_run.head_branch) or _no_workflow(facts)


def _no_workflow(facts: DoorFacts) -> Ignored | None:
    return no_workflow(facts, "the issue this Triad branch names")


def _suite_issue(event: CheckSuiteEvent) -> int | None:
    return issue_of_branch(event.check_suite.head_branch or "")


def _run_issue(event: WorkflowRunEvent) -> int | None:
    return issue_of_branch(event.workflow_run.head_branch or "")


def _status_issue(event: StatusEvent) -> int | None:
    found = (issue_of_branch(branch.name) for branch in event.branches)
    return next((number for number in found if number is not None), None)


def _status_door(event: StatusEvent, facts: DoorFacts) -> Ignored | None:
    if _status_issue(event) is not None:
        return _no_workflow(facts)
    return Ignored("the commit is on no Triad branch", "not_triads_branch")


# CI's events are sent in the name of whoever pushed, Triad included: never dropped as its own
@router.register(
    "check_suite",
    "completed",
    CheckSuiteEvent,
    door=_suite_door,
    by_people=False,
    asks=_suite_issue,
)
async def suite_completed(event: CheckSuiteEvent, intake: Intake) -> Routed | Ignored:
    suite = event.check_suite
    return await _verdict(issue_of_branch(suite.head_branch or ""), suite.head_sha, intake)


@router.register(
    "workflow_run", "completed", WorkflowRunEvent, door=_run_door, by_people=False, asks=_run_issue
)
async def run_completed(event: WorkflowRunEvent, intake: Intake) -> Routed | Ignored:
    run = event.workflow_run
    return await _verdict(issue_of_branch(run.head_branch or ""), run.head_sha, intake)


@router.register(
    "status", NO_ACTION, StatusEvent, door=_status_door, by_people=False, asks=_status_issue
)
async def status_changed(event: StatusEvent, intake: Intake) -> Routed | Ignored:
    return await _verdict(_status_issue(event), event.sha, intake)


async def _verdict(issue: int | None, sha: str, intake: Intake) -> Routed | Ignored:
    if issue is None:
        return Ignored("the commit is on no Triad branch", "not_triads_branch")
    finished = await intake.checks_on(issue, sha)
    if finished is None:
        return Ignored("CI is still running on the head, or the commit is not the PR's head")
    return Routed(issue, finished)
