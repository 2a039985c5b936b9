"""`/triad …` commands in comments on an issue or on Triad's PR."""

from __future__ import annotations

from bot.github import pulls
from bot.github.events import IssueCommentEvent
from bot.routing.intake import Intake, issue_of_branch
from bot.routing.router import DoorFacts, Ignored, Routed, Router
from bot.workflow.commands import parse_command
from bot.workflow.events import CommandIssued

router = Router()


def _no_command(event: IssueCommentEvent, _facts: DoorFacts) -> Ignored | None:
    if parse_command(event.comment.body):
        return None
    return Ignored("the comment holds no /triad command", "no_command")


@router.register("issue_comment", "created", IssueCommentEvent, door=_no_command)
async def comment_created(event: IssueCommentEvent, intake: Intake) -> Routed | Ignored:
    """A command for the issue's workflow (on a PR: the workflow of the issue it implements)."""
    command = parse_command(event.comment.body)
    if command is None:
        return Ignored("the comment holds no /triad command", "no_command")
    issue: int | None = event.issue.number
    if event.issue.is_pull_request:
        pull = await pulls.get_pull(intake.repo, event.issue.number)
        mine = pull is not None and pull.head_repo == intake.repository
        issue = issue_of_branch(pull.head_ref) if pull is not None and mine else None
    if issue is None:
        return Ignored("a comment on a pull request that is not Triad's", "not_triads_branch")
    return Routed(issue, CommandIssued(await intake.actor(event.sender), intake.source, command))
