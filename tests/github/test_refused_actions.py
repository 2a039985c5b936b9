"""An action GitHub will never take is skipped with a log line, and the rest still run: one
refused comment must not block every later event of the workflow."""

from __future__ import annotations

import logging

import pytest

from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.stages.executor import carry_out
from bot.store import Store
from bot.workflow.actions import AddLabel, PostComment
from tests.github.conftest import REPO
from triad_lab.simulator.server import Simulator


async def _status() -> str:
    return ""


async def test_a_refused_action_is_skipped_and_the_next_ones_run(
    sim: Simulator, repo: Repo, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    issue = sim.open_issue(REPO, "alice", "t", "b").number
    actions = (
        PostComment("gone", "to an issue that does not exist", on="issue"),
        AddLabel("triad:design-proposed"),
    )
    with caplog.at_level(logging.WARNING):
        await carry_out(actions[:1], repo, 999, store, RepoConfig(), _status)
        await carry_out(actions[1:], repo, issue, store, RepoConfig(), _status)
    assert "GitHub refused an action: skipped" in caplog.text
    assert "triad:design-proposed" in sim.labels_on(REPO, issue)
