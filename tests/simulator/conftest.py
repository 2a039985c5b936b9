"""A running GitHub simulator with one installed repository, a webhook receiver, and helpers
that talk to the simulator the way a client would (a JWT, a token, raw HTTP)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest

from bot.github.client import GitHubApp
from triad_lab.simulator.server import Simulator

REPO = "acme/widgets"
SECRET = "test-secret"
FILES = {
    "README.md": "# Widgets\n\nA small library of widgets.\n",
    "widgets/__init__.py": "",
    "widgets/core.py": "def spin(n):\n    return n + 1\n\n\ndef stop():\n    return None\n",
    "tests/test_core.py": (
        "from widgets.core import spin\n\n\ndef test_spin():\n    assert spin(1) == 2\n"
    ),
}


def hub_signature(body: bytes) -> str:
    """`X-Hub-Signature-256` computed here, independently of the code under test."""
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


class Receiver:
    """Records the webhooks it gets, with each signature checked against our own HMAC."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # (http.server's naming)
                body = self.rfile.read(int(self.headers["content-length"]))
                signature = self.headers["x-hub-signature-256"] or ""
                receiver.received.append(
                    {
                        "event": self.headers["x-github-event"],
                        "delivery": self.headers["x-github-delivery"],
                        "headers": dict(self.headers.items()),
                        "signed": hmac.compare_digest(signature, hub_signature(body)),
                        "payload": json.loads(body),
                    }
                )
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/github/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, event: str, action: str | None = None) -> list[dict[str, Any]]:
        return [
            r["payload"]
            for r in self.received
            if r["event"] == event and (action is None or r["payload"].get("action") == action)
        ]


class Clock:
    """GitHub's clock, for tests that move time (token and JWT expiry)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def make_sim(receiver: Receiver) -> Iterator[Callable[..., Simulator]]:
    """Start a simulator (options as `Simulator` takes them) with REPO installed."""
    started: list[Simulator] = []

    def make(**options: Any) -> Simulator:
        running = Simulator(webhook_url=receiver.url, webhook_secret=SECRET, **options)
        started.append(running.start())
        running.create_repository(
            REPO, FILES, collaborators={"alice": "maintain", "bob": "read", "carol": "write"}
        )
        running.install("acme", [REPO])
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture
def sim(make_sim: Callable[..., Simulator]) -> Simulator:
    return make_sim()


@pytest.fixture
def app(sim: Simulator) -> GitHubApp:
    return GitHubApp(
        sim.app_id, sim.private_key_pem, sim.url, write_interval=0, retry_base_delay=0.01
    )


@pytest.fixture
def installation_id(sim: Simulator) -> int:
    return installation_of(sim)


def installation_of(sim: Simulator) -> int:
    """The App's installation on REPO, where every simulator of these tests installs it."""
    found = sim.installation_id(REPO)
    assert found is not None
    return found


def app_jwt(sim: Simulator, *, key: str | None = None, **claims: Any) -> str:
    """The App's JWT as GitHub's docs build it; `claims` override iat, exp, iss."""
    now = int(time.time())
    body = {"iat": now - 60, "exp": now + 540, "iss": str(sim.app_id)} | claims
    return jwt.encode(body, key or sim.private_key_pem, algorithm="RS256")


def token_for(sim: Simulator, installation_id: int) -> str:
    """An installation access token, fetched over HTTP with the App's JWT."""
    answer = httpx.post(
        f"{sim.url}/app/installations/{installation_id}/access_tokens",
        headers={"authorization": f"Bearer {app_jwt(sim)}"},
    )
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def as_installation(sim: Simulator, token: str) -> httpx.Client:
    """A raw HTTP client with an installation token (to see exact statuses and headers)."""
    return httpx.Client(
        base_url=sim.url,
        headers={"authorization": f"token {token}", "accept": "application/vnd.github+json"},
    )
