"""Turn a stored delivery into an engine event: resolve who acted and what they asked for."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime

from pydantic import ValidationError

from bot.errors import PermanentJobError
from bot.github import checks, pulls
from bot.github.events import Actor as Sender
from bot.github.events import (
    CheckSuiteEvent,
    IssueCommentEvent,
    IssuesEvent,
    PullRequestEvent,
    StatusEvent,
    WebhookEvent,
    WorkflowRunEvent,
    parse_event,
)
from bot.github.repo import Repo
from bot.repo_config import CONFIG_PATH, LoadedConfig, parse_repo_config
from bot.roles.architect.render import content_hash
from bot.stages.runner import apply_event
from bot.stages.services import Services
from bot.stages.status import status_report
from bot.store import Job, Store
from bot.store.workflows import WorkflowStore
from bot.workflow.commands import parse_command
from bot.workflow.engine import Target
from bot.workflow.events import (
    ApprovalRequested,
    ChecksCompleted,
    CommandIssued,
    DesignRequested,
    Event,
    HeadMoved,
    LabelAdded,
)
from bot.workflow.model import Actor, Stage

log = logging.getLogger(__name__)

_BRANCH = re.compile(r"triad/issue-(\d+)")


async def handle_delivery(job: Job, services: Services) -> None:
    """Read a stored delivery and hand what it means to the workflow engine."""
    delivery_id = str(job.payload.get("delivery_id"))
    delivery = await services.store.get_delivery(delivery_id)
    if delivery is None:
        raise PermanentJobError(f"delivery {delivery_id} is not in the store")
    try:
        event = parse_event(delivery.event, json.loads(delivery.body))
    except (ValueError, ValidationError) as exc:
        raise PermanentJobError(f"delivery {delivery_id} cannot be read: {exc}") from exc
    if event.installation is None or event.repository is None:
        log.info("delivery names no installation or repository", extra={"delivery": delivery_id})
        return
    repo = await services.repo(event.installation.id, event.repository.full_name)
    found = await _target(event, repo)
    if found is None:
        log.info(
            "no workflow acts on this delivery",
            extra={"delivery": delivery_id, "event": delivery.event, "action": event.action},
        )
        return
    loaded = await _config(repo)
    target = Target(event.repository.full_name, event.installation.id, found)
    domain_event = await _interpret(event, delivery_id, repo, target, loaded, services)
    if domain_event is None:
        return
    actor = getattr(domain_event, "actor", None)
    if isinstance(actor, Actor) and actor.may_trigger and loaded.problems:
        await _report_config_problems(repo, target.issue_number, loaded)
    await apply_event(
        services.store,
        repo,
        target,
        loaded.config,
        domain_event,
        source=delivery_id,
        actor=event.sender.login,
        status_report=lambda: status_report(services.store, target),
    )


async def _target(event: WebhookEvent, repo: Repo) -> int | None:
    """The issue number whose workflow the delivery is about (PRs map to their issue)."""
    if isinstance(event, IssuesEvent | IssueCommentEvent):
        if not event.issue.is_pull_request:
            return event.issue.number
        if not isinstance(event, IssueCommentEvent):
            return None  # GitHub sends no issues events for PRs; kept for safety
        pull = await pulls.get_pull(repo, event.issue.number)
        if pull is None or pull.head_repo != repo.full_name:
            return None
        return issue_of_branch(pull.head_ref)
    if isinstance(event, PullRequestEvent):
        head = event.pull_request.head
        if head.repo is None or event.repository is None:
            return None
        if head.repo.full_name != event.repository.full_name:
            return None  # a fork's branch may be named triad/issue-N too: not Triad's PR
        return issue_of_branch(head.ref)
    if isinstance(event, CheckSuiteEvent):
        return issue_of_branch(event.check_suite.head_branch or "")
    if isinstance(event, WorkflowRunEvent):
        return issue_of_branch(event.workflow_run.head_branch or "")
    if isinstance(event, StatusEvent):
        found = (issue_of_branch(branch.name) for branch in event.branches)
        return next((number for number in found if number is not None), None)
    return None


def issue_of_branch(branch: str) -> int | None:
    """`triad/issue-12` → 12: Triad's branches name the issue they implement."""
    match = _BRANCH.fullmatch(branch)
    return int(match.group(1)) if match else None


