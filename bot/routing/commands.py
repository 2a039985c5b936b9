"""`/triad …` commands in comments on an issue, on Triad's PR, or on a person's PR, written or
edited in: each command acted on once per comment, and only while the comment still holds it."""

from __future__ import annotations

import hashlib

from bot.github import pulls
from bot.github.events import IssueCommentEvent
from bot.routing import reviews
from bot.routing.branches import is_triads
from bot.routing.intake import Intake
from bot.routing.router import DoorFacts, Ignored, Routed, Router
from bot.workflow.commands import Command, parse_command
from bot.workflow.events import CommandIssued, RequestVia

router = Router()


def _no_command(event: IssueCommentEvent, _facts: DoorFacts) -> Ignored | None:
    if parse_command(event.comment.body):
        return None
    return Ignored("the comment holds no /triad command", "no_command")


def _command_added(event: IssueCommentEvent, facts: DoorFacts) -> Ignored | None:
    """An edit acts only when its author typed a command the comment did not hold before:
    fixing a typo around a command, or a writer tidying someone else's comment, never does."""
    no_command = _no_command(event, facts)
    if no_command is not None:
        return no_command
    if event.comment.user.login != event.sender.login:
        return Ignored("an edit of someone else's comment", "others_comment")
    before = event.changes.body
    if before is None or parse_command(before.text) == parse_command(event.comment.body):
        return Ignored("the edit added no /triad command", "no_new_command")
    return None


@router.register("issue_comment", "created", IssueCommentEvent, door=_no_command)
async def comment_created(event: IssueCommentEvent, intake: Intake) -> Routed | Ignored:
    """A command for the issue's workflow; on Triad's PR, for the issue it implements; on a
    person's PR, for that PR's review (`/triad review` starts one)."""
    return await _command(event, intake)


@router.register("issue_comment", "edited", IssueCommentEvent, door=_command_added)
async def comment_edited(event: IssueCommentEvent, intake: Intake) -> Routed | Ignored:
    """A command edited into a comment acts as if the comment had been written so: a corrected
    command acts, but one command never twice for one comment (see `command_source`)."""
    return await _command(event, intake)


async def _command(event: IssueCommentEvent, intake: Intake) -> Routed | Ignored:
    command = parse_command(event.comment.body)
    if command is None:
        return Ignored("the comment holds no /triad command", "no_command")
    if not await intake.comment_still_holds(event.comment.id, command):
        return Ignored("the comment no longer holds this command (deleted or edited since)")
    source = command_source(event.comment.id, command)
    number = event.issue.number
    info = await pulls.get_pull(intake.repo, number) if event.issue.is_pull_request else None
    if event.issue.is_pull_request and info is None:
        return Ignored("the pull request is gone")
    if command.name == "review":
        return await reviews.request(number, info, RequestVia.COMMAND, intake, event.sender, source)
    if info is not None:
        issue = is_triads(info, intake.repository)
        if issue is not None and not await intake.is_workflows_pull(issue, number):
            return Ignored("a comment on a pull request that is not the workflow's own")
        if issue is None and await intake.workflow(number) is None:
            return Ignored("a command on a pull request Triad has not reviewed")
        number = issue if issue is not None else number
    actor = await intake.actor(event.sender)
    return Routed(number, CommandIssued(actor, source, command), source=source)


def command_source(comment_id: int, command: Command) -> str:
    """What a command is applied once per: the comment and the command it holds. Whatever
    delivery carries it (the comment's creation, an edit, a replay), one command acts once
    per comment; an edit to a different command (`/triad stpo` corrected to `/triad stop`,
    after the first got its reply) acts once too, as if the comment had been written so."""
    said = f"{command.name}\n{command.argument}".encode()
    return f"comment:{comment_id}:{hashlib.sha256(said).hexdigest()[:16]}"
