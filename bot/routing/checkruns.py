"""Triad's check run used from GitHub's UI: its buttons at needs-human, and "Re-run".

GitHub sends these only to the App that made the check run; Triad finds the workflow by the
run's `external_id` (a fork's PR is missing from the run's `pull_requests`). Who clicked is
checked like anyone who comments a command: only writers get anything done.
"""

from __future__ import annotations

import logging

from bot.github import checkruns, pulls
from bot.github.events import CheckRunEvent, CheckSuiteEvent
from bot.numbers import issue_number
from bot.routing import reviews
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router, no_workflow
from bot.workflow.events import CheckActionRequested, RequestVia
from bot.workflow.model import Workflow

log = logging.getLogger(__name__)
router = Router()


def _not_my_run(event: CheckRunEvent, facts: DoorFacts) -> Ignored | None:
    app = event.check_run.app
    if facts.own_login and (app is None or not app.is_me(facts.own_login)):
        return Ignored("a check run that is not Triad's", "not_triads_check")
    return no_workflow(facts, "the check run's workflow")


def _run_workflow(event: CheckRunEvent) -> int | None:
    """The workflow Triad's check run names (`external_id`)."""
    external_id = event.check_run.external_id
    return issue_number(external_id) if external_id else None


def _not_my_suite(event: CheckSuiteEvent, facts: DoorFacts) -> Ignored | None:
    app = event.check_suite.app
    if facts.own_login and (app is None or not app.is_me(facts.own_login)):
        return Ignored("a check suite that is not Triad's", "not_triads_check")
    return None


@router.register(
    "check_run", "requested_action", CheckRunEvent, door=_not_my_run, asks=_run_workflow
)
async def button_clicked(event: CheckRunEvent, intake: Intake) -> Routed | Ignored:
    """ "Accept as is" or "Send back": for the workflow, if the clicker may write."""
    run, action = event.check_run, event.requested_action
    if action is None:
        return Ignored("the delivery names no requested action")
    workflow = await _workflow_of(run.external_id, intake)
    if workflow is None:
        return Ignored("the check run names no workflow")
    actor = await intake.actor(event.sender)
    if not actor.permission.can_write:
        log.warning(
            "a check run button used by someone who may not write: nothing done",
            extra={"login": actor.login, "action": action.identifier, "workflow": run.external_id},
        )
    clicked = CheckActionRequested(actor, intake.source, action.identifier, run.head_sha)
    return Routed(workflow.issue_number, clicked)


@router.register("check_run", "rerequested", CheckRunEvent, door=_not_my_run, asks=_run_workflow)
async def run_rerequested(event: CheckRunEvent, intake: Intake) -> Routed | Ignored:
    """ "Re-run" on Triad's check run: the reviewers review the pull request again."""
    return await _review_again(event.check_run.external_id, event, intake)


@router.register("check_suite", "rerequested", CheckSuiteEvent, door=_not_my_suite)
async def suite_rerequested(event: CheckSuiteEvent, intake: Intake) -> Routed | Ignored:
    """ "Re-run all checks" of Triad's suite: the same as re-running its check run."""
    runs = await checkruns.in_suite(intake.repo, event.check_suite.id)
    if not runs:
        return Ignored("Triad's suite holds no check run of its own")
    return await _review_again(runs[-1].external_id, event, intake)


async def _review_again(
    external_id: str | None, event: CheckRunEvent | CheckSuiteEvent, intake: Intake
) -> Routed | Ignored:
    workflow = await _workflow_of(external_id, intake)
    if workflow is None or workflow.pr_number is None:
        return Ignored("the check run names no workflow with a pull request")
    info = await pulls.get_pull(intake.repo, workflow.pr_number)
    if info is None:
        return Ignored("the pull request is gone")
    number = workflow.issue_number
    return await reviews.request(number, info, RequestVia.RERUN, intake, event.sender)


async def _workflow_of(external_id: str | None, intake: Intake) -> Workflow | None:
    number = issue_number(external_id) if external_id else None
    return None if number is None else await intake.workflow(number)
