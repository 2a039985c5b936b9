"""One process, one pool of connections to GitHub: every installation's client and the App's
own send through the same HTTP client, and an installation token is asked for once while it
is good (issue 14: a new client per request reloaded the CA bundle, ~22 ms of CPU each)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from githubkit import TokenAuthStrategy
from githubkit.retry import RetryChainDecision, RetryRateLimit

from bot.errors import GitHubUnavailable
from bot.github.client import Client, GitHubApp, RetryServerErrors, SharedTransport
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
    (e.g. two `asyncio.run` in one command) gets its own pool there, not a broken one, and
    the first loop keeps its connection."""
    import threading

    sim = make_sim()
    installation_id = sim.installation_id(REPO)
    assert installation_id is not None
    app = app_for(sim)
    repo = app.repo(installation_id, REPO, me="triad[bot]")
    await repo.default_branch()

    async def in_second_loop() -> str:
        try:
            return await repo.default_branch()
        finally:
            await app.transport.shutdown()

    answers: list[str] = []
    thread = threading.Thread(target=lambda: answers.append(asyncio.run(in_second_loop())))
    thread.start()
    thread.join(30)

    assert answers == ["main"]
    assert await repo.default_branch() == "main"
    assert len(sim.connections()) == 2  # the first loop's, reused; the second loop's


class _RecordingProxy:
    """An HTTP proxy on localhost that answers every request itself, recording its URL."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.urls.append(head.split(b" ")[1].decode())
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


async def test_each_request_takes_the_proxy_route_of_its_own_host(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API (here bypassing the proxy by NO_PROXY) and the host an Actions job log
    redirects to (through the proxy) share the transport, each on its own route."""
    proxy = _RecordingProxy()
    listening = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    app = app_for(sim)

    await app.own_login()  # straight to the simulator
    async with httpx.AsyncClient(transport=app.transport) as client:
        log = await client.get("http://logs.example.invalid/job/1")
    listening.close()

    assert log.text == "ok"
    assert proxy.urls == ["http://logs.example.invalid/job/1"]
    assert sim.requests_by_kind("app")["GET /app"] == 1


class _ClosesSecondRequest:
    """A server that answers the first request of each connection and closes the connection
    on the second, unanswered: a kept-alive connection the server dropped as it was reused."""

    BODY = b'{"ok": true}'

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = False
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.received.append(head.split(b"\r\n", 1)[0].decode())
                length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                if length:
                    await reader.readexactly(int(length.group(1)))
                if answered:
                    return
                answered = True
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(self.BODY), self.BODY)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def _closing_server() -> AsyncIterator[tuple[_ClosesSecondRequest, Client[Any]]]:
    server = _ClosesSecondRequest()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    transport = SharedTransport()
    retry = RetryChainDecision(RetryRateLimit(), RetryServerErrors(base_delay=0.01))
    client: Client[Any] = Client(
        TokenAuthStrategy("t"),
        base_url=f"http://127.0.0.1:{port}",
        http_cache=False,
        auto_retry=retry,
        async_transport=transport,
    )
    try:
        yield server, client
    finally:
        await transport.shutdown()
        listening.close()


async def test_a_read_on_a_connection_the_server_dropped_is_sent_again() -> None:
    """A kept-alive connection closed by GitHub (or a proxy) as it is reused gets no answer:
    a read is sent again at once on a new connection, not failed as an outage."""
    async with _closing_server() as (server, client):
        await client.arequest("GET", "/repos/a/b")
        answer = await client.arequest("GET", "/repos/a/b")

    assert answer.status_code == 200
    assert server.received == ["GET /repos/a/b HTTP/1.1"] * 3


async def test_a_write_on_a_connection_the_server_dropped_may_have_happened() -> None:
    """A comment sent on a dropped connection may have landed: it is not sent again by the
    client but fails as GitHubUnavailable, which `writes.write_once` looks behind."""
    async with _closing_server() as (server, client):
        await client.arequest("GET", "/repos/a/b")
        with pytest.raises(GitHubUnavailable):
            await client.arequest("POST", "/repos/a/b/issues/1/comments", json={"body": "x"})

    assert server.received == [
        "GET /repos/a/b HTTP/1.1",
        "POST /repos/a/b/issues/1/comments HTTP/1.1",
    ]


async def test_loops_asking_the_apps_login_at_once_send_one_request(sim: Simulator) -> None:
    app = app_for(sim)

    logins = await asyncio.gather(*(app.own_login() for _ in range(4)))

    assert set(logins) == {await app.own_login()}
    assert sim.requests_by_kind("app")["GET /app"] == 1
    await app.aclose()
