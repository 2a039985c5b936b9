"""A running GitHub simulator with one installed repository, and a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.github.client import GitHubApp
from bot.github.signature import is_valid_signature
from bot.simulator.server import Simulator

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


class Receiver:
    """Records the webhooks it gets, checking each signature as Triad would."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(
                    {
                        "event": self.headers["x-github-event"],
                        "delivery": self.headers["x-github-delivery"],
                        "signed": is_valid_signature(
                            body, SECRET, self.headers["x-hub-signature-256"]
                        ),
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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[Simulator]:
    with Simulator(webhook_url=receiver.url, webhook_secret=SECRET) as running:
        running.create_repository(
            REPO, FILES, collaborators={"alice": "maintain", "bob": "read", "carol": "write"}
        )
        running.install("acme", [REPO])
        yield running


@pytest.fixture
def app(sim: Simulator) -> GitHubApp:
    return GitHubApp(
        sim.app_id, sim.private_key_pem, sim.url, write_interval=0, retry_base_delay=0.01
    )


@pytest.fixture
def installation_id(sim: Simulator) -> int:
    return next(iter(sim.world.installations))
