"""Triad's real server against the GitHub simulator and the fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from triad_lab.simulator import demo_repo
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack

REPO = demo_repo.REPOSITORY
MAINTAINER, CONTRIBUTOR, OUTSIDER = demo_repo.MAINTAINER, demo_repo.CONTRIBUTOR, demo_repo.OUTSIDER


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[TriadStack]:
    async with TriadStack(tmp_path, models=ScriptedModels()) as running:
        running.github.create_repository(
            REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS
        )
        running.github.install(REPO.split("/")[0], [REPO])
        await running.settle()
        yield running
        assert await running.dead_jobs() == []


def open_issue(stack: TriadStack) -> int:
    issue = stack.github.open_issue(REPO, OUTSIDER, demo_repo.ISSUE_TITLE, demo_repo.ISSUE_BODY)
    return issue.number
