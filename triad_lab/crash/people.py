"""The people and the CI of a crash run: for every issue, the maintainer and CI do what the happy
path asks of them, each once, when GitHub shows that it is their turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triad_lab.simulator import demo_repo
from triad_lab.simulator.client import SimulatorClient

REPO = demo_repo.REPOSITORY
MAINTAINER = demo_repo.MAINTAINER


@dataclass
class People:
    github: SimulatorClient
    issues: list[int] = field(default_factory=list)
    #: what was done already: (issue, step) and the PR heads CI ran on
    done: set[tuple[int, str]] = field(default_factory=set)
    ci_ran: set[str] = field(default_factory=set)

    async def open_issues(self, count: int) -> list[int]:
        """Open `count` more issues (titled by their place in the run)."""
        for n in range(len(self.issues), len(self.issues) + count):
            title = f"{demo_repo.ISSUE_TITLE} ({n + 1})"
            self.issues.append(
                await self.github.open_issue(REPO, demo_repo.OUTSIDER, title, demo_repo.ISSUE_BODY)
            )
        return self.issues

    async def act(self, state: dict[str, Any]) -> None:
        """One look at GitHub, and every step that is due."""
        by_number = {issue["number"]: issue for issue in state["issues"]}
        pulls = {pull["head_ref"]: pull for pull in state["pulls"]}
        for number in self.issues:
            issue = by_number[number]
            await self._once(number, "design", number, "triad:design")
            if "triad:design-proposed" in issue["labels"]:
                await self._once(number, "approve", number, "triad:approved")
            pull = pulls.get(f"triad/issue-{number}")
            if pull is None:
                continue
            if pull["head_sha"] not in self.ci_ran:
                self.ci_ran.add(pull["head_sha"])
                await self.github.complete_checks(REPO, pull["head_sha"], "success")
            labels = by_number[pull["number"]]["labels"]
            if "triad:ready-for-qa" in labels:
                await self._once(number, "qa", pull["number"], "triad:qa-passed")

    async def _once(self, number: int, step: str, on: int, label: str) -> None:
        """The maintainer adds `label` to issue or PR `on`, once for `step` of `number`."""
        if (number, step) not in self.done:
            self.done.add((number, step))
            await self.github.add_label(REPO, on, MAINTAINER, label)
