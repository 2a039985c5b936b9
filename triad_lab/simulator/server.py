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
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from triad_lab.simulator import render
from triad_lab.simulator.api import create_api
from triad_lab.simulator.api.common import Caller
from triad_lab.simulator.deliveries import Delivery, WebhookSender
from triad_lab.simulator.faults import Fault, Faults
from triad_lab.simulator.state import (
    CheckRun,
    CheckSuite,
    Comment,
    Issue,
    Pull,
    Repository,
    Review,
)
from triad_lab.simulator.world import World

__all__ = ["ALWAYS_SENT", "Fault", "RequestRecord", "Simulator"]

log = logging.getLogger(__name__)

#: events GitHub sends to every App whatever it subscribed to
ALWAYS_SENT = frozenset({"installation", "installation_repositories"})


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered; `kind` is its method and route as GitHub's docs
    write it (`GET /repos/{owner}/{name}/issues/{number}`), to count calls by endpoint."""

    method: str
    path: str
    route: str
    status: int
    caller: str  # "app", "installation" or "anonymous"
    at: float = field(default_factory=time.time)
    #: the client's address and port: one per TCP connection it opened
    connection: str = ""

    @property
    def kind(self) -> str:
        return f"{self.method} {self.route}"


class Simulator:
    """GitHub for one App, on loopback: the REST API in a thread, webhooks from another.

    The methods below script what people and CI do (each sends the webhooks GitHub would),
    inject faults, and read state back for assertions. Every change goes through `lock`, so
    the API's threads and a test's thread never see half a change. `clock` is GitHub's clock
    (timestamps, token and JWT expiry); `permissions` overrides the App's (Triad's app.yml).
    """

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
        permissions: dict[str, str] | None = None,
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
        self.world = World(app_id=app_id, app_slug=app_slug, clock=clock, permissions=permissions)
        self.world.emit = self._emit
        self.sender = WebhookSender(webhook_url, webhook_secret, app_id=app_id)
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        #: calls to endpoints the simulator lacks (GitHub would have answered them)
        self.unimplemented: list[str] = []
        #: crashes of the simulator itself, answered 500 (a test should see none)
        self.errors: list[str] = []
        self._counts: Counter[int | None] = Counter()
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        #: the person signed in to the web pages (the manifest flow, installing the App)
        self.web_user = "octocat"
        #: manifest flow: code -> (manifest, owner login, expiry on `clock`)
        self.manifest_codes: dict[str, tuple[dict[str, Any], str, float]] = {}
        self.app_setup_url: str | None = None
        self.client_secret: str | None = None
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
        """Serve on the port (0: a free one) and start sending webhooks; on failure, release
        whatever was opened and raise."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            self._port = sock.getsockname()[1]
            self.world.urls = render.Urls(self.url, f"{self.url}/web")
            self._serve(sock)
            self.sender.start()
        except BaseException:
            self.stop()
            sock.close()
            raise
        return self

    def _serve(self, sock: socket.socket) -> None:
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

    def stop(self) -> None:
        """Stop serving first (no request can then start a webhook), then stop sending."""
        self.faults.release()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.sender.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- used by the API -------------------------------------------------------------------

    def count_request(self, installation_id: int | None) -> int:
        with self.lock:
            self._counts[installation_id] += 1
            return self._counts[installation_id]

    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def record(
        self,
        method: str,
        path: str,
        status: int,
        caller: Caller | None,
        route: str,
        connection: str = "",
    ) -> None:
        kind = caller.kind if caller is not None else "anonymous"
        with self.lock:
            self.requests.append(
                RequestRecord(method, path, route, status, kind, connection=connection)
            )

    def connections(self) -> set[str]:
        """Every TCP connection a client made to the API (its address and port)."""
        with self.lock:
            return {r.connection for r in self.requests}

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
    ) -> Fault:
        """The next `times` requests matching `method` ("*": any) and the `path` regex get
        `status` ("." matches every endpoint).

        403 with `retry_after` is GitHub's secondary rate limit; use `rate_limit` for the
        primary one and `slow` for latency alone.
        """
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        return self.faults.add(
            method, path, status, times=times, message=message, headers=headers, latency=latency
        )

    def fail_after_write(
        self, method: str, path: str, status: int = 502, *, times: int = 1
    ) -> Fault:
        """The next `times` matching requests are carried out (the write happens, webhooks go
        out) and then answered `status`, as GitHub sometimes does: the client cannot tell
        whether its write took effect."""
        return self.faults.add(method, path, status, times=times, after=True)

    def hold(self, method: str, path: str, when: str = "before", *, times: int = 1) -> Fault:
        """Hold the next `times` matching requests until `release`: "before" they are served
        (then answered 502, never served) or "after" (served, then answered late). A crash
        harness kills the caller meanwhile: a process dying just before, or just after, a
        write."""
        if when not in ("before", "after"):
            raise ValueError("when is 'before' or 'after'")
        return self.faults.add(method, path, 0, times=times, hold=when)

    def held(self) -> list[dict[str, Any]]:
        """The requests held now: id, method, path, when."""
        return [
            {"id": h.id, "method": h.method, "path": h.path, "when": h.when, "at": h.at}
            for h in self.faults.held()
        ]

    def release(self, held_id: int | None = None) -> int:
        """Let a held request (None: every one) go on."""
        return self.faults.release(held_id)

    def slow(self, method: str, path: str, seconds: float, *, times: int = 1) -> Fault:
        """Serve the next `times` matching requests `seconds` late."""
        return self.faults.add(method, path, 0, times=times, latency=seconds)

    def rate_limit(self, method: str, path: str, *, reset_in: int = 1, times: int = 1) -> None:
        """GitHub's primary rate limit: 403, x-ratelimit-remaining 0, and a reset time
        `reset_in` seconds after each refused request."""
        message = "API rate limit exceeded for installation. Wait for the reset."
        self.faults.add(method, path, 403, times=times, message=message, reset_in=reset_in)

    def drop_deliveries(self, count: int = 1) -> None:
        """Lose the next `count` webhooks (GitHub sometimes does); `redeliver` sends them."""
        self.sender.drop(count)

    def duplicate_deliveries(self, count: int = 1) -> None:
        """Send the next `count` webhooks twice, with the same delivery id."""
        self.sender.duplicate(count)

    def requests_by_kind(self, caller: str | None = None) -> Counter[str]:
        with self.lock:
            return Counter(r.kind for r in self.requests if caller in {None, r.caller})

    @property
    def deliveries(self) -> list[Delivery]:
        return self.sender.snapshot()

    @property
    def dropped_deliveries(self) -> list[Delivery]:
        """Deliveries lost by `drop_deliveries` (`redeliver` sends one)."""
        return self.sender.snapshot(dropped=True)

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

    def installation_id(self, full_name: str) -> int | None:
        """The App's installation on the repository (None: not installed there)."""
        with self.lock:
            found = self.world.installation_for(self.world.repo(full_name))
            return found.id if found else None

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
        self, full_name: str, branch: str, actor: str, files: Mapping[str, str | None], message: str
    ) -> str:
        """Push one commit (`None` deletes a file); a PR on that branch gets `synchronize`."""
        with self.lock:
            return self.world.push(full_name, branch, actor, files, message)

    def open_pull(self, full_name: str, actor: str, **fields: Any) -> Pull:
        with self.lock:
            return self.world.open_pull(full_name, actor, **fields)

    def fork(self, full_name: str, owner: str) -> Repository:
        """`owner`'s fork of the repository (push to it, then `open_pull(head="owner:branch")`)."""
        with self.lock:
            return self.world.fork(full_name, owner)

    def close_issue(self, full_name: str, number: int, actor: str) -> Issue:
        """`issues.closed` (or `pull_request.closed`, unmerged, for a PR)."""
        with self.lock:
            return self.world.edit_issue(full_name, number, actor, state="closed")

    def reopen_issue(self, full_name: str, number: int, actor: str) -> Issue:
        """`issues.reopened` (or `pull_request.reopened` for a PR)."""
        with self.lock:
            return self.world.edit_issue(full_name, number, actor, state="open")

    def merge_pull(self, full_name: str, number: int, actor: str) -> str:
        """A person merges the PR with the merge button (`pull_request.closed`, merged)."""
        with self.lock:
            return self.world.merge_pull(full_name, number, actor)

    def mark_ready(self, full_name: str, number: int, actor: str) -> Pull:
        """A draft PR marked ready for review (`pull_request.ready_for_review`)."""
        with self.lock:
            return self.world.mark_ready(full_name, number, actor)

    def submit_review(
        self, full_name: str, number: int, actor: str, event: str | None, body: str, **extra: Any
    ) -> Review:
        """A review by `actor`; `event` None leaves it PENDING (no webhook)."""
        with self.lock:
            return self.world.submit_review(
                full_name, number, actor, event=event, body=body, **extra
            )

    def click_check_action(self, full_name: str, run_id: int, actor: str, identifier: str) -> None:
        """A person clicks a button of the App's check run (`check_run.requested_action`)."""
        with self.lock:
            self.world.request_check_action(full_name, run_id, actor, identifier)

    def rerun_check(self, full_name: str, run_id: int, actor: str) -> None:
        """ "Re-run" on the App's check run (`check_run.rerequested`)."""
        with self.lock:
            self.world.rerequest_check_run(full_name, run_id, actor)

    def rerun_check_suite(self, full_name: str, suite_id: int, actor: str) -> None:
        """ "Re-run all checks" of the App's suite (`check_suite.rerequested`)."""
        with self.lock:
            self.world.rerequest_check_suite(full_name, suite_id, actor)

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

    def report_status(
        self,
        full_name: str,
        sha: str,
        state: str,
        *,
        context: str = "ci",
        actor: str = "ci-bot",
        description: str | None = None,
        target_url: str | None = None,
    ) -> None:
        """CI that reports a commit status instead of checks (Triad only reads statuses)."""
        with self.lock:
            self.world.create_status(
                full_name,
                sha,
                actor,
                state=state,
                context=context,
                description=description,
                target_url=target_url,
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

    def check_runs(self, full_name: str, sha: str | None = None) -> list[CheckRun]:
        """Check runs on `sha` (all when None), oldest first; the App's have `app` set."""
        with self.lock:
            return self.world.check_runs_on(full_name, sha)

    def state_of(self, full_name: str) -> dict[str, Any]:
        """What people see on the repository, as plain data: issues and PRs with their labels
        and comments, each PR's reviews and commits, the branches, CI's verdicts."""
        with self.lock:
            repo = self.world.repo(full_name)
            comments: dict[int, list[dict[str, Any]]] = {}
            for c in repo.comments.values():
                comments.setdefault(c.issue_number, []).append(
                    {"id": c.id, "author": c.user.login, "body": c.body}
                )
            issues = [
                {
                    "number": i.number,
                    "title": i.title,
                    "state": i.state,
                    "is_pull": i.is_pull,
                    "labels": list(i.labels),
                    "comments": sorted(comments.get(i.number, []), key=lambda c: c["id"]),
                }
                for i in repo.issues.values()
            ]
            pulls = [
                {
                    "number": p.number,
                    "head_ref": p.head_ref,
                    "head_sha": p.head_sha,
                    "draft": p.draft,
                    "merged": p.merged,
                    "reviews": [
                        {"id": r.id, "author": r.user.login, "body": r.body, "commit": r.commit_id}
                        for r in repo.reviews.values()
                        if r.pull_number == p.number and not r.pending
                    ],
                    "commits": [
                        {"sha": c.sha, "message": c.message} for c in self.world.pull_commits(p)
                    ],
                }
                for p in repo.pulls.values()
            ]
            branches = {
                ref.removeprefix("refs/heads/"): sha
                for ref, sha in repo.refs.items()
                if ref.startswith("refs/heads/")
            }
            suites = [
                {"head_sha": s.head_sha, "conclusion": s.conclusion}
                for s in repo.check_suites.values()
            ]
            return {"issues": issues, "pulls": pulls, "branches": branches, "checks": suites}

    def file_at(self, full_name: str, ref: str, path: str) -> str | None:
        with self.lock:
            repo = self.world.repo(full_name)
            tree = self.world.objects.read_commit(self.world.resolve(repo, ref)).tree
            entry = self.world.objects.flatten(tree).get(path)
            return self.world.objects.read_blob(entry.sha).decode() if entry else None
