"""`/triad …` commands in comments on an issue or on Triad's PR: acted on once per comment, and
only while the comment still exists as written."""

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
    assert command is not None  # the door let only commands in
    if not await intake.comment_still_says(event.comment.id, event.comment.body):
        return Ignored("the comment was deleted or edited since it was written")
    issue: int | None = event.issue.number
    if event.issue.is_pull_request:
        pull = await pulls.get_pull(intake.repo, event.issue.number)
        if pull is None or pull.head_repo != intake.repository:
            return Ignored("a comment on a pull request that is not Triad's")
        issue = issue_of_branch(pull.head_ref)
        if issue is None or not await intake.is_workflows_pull(issue, event.issue.number):
            return Ignored("a comment on a pull request that is not Triad's")
    assert issue is not None
    # one command per comment, whatever delivery carries it
    source = f"comment:{event.comment.id}"
    actor = await intake.actor(event.sender)
    return Routed(issue, CommandIssued(actor, source, command), source=source)