async def _interpret(
    event: WebhookEvent,
    source: str,
    repo: Repo,
    target: Target,
    loaded: LoadedConfig,
    services: Services,
) -> Event | None:
    labels = loaded.config.labels
    if isinstance(event, CheckSuiteEvent | WorkflowRunEvent | StatusEvent):
        if isinstance(event, CheckSuiteEvent):
            sha = event.check_suite.head_sha
        elif isinstance(event, WorkflowRunEvent):
            sha = event.workflow_run.head_sha
        else:
            sha = event.sha
        return await _checks(repo, target, sha, services)
    if isinstance(event, PullRequestEvent) and event.action == "synchronize":
        actor = await _actor(event.sender, repo, loaded, services)
        return HeadMoved(actor, source, event.pull_request.head.sha)
    if isinstance(event, IssuesEvent | PullRequestEvent):
        if event.action != "labeled" or event.label is None:
            return None
        name = event.label.name
        if isinstance(event, IssuesEvent) and name == labels.design:
            return DesignRequested(await _actor(event.sender, repo, loaded, services), source)
        if isinstance(event, IssuesEvent) and name == labels.approved:
            actor = await _actor(event.sender, repo, loaded, services)
            return ApprovalRequested(actor, source, await _design_hash(repo, target, services))
        if name in (labels.review, labels.qa_passed, labels.qa_failed):
            actor = await _actor(event.sender, repo, loaded, services)
            note = ""
            if name == labels.qa_failed:
                note = await _qa_note(repo, event, actor.login, target, services.store)
            return LabelAdded(actor, source, name, note)
        return None
    if not isinstance(event, IssueCommentEvent) or event.action != "created":
        return None
    command = parse_command(event.comment.body)
    if command is None:
        return None
    return CommandIssued(await _actor(event.sender, repo, loaded, services), source, command)


async def _checks(repo: Repo, target: Target, sha: str, services: Services) -> Event | None:
    """CI finished on `sha`: a verdict once every suite on it has completed."""
    workflow = await WorkflowStore(services.store).get(target.repository, target.issue_number)
    if workflow is None or workflow.head_sha != sha:
        return None
    found = await checks.verdict(repo, sha)
    if not found.finished:
        log.info("CI still running on the PR head", extra={"sha": sha})
        return None
    return ChecksCompleted(sha, found.passed, found.report())


async def _qa_note(
    repo: Repo, event: IssuesEvent | PullRequestEvent, login: str, target: Target, store: Store
) -> str:
    """What the person who failed QA wrote since the change became ready for QA: what failed."""
    number = (
        event.pull_request.number if isinstance(event, PullRequestEvent) else event.issue.number
    )
    history = await WorkflowStore(store).history(target.repository, target.issue_number)
    ready = max((t.at for t in history if t.to_stage == Stage.READY_FOR_QA), default=0.0)
    said = [
        c.body
        for c in await repo.comments(number)
        if c.author == login
        and _epoch(c.created_at) >= int(ready)  # GitHub's times are whole seconds
        and not c.body.lstrip().startswith("/triad")
    ]
    return said[-1] if said else ""


def _epoch(created_at: str) -> float:
    try:
        return datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


async def _actor(sender: Sender, repo: Repo, loaded: LoadedConfig, services: Services) -> Actor:
    """Who acted; their permission is asked of GitHub only when they could trigger anything."""
    actor = Actor(
        login=sender.login,
        is_self=sender.login == await services.own_login(),
        is_bot=sender.is_bot,
        bot_allowed=sender.login in loaded.config.allowed_bots,
    )
    if not actor.may_trigger:
        return actor
    return Actor(
        login=actor.login,
        permission=await repo.permission(sender.login),
        is_bot=actor.is_bot,
        bot_allowed=actor.bot_allowed,
    )


async def _design_hash(repo: Repo, target: Target, services: Services) -> str | None:
    """The design comment's hash as it is now (None when there is none)."""
    workflow = await WorkflowStore(services.store).get(target.repository, target.issue_number)
    if workflow is None or workflow.design_comment_id is None:
        return None
    body = await repo.comment_body(workflow.design_comment_id)
    return content_hash(body) if body is not None else None


async def _config(repo: Repo) -> LoadedConfig:
    return parse_repo_config(await repo.read_file(CONFIG_PATH))


async def _report_config_problems(repo: Repo, issue_number: int, loaded: LoadedConfig) -> None:
    digest = hashlib.sha256("\n".join(loaded.problems).encode()).hexdigest()[:12]
    problems = "\n".join(f"- {problem}" for problem in loaded.problems)
    body = (
        f"`{CONFIG_PATH}` has problems; Triad uses the defaults for these and goes on:\n\n"
        f"{problems}"
    )
    await repo.comment_once(issue_number, f"config:{digest}", body)
