"""The App may do only what its permissions grant (Triad's app.yml), as GitHub enforces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from tests.simulator.conftest import REPO, app_jwt, as_installation, installation_of, token_for
from triad_lab.simulator.server import Simulator

APP_YML = yaml.safe_load((Path(__file__).resolve().parents[2] / "app.yml").read_text())[
    "default_permissions"
]


def test_tokens_carry_the_permissions_of_triads_app_yml(sim: Simulator) -> None:
    answer = httpx.post(
        f"{sim.url}/app/installations/{sim.installation_id(REPO)}/access_tokens",
        headers={"authorization": f"Bearer {app_jwt(sim)}"},
    )
    assert answer.json()["permissions"] == APP_YML


def test_writing_a_status_with_read_access_is_refused(sim: Simulator, installation_id: int) -> None:
    main = sim.repo(REPO).refs["refs/heads/main"]
    with as_installation(sim, token_for(sim, installation_id)) as http:
        assert http.get(f"/repos/{REPO}/commits/{main}/status").status_code == 200
        answer = http.post(
            f"/repos/{REPO}/statuses/{main}", json={"state": "success", "context": "triad"}
        )
    assert (answer.status_code, answer.json()["message"]) == (
        403,
        "Resource not accessible by integration",
    )
    assert sim.repo(REPO).statuses == []


def test_each_resource_is_checked(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(permissions={"metadata": "read", "issues": "read", "contents": "read"})
    issue = sim.open_issue(REPO, "alice", "t")
    with as_installation(sim, token_for(sim, installation_of(sim))) as http:
        assert http.get(f"/repos/{REPO}/issues/{issue.number}").status_code == 200
        comment = http.post(f"/repos/{REPO}/issues/{issue.number}/comments", json={"body": "x"})
        blob = http.post(f"/repos/{REPO}/git/blobs", json={"content": "x"})
        pulls = http.get(f"/repos/{REPO}/pulls")
        checks = http.get(f"/repos/{REPO}/commits/main/check-runs")
    assert [comment.status_code, blob.status_code, pulls.status_code, checks.status_code] == [
        403,
        403,
        403,
        403,
    ]
    assert sim.comments_on(REPO, issue.number) == []


def test_marking_ready_needs_pull_request_write(make_sim: Callable[..., Simulator]) -> None:
    sim = make_sim(permissions={"metadata": "read", "pull_requests": "read"})
    sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    pr = sim.open_pull(REPO, "carol", title="x", head="x", base="main", draft=True)
    node = sim.repo(REPO).pulls[pr.number]
    with as_installation(sim, token_for(sim, installation_of(sim))) as http:
        found = http.get(f"/repos/{REPO}/pulls/{pr.number}").json()["node_id"]
        answer = http.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { markPullRequestReadyForReview(input: "
                "{pullRequestId: $id}) { pullRequest { isDraft } } }",
                "variables": {"id": found},
            },
        )
    assert answer.json()["errors"][0]["type"] == "FORBIDDEN"
    assert node.draft


def test_a_token_can_be_narrowed_but_not_widened(sim: Simulator, installation_id: int) -> None:
    url = f"{sim.url}/app/installations/{installation_id}/access_tokens"
    headers = {"authorization": f"Bearer {app_jwt(sim)}"}
    wider = httpx.post(url, headers=headers, json={"permissions": {"statuses": "write"}})
    assert wider.status_code == 422
    narrow = httpx.post(url, headers=headers, json={"permissions": {"metadata": "read"}})
    assert narrow.json()["permissions"] == {"metadata": "read"}
    with as_installation(sim, narrow.json()["token"]) as http:
        assert http.get(f"/repos/{REPO}").status_code == 200
        assert http.get(f"/repos/{REPO}/contents/README.md").status_code == 403
