"""Everyday traffic that does not concern Triad, made from real example deliveries.

An installed App receives every comment, label, push, PR and CI event of its repositories;
almost none concern Triad. `everyday` rewrites GitHub's example payloads (the test fixtures,
from octokit/webhooks) into a mix of such deliveries for one repository: comments with no
command, labels that are not Triad's, people's PRs opened, pushed to, labelled and closed,
CI on other branches, issues opened, edited and closed, reviews, and pushes that leave
`.github/triad.yml` alone. `replay` sends them through the simulator (signed, as GitHub does)
and counts what they cost: GitHub requests and jobs. Every body differs (the same body twice
would be a replay, answered `duplicate`).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triad_lab.simulator.stack import TriadStack

JSON = dict[str, Any]

COMMENTS = (
    "LGTM, thanks!",
    "Could you rebase on main? There is a conflict in the changelog.",
    "I can reproduce this on Python 3.11 with the latest release.",
    "+1, we hit the same thing in production.",
    "> does it happen on Windows too?\n\nYes, same traceback.",
    "Closing as a duplicate of #3.",
    "```\nTraceback (most recent call last):\n  ValueError: spin\n```",
    "cc @carol, you wrote this part",
    "Thanks for the report! A fix is in the next release.",
    "Is the triad bot going to look at this? (just asking)",
)
LABELS = (
    "bug",
    "enhancement",
    "question",
    "good first issue",
    "help wanted",
    "duplicate",
    "wontfix",
    "needs-triage",
    "documentation",
    "priority: high",
)
BRANCHES = ("feature/search", "fix-typo", "dependabot/pip/requests-2.32", "release/1.4", "main")
README_ONLY = ("README.md", "docs/usage.md", "widgets/core.py", "pyproject.toml")


@dataclass(frozen=True)
class Counts:
    """What replaying the deliveries cost."""

    deliveries: int
    answered: int
    github_requests: int
    jobs: int
    #: GitHub requests by route, for the report
    routes: dict[str, int]


def everyday(
    fixtures: Path, repository: str, installation_id: int, people: tuple[str, ...], count: int = 400
) -> list[tuple[str, JSON]]:
    """`count` deliveries for `repository` that cannot concern Triad, round-robin over kinds."""
    read = _Reader(fixtures, repository, installation_id)
    makers = _makers(read)
    made: list[tuple[str, JSON]] = []
    serial = itertools.count(1)
    for n, maker in zip(range(count), itertools.cycle(makers), strict=False):
        event, payload = maker(next(serial))
        payload["sender"] = payload["sender"] | {"login": people[n % len(people)], "type": "User"}
        made.append((event, payload))
    return made


async def replay(stack: TriadStack, deliveries: list[tuple[str, JSON]]) -> Counts:
    """Send `deliveries` as the simulator's GitHub would and wait for every job to finish;
    what they cost, counted from the requests the simulator answered and the jobs stored."""
    assert stack.store is not None
    await stack.settle()
    requests_before = stack.github.request_count()
    jobs_before = len(await stack.store.list_jobs())
    answered_before = len(stack.github.deliveries)
    for event, payload in deliveries:
        stack.github.sender.send(event, payload)
    await stack.settle()
    new_requests = stack.github.requests[requests_before:]
    routes: dict[str, int] = {}
    for request in new_requests:
        routes[request.route] = routes.get(request.route, 0) + 1
    return Counts(
        deliveries=len(deliveries),
        answered=len(stack.github.deliveries) - answered_before,
        github_requests=len(new_requests),
        jobs=len(await stack.store.list_jobs()) - jobs_before,
        routes=routes,
    )


class _Reader:
    """Fixtures rewritten for one repository and installation."""

    def __init__(self, fixtures: Path, repository: str, installation_id: int) -> None:
        self.fixtures = fixtures
        self.repository = repository
        self.installation_id = installation_id

    def __call__(self, name: str, action: str | None = None) -> JSON:
        payload: JSON = json.loads((self.fixtures / f"{name}.json").read_text())
        owner, repo = self.repository.split("/")
        shape = copy.deepcopy(payload["repository"])
        shape |= {"full_name": self.repository, "name": repo, "default_branch": "main"}
        shape["owner"] = shape["owner"] | {"login": owner}
        payload["repository"] = shape
        payload["installation"] = {"id": self.installation_id}
        payload.pop("organization", None)
        if action is not None:
            payload["action"] = action
        return payload

    def pull(self, name: str, n: int, action: str, branch: str = "feature/search") -> JSON:
        payload = self(name, action)
        pull = payload["pull_request"]
        number = 100 + n
        payload["number"] = pull["number"] = number
        pull["state"] = "closed" if action == "closed" else "open"
        pull["draft"] = False
        head_repo = copy.deepcopy(payload["repository"])
        pull["head"] = pull["head"] | {"ref": branch, "sha": _sha(n, "head"), "repo": head_repo}
        pull["base"] = pull["base"] | {"ref": "main", "repo": payload["repository"]}
        return payload


def _makers(read: _Reader) -> list[Callable[[int], tuple[str, JSON]]]:
    def comment(n: int) -> tuple[str, JSON]:
        payload = read("issue_comment.created.with-installation")
        payload["issue"] = payload["issue"] | {"number": 200 + n, "pull_request": None}
        payload["comment"] = payload["comment"] | {"id": 9000 + n, "body": _pick(COMMENTS, n)}
        return "issue_comment", payload

    def pr_comment(n: int) -> tuple[str, JSON]:
        event, payload = comment(n)
        payload["issue"]["pull_request"] = {"url": "https://api.github.com/pulls/1"}
        return event, payload

    def issue_labeled(n: int) -> tuple[str, JSON]:
        payload = read("issues.opened", "labeled")
        payload["issue"] = payload["issue"] | {"number": 200 + n}
        payload["label"] = {"id": n, "name": _pick(LABELS, n), "color": "ededed"}
        return "issues", payload

    def issue_opened(n: int) -> tuple[str, JSON]:
        payload = read("issues.opened")
        payload["issue"] = payload["issue"] | {"number": 200 + n, "title": f"Spin bug {n}"}
        return "issues", payload

    def issue_closed(n: int) -> tuple[str, JSON]:
        event, payload = issue_opened(n)
        payload["action"] = "closed"
        payload["issue"]["state"] = "closed"
        return event, payload

    def issue_edited(n: int) -> tuple[str, JSON]:
        event, payload = issue_opened(n)
        payload["action"] = "edited"
        payload["issue"]["labels"] = [{"id": 1, "name": _pick(LABELS, n)}]
        payload["changes"] = {"body": {"from": "before"}}
        return event, payload

    def pr_labeled(n: int) -> tuple[str, JSON]:
        payload = read.pull("pull_request.labeled", n, "labeled")
        payload["label"] = {"id": n, "name": _pick(LABELS, n), "color": "ededed"}
        return "pull_request", payload

    def pr_opened(n: int) -> tuple[str, JSON]:
        return "pull_request", read.pull("pull_request.opened", n, "opened")

    def pr_pushed(n: int) -> tuple[str, JSON]:
        payload = read.pull("pull_request.synchronize", n, "synchronize")
        payload |= {"before": _sha(n, "before"), "after": _sha(n, "head")}
        return "pull_request", payload

    def pr_closed(n: int) -> tuple[str, JSON]:
        return "pull_request", read.pull("pull_request.opened", n, "closed")

    def review(n: int) -> tuple[str, JSON]:
        payload = read.pull("pull_request_review.submitted", n, "submitted")
        payload["review"] = payload["review"] | {"id": 7000 + n}
        return "pull_request_review", payload

    def suite(n: int) -> tuple[str, JSON]:
        payload = read("check_suite.completed")
        branch = _pick(BRANCHES, n)
        payload["check_suite"] = payload["check_suite"] | {
            "id": 5000 + n,
            "head_branch": branch,
            "head_sha": _sha(n, branch),
        }
        return "check_suite", payload

    def run(n: int) -> tuple[str, JSON]:
        payload = read("check_run.completed")
        payload["check_run"] = payload["check_run"] | {"id": 6000 + n, "head_sha": _sha(n, "run")}
        return "check_run", payload

    def actions_run(n: int) -> tuple[str, JSON]:
        payload = read("workflow_run.completed")
        branch = _pick(BRANCHES, n)
        payload["workflow_run"] = payload["workflow_run"] | {
            "id": 4000 + n,
            "head_branch": branch,
            "head_sha": _sha(n, branch),
        }
        return "workflow_run", payload

    def status(n: int) -> tuple[str, JSON]:
        # no example in the fixtures: the fields GitHub's `status` delivery carries
        payload = read("check_suite.completed")
        payload.pop("check_suite")
        payload.pop("action")
        payload |= {
            "id": 3000 + n,
            "sha": _sha(n, "status"),
            "name": read.repository,
            "state": "success",
            "context": "ci/jenkins",
            "description": "Build passed",
            "target_url": None,
            "branches": [{"name": _pick(BRANCHES, n), "commit": {"sha": _sha(n, "status")}}],
        }
        return "status", payload

    def push(n: int) -> tuple[str, JSON]:
        payload = read("push.with-installation")
        branch = _pick(BRANCHES, n)
        files = [_pick(README_ONLY, n)]
        commit = {"id": _sha(n, "push"), "added": [], "removed": [], "modified": files}
        payload |= {
            "ref": f"refs/heads/{branch}",
            "before": _sha(n, "before"),
            "after": _sha(n, "push"),
            "deleted": False,
            "commits": [commit],
            "head_commit": commit,
        }
        return "push", payload

    return [
        comment,
        issue_labeled,
        pr_comment,
        pr_labeled,
        comment,
        pr_opened,
        pr_pushed,
        suite,
        actions_run,
        issue_labeled,
        run,
        status,
        issue_opened,
        issue_closed,
        issue_edited,
        pr_closed,
        review,
        push,
        comment,
        pr_pushed,
    ]


def _pick(options: tuple[str, ...], n: int) -> str:
    return options[n % len(options)]


def _sha(n: int, salt: str) -> str:
    return hashlib.sha1(f"{salt}:{n}".encode(), usedforsecurity=False).hexdigest()
