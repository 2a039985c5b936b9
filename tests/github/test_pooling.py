"""One process, one pool of connections to GitHub: every installation's client and the App's
own send through the same HTTP client, and an installation token is asked for once while it
is good (issue 14: a new client per request reloaded the CA bundle, ~22 ms of CPU each)."""

from __future__ import annotations

from collections.abc import Callable

from bot.github.client import GitHubApp
from tests.github.conftest import REPO, app_for
from triad_lab.simulator.server import Simulator

OTHER = "globex/gadgets"
TOKEN_ROUTE = "POST /app/installations/{installation_id}/access_tokens"


def _two_installations(sim: Simulator) -> tuple[int, int]:
    sim.create_repository(OTHER, {"README.md": "# Gadgets\n"})
    sim.install("globex", [OTHER])
    first, second = sim.installation_id(REPO), sim.installation_id(OTHER)
    assert first is not None and second is not None and first != second
    return first, second


async def _read_both(app: GitHubApp, first: int, second: int, rounds: int) -> None:
    for _ in range(rounds):
        for installation_id, full_name in ((first, REPO), (second, OTHER)):
            repo = app.repo(installation_id, full_name, me="triad[bot]")
            assert await repo.default_branch() == "main"


async def test_every_client_of_the_app_shares_one_connection(sim: Simulator) -> None:
    first, second = _two_installations(sim)
    app = app_for(sim)

    await app.own_login()  # as the App (JWT)
    await _read_both(app, first, second, rounds=5)  # as each installation

    assert len(sim.requests) == 1 + 2 + 10  # the App, two tokens, ten reads
    assert len(sim.connections()) == 1
    assert app.transport.pools_built == 1
    await app.aclose()


async def test_a_token_is_asked_for_once_per_installation_while_it_is_good(
    sim: Simulator,
) -> None:
    first, second = _two_installations(sim)
    app = app_for(sim)

    await _read_both(app, first, second, rounds=4)

    assert sim.requests_by_kind("app")[TOKEN_ROUTE] == 2
    await app.aclose()


async def test_a_token_about_to_expire_is_replaced(sim: Simulator) -> None:
    """githubkit keeps a token until a minute before the `expires_at` GitHub gave it."""
    sim.world.token_lifetime = 30.0
    installation_id = sim.installation_id(REPO)
    assert installation_id is not None
    app = app_for(sim)
    repo = app.repo(installation_id, REPO, me="triad[bot]")

    for _ in range(3):
        await repo.default_branch()

    assert sim.requests_by_kind("app")[TOKEN_ROUTE] == 3
    await app.aclose()


async def test_the_pool_survives_a_second_event_loop(
    make_sim: Callable[..., Simulator],
) -> None:
    """Connections belong to the loop that opened them: a process that runs a second loop
    (e.g. two `asyncio.run` in one command) gets a fresh pool there, not a broken one."""
    import asyncio
    import threading

    sim = make_sim()
    installation_id = sim.installation_id(REPO)
    assert installation_id is not None
    app = app_for(sim)
    repo = app.repo(installation_id, REPO, me="triad[bot]")
    await repo.default_branch()

    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(asyncio.run(repo.default_branch())))
    thread.start()
    thread.join(30)

    assert answers == ["main"]
    assert await repo.default_branch() == "main"
    assert app.transport.pools_built == 3
