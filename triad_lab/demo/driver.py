"""Plays the people of a demo scenario against the running stack, and records each step."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage, Workflow
from triad_lab.simulator import demo_repo
from triad_lab.simulator.stack import TriadStack

REPO = demo_repo.REPOSITORY
Check = Callable[["DemoDriver"], Awaitable[str | None]]


@dataclass
class StepRecord:
    name: str
    ok: bool
    seconds: float
    stage: str
    problem: str | None = None


@dataclass
class DemoDriver:
    stack: TriadStack
    say: Callable[[str], None]
    issue: int = 0
    steps: list[StepRecord] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    # -- people and CI ---------------------------------------------------------------------

    def open_issue(self) -> None:
        github = self.stack.github
        self.issue = github.open_issue(
            REPO, demo_repo.CONTRIBUTOR, demo_repo.ISSUE_TITLE, demo_repo.ISSUE_BODY
        ).number

    def label(self, who: str, name: str, *, on_pr: bool = False) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            self.stack.github.add_label(REPO, await self._number(on_pr), who, name)

        return act

    def comment(self, who: str, text: str, *, on_pr: bool = False) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            self.stack.github.comment(REPO, await self._number(on_pr), who, text)

        return act

    def persons_pull(
        self, who: str, branch: str, files: dict[str, str | None], title: str, body: str
    ) -> Callable[[], Awaitable[None]]:
        """A person pushes a branch and opens a pull request from it; from then on the story
        follows that pull request's review (its workflow is keyed by the PR's number)."""

        async def act() -> None:
            github = self.stack.github
            github.push(REPO, branch, who, files, title)
            pull = github.open_pull(REPO, who, title=title, head=branch, base="main", body=body)
            self.issue = pull.number

        return act

    def check_button(self, who: str, identifier: str) -> Callable[[], Awaitable[None]]:
        """A person clicks a button of Triad's check run on the head under review."""

        async def act() -> None:
            head = (await self.workflow()).head_sha
            runs = [r for r in self.stack.github.check_runs(REPO, head) if r.app == "triad"]
            self.stack.github.click_check_action(REPO, runs[-1].id, who, identifier)

        return act

    def ci(self, conclusion: str, log: str = "") -> Callable[[], Awaitable[None]]:
        """CI finishes on the PR's head, as GitHub Actions reports it."""

        async def act() -> None:
            head = (await self.workflow()).head_sha or ""
            runs: list[dict[str, Any]] = [
                {
                    "name": "test",
                    "conclusion": conclusion,
                    "title": "pytest" if conclusion == "success" else "1 failed",
                    "summary": log.splitlines()[-1] if log else "",
                    "text": log,
                    "annotations": [],
                }
            ]
            self.stack.github.complete_checks(REPO, head, conclusion, runs=runs)

        return act

    async def _number(self, on_pr: bool) -> int:
        if not on_pr:
            return self.issue
        number = (await self.workflow()).pr_number
        if number is None:
            raise RuntimeError("there is no pull request yet")
        return number

    # -- reading ---------------------------------------------------------------------------

    async def workflow(self) -> Workflow:
        assert self.stack.store is not None
        found = await WorkflowStore(self.stack.store).get(REPO, self.issue)
        if found is None:
            raise LookupError("no workflow on the demo issue")
        return found

    async def stage(self) -> str:
        try:
            return str((await self.workflow()).stage)
        except LookupError:
            return "none"

    async def spent(self) -> tuple[int, float]:
        assert self.stack.store is not None
        try:
            workflow = await self.workflow()
        except LookupError:
            return 0, 0.0
        totals = await UsageStore(self.stack.store).totals(workflow.id or 0)
        return totals.tokens, totals.cost

    # -- steps -----------------------------------------------------------------------------

    async def step(
        self,
        name: str,
        act: Callable[[], Awaitable[None]],
        expect: Stage | None,
        check: Check | None = None,
    ) -> bool:
        """Do `act` as a person or CI, wait for Triad to settle, and check where it stands."""
        began = time.monotonic()
        problem = None
        try:
            await act()
            await self.stack.settle()
            stage = await self.stage()
            if expect is not None and stage != str(expect):
                problem = f"expected the workflow to be {expect}, it is {stage}"
            elif check is not None:
                problem = await check(self)
        except Exception as exc:  # a failed step is reported, not raised
            problem = f"{type(exc).__name__}: {exc}"
        stage = await self.stage()
        record = StepRecord(name, problem is None, time.monotonic() - began, stage, problem)
        self.steps.append(record)
        tokens, cost = await self.spent()
        elapsed = time.monotonic() - self.started
        mark = "✓" if record.ok else "✗"
        self.say(
            f"{mark} [{elapsed:5.1f}s] {name:<52} → {stage:<16} {tokens:>7,} tokens  ${cost:.3f}"
        )
        if problem:
            self.say(f"    {problem}")
        return record.ok
