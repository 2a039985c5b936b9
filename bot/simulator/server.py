"""The GitHub simulator as a running server, and the scripting API that plays people and CI.

    with Simulator(webhook_url=..., webhook_secret=...) as github:
        github.create_repository("acme/widgets", {"README.md": "# Widgets\\n"})
        installation = github.install("acme", ["acme/widgets"])
        github.open_issue("acme/widgets", "alice", "Add a flag")
        github.add_label("acme/widgets", 1, "alice", "triad:design")

The real githubkit client talks to `github.url` with the App id and `github.private_key_pem`;
every change sends the signed webhook GitHub would send to `webhook_url`.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.simulator import render
from bot.simulator.api import create_api
from bot.simulator.deliveries import Delivery, WebhookSender
from bot.simulator.state import CheckSuite, Comment, Issue, Pull, Repository, Review
from bot.simulator.world import World

log = logging.getLogger(__name__)

#: events GitHub sends to every App whatever it subscribed to
ALWAYS_SENT = frozenset({"installation", "installation_repositories"})


@dataclass
class Fault:
    """For the next `times` matching requests: wait `latency` s, then answer `status` instead
    of serving them (status 0: serve them, late)."""

    method: str
    path: re.Pattern[str]
    status: int
    message: str
    headers: dict[str, str]
    times: int
    latency: float = 0.0


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    route: str
    status: int
    caller: str  # "app", "installation" or "anonymous"
    at: float = field(default_factory=time.time)

    @property
    def kind(self) -> str:
        return f"{self.method} {self.route}"


class Simulator:
    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str = "simulator-secret",
        app_id: int = 1,
        app_slug: str = "triad",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        self.public_key = key.public_key()
        self.client_id = f"Iv1.{app_id:016x}"
        self.lock = threading.RLock()
        self.world = World(app_id=app_id, app_slug=app_slug, clock=clock)
        self.world.emit = self._emit
        self.sender = WebhookSender(webhook_url, webhook_secret)
        self.requests: list[RequestRecord] = []
        self.unimplemented: list[str] = []
        self._faults: list[Fault] = []
        self._counts: Counter[int | None] = Counter()
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.api = create_api(self)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def app_id(self) -> int:
        return self.world.app.id

    @property
    def bot_login(self) -> str:
        return self.world.app.bot.login

    def start(self) -> Simulator:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        self.world.urls = render.Urls(self.url, f"{self.url}/web")
        config = uvicorn.Config(self.api, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="github-simulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the GitHub simulator did not start")
            time.sleep(0.01)
        self.sender.start()
        return self

    def stop(self) -> None:
        self.sender.stop()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- used by the API -------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.method in {method, "*"} and fault.path.search(path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def count_request(self, installation_id: int | None) -> int:
        with self.lock:
            self._counts[installation_id] += 1
            return self._counts[installation_id]

    def request_count(self) -> int:
        return len(self.requests)

    def record(self, method: str, path: str, status: int, caller: Any, route: str) -> None:
        kind = caller.kind if caller is not None else "anonymous"
        with self.lock:
            self.requests.append(RequestRecord(method, path, route, status, kind))

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        if event in self.world.app.events or event in ALWAYS_SENT:
            self.sender.send(event, payload)

    # -- faults and inspection -------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: int | None = None,
        latency: float = 0.0,
    ) -> None:
        """The next `times` requests matching `method` and the `path` regex get `status`.

        403 with `retry_after` is GitHub's secondary rate limit; use `rate_limit` for the
        primary one and `slow` for latency alone. `path` "." matches every endpoint.
        """
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        self._add_fault(method, path, status, message, headers, times, latency)

    def slow(self, method: str, path: str, seconds: float, *, times: int = 1) -> None:
        """Serve the next `times` matching requests `seconds` late."""
        self._add_fault(method, path, 0, None, {}, times, seconds)

    def rate_limit(self, method: str, path: str, *, reset_in: int = 1, times: int = 1) -> None:
        """GitHub's primary rate limit: 403, x-ratelimit-remaining 0 and the reset time."""
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(int(time.time()) + reset_in),
        }
        message = "API rate limit exceeded for installation. Wait for the reset."
        self._add_fault(method, path, 403, message, headers, times, 0.0)

    def drop_deliveries(self, count: int = 1) -> None:
        """Lose the next `count` webhooks (GitHub sometimes does); `redeliver` sends them."""
        self.sender.drop_next += count

    def duplicate_deliveries(self, count: int = 1) -> None:
        """Send the next `count` webhooks twice, with the same delivery id."""
        self.sender.duplicate_next += count

    def _add_fault(
        self,
        method: str,
        path: str,
        status: int,
        message: str | None,
        headers: dict[str, str],
        times: int,
        latency: float,
    ) -> None:
        default = {
            403: "You have exceeded a secondary rate limit. Please wait a few minutes.",
            429: "API rate limit exceeded",
            500: "Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        with self.lock:
            self._faults.append(
                Fault(
                    method.upper(),
                    re.compile(path),
                    status,
                    message or default.get(status, "Error"),
                    headers,
                    times,
                    latency,
                )
            )

    def requests_by_kind(self, caller: str | None = None) -> Counter[str]:
        with self.lock:
            return Counter(r.kind for r in self.requests if caller in {None, r.caller})

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.sender.sent)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every webhook sent so far has been answered."""
        self.sender.flush(timeout)

    def redeliver(self, delivery_id: str) -> Delivery:
        return self.sender.redeliver(delivery_id)

    # -- scripting: the administrator ------------------------------------------------------

    def create_repository(
        self,
        full_name: str,
        files: dict[str, str],
        *,
        default_branch: str = "main",
        collaborators: dict[str, str] | None = None,
    ) -> Repository:
        with self.lock:
            return self.world.create_repository(
                full_name, files, default_branch=default_branch, collaborators=collaborators
            )

    def install(self, account: str, repositories: list[str]) -> int:
        with self.lock:
            return self.world.install(account, repositories)

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        with self.lock:
            self.world.set_permission(full_name, login, role)

    # -- scripting: people -----------------------------------------------------------------

    def open_issue(self, full_name: str, actor: str, title: str, body: str = "") -> Issue:
        with self.lock:
            return self.world.open_issue(full_name, actor, title, body)

    def edit_issue(self, full_name: str, number: int, actor: str, **changes: Any) -> Issue:
        with self.lock:
            return self.world.edit_issue(full_name, number, actor, **changes)

    def comment(self, full_name: str, number: int, actor: str, body: str) -> Comment:
        with self.lock:
            return self.world.comment(full_name, number, actor, body)

    def edit_comment(self, full_name: str, comment_id: int, actor: str, body: str) -> Comment:
        with self.lock:
            return self.world.edit_comment(full_name, comment_id, actor, body)

    def add_label(self, full_name: str, number: int, actor: str, name: str) -> None:
        with self.lock:
            self.world.add_labels(full_name, number, actor, [name])

    def remove_label(self, full_name: str, number: int, actor: str, name: str) -> None:
        with self.lock:
            self.world.remove_label(full_name, number, actor, name)

    def push(
        self, full_name: str, branch: str, actor: str, files: dict[str, str | None], message: str
    ) -> str:
        """Push one commit (`None` deletes a file); a PR on that branch gets `synchronize`."""
        with self.lock:
            return self.world.push(full_name, branch, actor, files, message)

    def open_pull(self, full_name: str, actor: str, **fields: Any) -> Pull:
        with self.lock:
            return self.world.open_pull(full_name, actor, **fields)

    def submit_review(
        self, full_name: str, number: int, actor: str, event: str, body: str, **extra: Any
    ) -> Review:
        with self.lock:
            return self.world.submit_review(
                full_name, number, actor, event=event, body=body, **extra
            )

    # -- scripting: CI ---------------------------------------------------------------------

    def complete_checks(
        self,
        full_name: str,
        sha: str,
        conclusion: str,
        *,
        workflow: str = "CI",
        runs: list[dict[str, Any]] | None = None,
    ) -> CheckSuite:
        """CI finished on `sha`; sends `check_suite.completed` and `workflow_run.completed`."""
        with self.lock:
            return self.world.complete_check_suite(
                full_name, sha, conclusion, workflow=workflow, runs=runs
            )

    # -- reading state (for assertions and the demo) ---------------------------------------

    def repo(self, full_name: str) -> Repository:
        return self.world.repo(full_name)

    def labels_on(self, full_name: str, number: int) -> list[str]:
        with self.lock:
            return list(self.world.issue(full_name, number).labels)

    def comments_on(self, full_name: str, number: int) -> list[Comment]:
        with self.lock:
            return self.world.comments_on(full_name, number)

    def file_at(self, full_name: str, ref: str, path: str) -> str | None:
        with self.lock:
            repo = self.world.repo(full_name)
            tree = self.world.objects.read_commit(self.world.resolve(repo, ref)).tree
            entry = self.world.objects.flatten(tree).get(path)
            return self.world.objects.read_blob(entry.sha).decode() if entry else None
