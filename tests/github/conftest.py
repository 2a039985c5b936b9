"""A running GitHub simulator with one installed repository, and the App's real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from bot.github.client import GitHubApp
from bot.github.repo import Repo
from triad_lab.simulator.server import Simulator

REPO = "acme/widgets"
FILES = {"README.md": "# Widgets\n", "widgets/core.py": "def spin(n):\n    return n + 1\n"}


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    """Start a simulator (options as `Simulator` takes them) with REPO installed."""
    started: list[Simulator] = []

    def make(**options: Any) -> Simulator:
        running = Simulator(**options).start()
        started.append(running)
        running.create_repository(REPO, FILES, collaborators={"alice": "maintain"})
        running.install("acme", [REPO])
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture
def sim(make_sim: Callable[..., Simulator]) -> Simulator:
    return make_sim()


#: every App `app_for` made in the running test, closed after it (`_close_apps`)
_APPS: list[GitHubApp] = []


def app_for(sim: Simulator, **options: Any) -> GitHubApp:
    """The App as Triad runs it, without pauses between writes and with quick retries."""
    settings: dict[str, Any] = {"write_interval": 0, "retry_base_delay": 0.01} | options
    app = GitHubApp(sim.app_id, sim.private_key_pem, sim.url, **settings)
    _APPS.append(app)
    return app


@pytest.fixture(autouse=True)
async def _close_apps() -> AsyncIterator[None]:
    """Close the connections of the Apps a test made, as the process does when it stops."""
    yield
    while _APPS:
        await _APPS.pop().aclose()


async def repo_for(sim: Simulator, app: GitHubApp) -> Repo:
    """REPO through the installation's client, its token already fetched (so faults injected
    afterwards hit the call under test, not the token request)."""
    installation_id = sim.installation_id(REPO)
    assert installation_id is not None
    repo = app.repo(installation_id, REPO, me=await app.own_login())
    await repo.default_branch()
    return repo


@pytest.fixture
async def repo(sim: Simulator) -> Repo:
    return await repo_for(sim, app_for(sim))
