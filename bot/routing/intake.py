"""What an interpreter may ask while it reads a delivery: who acted (and may they), the
workflow it concerns, the design comment's hash, the CI verdict. Each is read once."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.github import checks
from bot.github.events import Sender
from bot.github.repo import IssueText, Repo
from bot.numbers import DIGITS, issue_number
from bot.repo_config import LoadedConfig
from bot.roles.architect.render import content_hash
from bot.store import Store
from bot.store.workflows import WorkflowStore
from bot.workflow.commands import Command, parse_command
from bot.workflow.events import ChecksCompleted
from bot.workflow.model import Actor, Stage, Workflow

log = logging.getLogger(__name__)

_BRANCH = re.compile(rf"triad/issue-({DIGITS})(?:-{DIGITS})?")


def issue_of_branch(branch: str) -> int | None:
    """`triad/issue-12` (or `triad/issue-12-2`, used when someone else created the first) → 12:
    Triad's branches name the issue they implement. The name alone proves nothing: a pull
    request acts on a workflow only when it is that workflow's (`Intake.is_workflows_pull`)."""
    match = _BRANCH.fullmatch(branch)
    return issue_number(match.group(1)) if match else None


class IntakeServices(Protocol):
    """What interpreting a delivery needs of the process (bot.stages.services.Services)."""

    @property
    def store(self) -> Store: ...

    async def repo_config(self, repo: Repo) -> LoadedConfig: ...

    async def refresh_config(self, repo: Repo) -> str: ...

    async def own_login(self) -> str: ...


@dataclass
class Intake:
    """One delivery being interpreted, for one repository."""

    source: str
    repo: Repo
    services: IntakeServices
    _config: LoadedConfig | None = field(default=None, init=False)
    _issues: dict[int, IssueText] = field(default_factory=dict, init=False)

    @property
    def repository(self) -> str:
        return self.repo.full_name

    async def config(self) -> LoadedConfig:
        """The repository's config, as cached in the store by the default branch's commit."""
        if self._config is None:
            self._config = await self.services.repo_config(self.repo)
        return self._config

    async def refresh_config(self) -> str:
        """Read the config again from GitHub (a push changed it); the commit it was read at."""
        self._config = None
        return await self.services.refresh_config(self.repo)

    async def issue(self, number: int) -> IssueText:
        """The issue (or PR) as it is now on GitHub."""
        if number not in self._issues:
            self._issues[number] = await self.repo.issue(number)
        return self._issues[number]

    async def label_still_on(self, number: int, name: str) -> bool:
        """Whether `name` is on the issue or PR now: a labeled event acts only while its label
        is there, so an old or replayed delivery cannot act again once it was taken off."""
        return name in (await self.issue(number)).labels

    async def comment_still_holds(self, comment_id: int, command: Command) -> bool:
        """Whether the comment still exists and holds `command`: a deleted comment's, or a
        changed command's, old delivery does not act; an edit around the command (a sentence
        added before the job ran) leaves it acting."""
        return parse_command(await self.repo.comment_body(comment_id)) == command

    async def workflow(self, issue_number: int) -> Workflow | None:
        return await WorkflowStore(self.services.store).get(self.repository, issue_number)

    async def actor(self, sender: Sender) -> Actor:
        """Who acted; their permission is asked of GitHub only when they could trigger."""
        allowed = (await self.config()).config.allowed_bots
        actor = Actor(
            login=sender.login,
            is_self=sender.login == await self.services.own_login(),
            is_bot=sender.is_bot,
            bot_allowed=sender.login in allowed,
        )
        if not actor.may_trigger:
            return actor
        return Actor(
            login=actor.login,
            permission=await self.repo.permission(sender.login),
            is_bot=actor.is_bot,
            bot_allowed=actor.bot_allowed,
        )

    async def closer(self, sender: Sender) -> Actor:
        """Who closed or reopened something: anyone who could (another bot too) ends a
        workflow, so no permission is asked; Triad itself never triggers."""
        return Actor(
            login=sender.login,
            is_self=sender.login == await self.services.own_login(),
            is_bot=sender.is_bot,
            bot_allowed=True,
        )

    async def is_workflows_pull(self, issue_number: int, pull_number: int) -> bool:
        """Whether the pull request is the one Triad opened for the issue's workflow (anyone
        may open a PR from a branch named like Triad's)."""
        workflow = await self.workflow(issue_number)
        return workflow is not None and workflow.pr_number == pull_number

    async def design_hash(self, issue_number: int) -> str | None:
        """The design comment's hash as it is now (None when there is none)."""
        workflow = await self.workflow(issue_number)
        if workflow is None or workflow.design_comment_id is None:
            return None
        body = await self.repo.comment_body(workflow.design_comment_id)
        return content_hash(body) if body is not None else None

    async def checks_on(self, issue_number: int, sha: str) -> ChecksCompleted | None:
        """CI finished on `sha`: a verdict once every suite on it has completed."""
        workflow = await self.workflow(issue_number)
        if workflow is None or workflow.head_sha != sha:
            return None
        found = await checks.verdict(self.repo, sha)
        if not found.finished:
            log.info("CI still running on the PR head", extra={"sha": sha})
            return None
        return ChecksCompleted(sha, found.passed, found.report())

    async def qa_note(self, number: int, login: str, issue_number: int) -> str:
        """What the person who failed QA wrote since the change became ready for QA."""
        history = await WorkflowStore(self.services.store).history(self.repository, issue_number)
        ready = max((t.at for t in history if t.to_stage == Stage.READY_FOR_QA), default=0.0)
        said = [
            c.body
            for c in await self.repo.comments(number)
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
