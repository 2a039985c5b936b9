"""Turn a stored delivery into an engine event: resolve who acted and what they asked for."""

from __future__ import annotations

import hashlib
import json
import logging

from pydantic import ValidationError

from bot.errors import PermanentJobError
from bot.github.events import Actor as Sender
from bot.github.events import IssueCommentEvent, IssuesEvent, parse_event
from bot.github.repo import Repo
from bot.repo_config import CONFIG_PATH, LoadedConfig, parse_repo_config
from bot.roles.architect.render import content_hash
from bot.stages.runner import apply_event
from bot.stages.services import Services
from bot.stages.status import status_report
from bot.store import Job
from bot.store.workflows import WorkflowStore
from bot.workflow.commands import parse_command
from bot.workflow.engine import Target
from bot.workflow.events import ApprovalRequested, CommandIssued, DesignRequested, Event
from bot.workflow.model import Actor

log = logging.getLogger(__name__)


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
    repo = services.repo(event.installation.id, event.repository.full_name)
    if not isinstance(event, IssuesEvent | IssueCommentEvent) or event.issue.is_pull_request:
        log.info(
            "no stage acts on this delivery yet",
            extra={"delivery": delivery_id, "event": delivery.event, "action": event.action},
        )
        return
    issue = event.issue
    target = Target(event.repository.full_name, event.installation.id, issue.number)
    loaded = await _config(repo)
    domain_event = await _interpret(event, delivery_id, repo, target, loaded, services)
    if domain_event is None:
        return
    actor = getattr(domain_event, "actor", None)
    if isinstance(actor, Actor) and actor.may_trigger and loaded.problems:
        await _report_config_problems(repo, issue.number, loaded)
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


async def _interpret(
    event: IssuesEvent | IssueCommentEvent,
    source: str,
    repo: Repo,
    target: Target,
    loaded: LoadedConfig,
    services: Services,
) -> Event | None:
    labels = loaded.config.labels
    if isinstance(event, IssuesEvent):
        if event.action != "labeled" or event.label is None:
            return None
        if event.label.name == labels.design:
            return DesignRequested(await _actor(event.sender, repo, loaded, services), source)
        if event.label.name == labels.approved:
            actor = await _actor(event.sender, repo, loaded, services)
            return ApprovalRequested(actor, source, await _design_hash(repo, target, services))
        return None
    if event.action != "created":
        return None
    command = parse_command(event.comment.body)
    if command is None:
        return None
    return CommandIssued(await _actor(event.sender, repo, loaded, services), source, command)


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
