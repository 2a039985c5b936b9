"""The App's own check runs, their buttons and re-runs, pull requests from forks, and issues
and pull requests closed, merged and reopened: the REST answers and deliveries GitHub gives."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.simulator.conftest import FILES, REPO, Receiver, as_installation, token_for
from triad_lab.simulator.server import Simulator

#: keys of a real `check_run.requested_action` delivery (octokit/webhooks' example)
REQUESTED_ACTION_KEYS = {
    "action",
    "check_run",
    "requested_action",
    "repository",
    "sender",
    "installation",
}
CHECK_RUN_KEYS = {
    "id",
    "node_id",
    "head_sha",
    "external_id",
    "url",
    "html_url",
    "details_url",
    "status",
    "conclusion",
    "started_at",
    "completed_at",
    "output",
    "name",
    "check_suite",
    "app",
    "pull_requests",
}
RUN_SUITE_KEYS = {
    "id",
    "node_id",
    "head_branch",
    "head_sha",
    "status",
    "conclusion",
    "url",
    "before",
    "after",
    "pull_requests",
    "app",
    "created_at",
    "updated_at",
}


@pytest.fixture
def api(sim: Simulator) -> httpx.Client:
    installation = sim.installation_id(REPO)
    assert installation is not None
    return as_installation(sim, token_for(sim, installation))


def _create(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post(f"/repos/{REPO}/check-runs", json=body)


def test_the_apps_check_run_and_its_suite_and_deliveries(
    sim: Simulator, api: httpx.Client, receiver: Receiver
) -> None:
    sha = sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    pr = sim.open_pull(REPO, "carol", title="x", head="x", base="main")
    made = _create(
        api,
        name="Triad",
        head_sha=sha,
        status="in_progress",
        external_id="12",
        output={"title": "Reviewing", "summary": "round 1"},
    )
    assert made.status_code == 201, made.text
    run = made.json()
    assert (run["status"], run["conclusion"], run["external_id"]) == ("in_progress", None, "12")
    assert run["app"]["slug"] == "triad" and run["pull_requests"][0]["number"] == pr.number
    button = {"label": "Accept as is", "description": "Accept it", "identifier": "accept"}
    done = api.patch(
        f"/repos/{REPO}/check-runs/{run['id']}",
        json={
            "conclusion": "action_required",
            "actions": [button],
            "output": {"title": "Decide", "summary": "the report"},
        },
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"
    listed = api.get(f"/repos/{REPO}/commits/{sha}/check-runs", params={"check_name": "Triad"})
    assert [r["id"] for r in listed.json()["check_runs"]] == [run["id"]]
    assert (
        api.get(f"/repos/{REPO}/commits/{sha}/check-runs", params={"check_name": "CI"}).json()[
            "check_runs"
        ]
        == []
    )
    sim.click_check_action(REPO, run["id"], "bob", "accept")
    sim.rerun_check(REPO, run["id"], "alice")
    suite = sim.check_runs(REPO, sha)[0].suite_id
    sim.rerun_check_suite(REPO, suite, "alice")
    sim.flush()
    got = [(r["event"], r["payload"]["action"]) for r in receiver.received[-6:]]
    assert got == [
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("check_run", "requested_action"),
        ("check_run", "rerequested"),
        ("check_suite", "rerequested"),
    ]
    [clicked] = receiver.of("check_run", "requested_action")
    assert set(clicked) >= REQUESTED_ACTION_KEYS
    assert set(clicked["check_run"]) >= CHECK_RUN_KEYS
    assert set(clicked["check_run"]["check_suite"]) >= RUN_SUITE_KEYS
    assert clicked["requested_action"] == {"identifier": "accept"}
    assert clicked["sender"]["login"] == "bob"  # whoever clicked: GitHub checks no permission
    assert clicked["check_run"]["external_id"] == "12"
    [completed] = receiver.of("check_suite", "completed")
    assert completed["check_suite"]["app"]["slug"] == "triad"
    assert completed["check_suite"]["conclusion"] == "action_required"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"name": "Triad", "status": "completed"}, "Conclusion is required"),
        ({"name": "Triad", "conclusion": "stale"}, "stale"),
        ({"name": "Triad", "conclusion": "success", "output": {"title": "t"}}, "output"),
        (
            {
                "name": "Triad",
                "conclusion": "action_required",
                "output": {"title": "t", "summary": "s"},
                "actions": [
                    {"label": "Send back to the developer", "description": "d", "identifier": "x"}
                ],
            },
            "label must be 1 to 20 characters",
        ),
        (  # 40,000 characters, 80,000 bytes: GitHub counts bytes
            {
                "name": "Triad",
                "conclusion": "success",
                "output": {"title": "t", "summary": "é" * 40_000},
            },
            "summary exceeds a maximum bytesize of 65535",
        ),
    ],
)
def test_github_refuses_what_it_refuses(
    sim: Simulator, api: httpx.Client, body: dict[str, Any], why: str
) -> None:
    sha = sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    answer = _create(api, head_sha=sha, **body)
    assert answer.status_code == 422 and why in answer.text


def test_only_the_app_that_made_a_run_may_change_it(sim: Simulator, api: httpx.Client) -> None:
    sha = sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    suite = sim.complete_checks(REPO, sha, "success")
    answer = api.patch(
        f"/repos/{REPO}/check-runs/{suite.run_ids[0]}", json={"conclusion": "failure"}
    )
    assert answer.status_code == 403
    assert (
        api.post(f"/repos/{REPO}/check-runs", json={"name": "x", "head_sha": "0" * 40}).status_code
        == 422
    )


def test_a_pull_request_from_a_fork(sim: Simulator, api: httpx.Client, receiver: Receiver) -> None:
    fork = sim.fork(REPO, "mallory")
    assert fork.full_name == "mallory/widgets" and fork.fork_of == REPO
    first = sim.push(fork.full_name, "spin", "mallory", {"widgets/core.py": "x = 1\n"}, "one")
    pr = sim.open_pull(REPO, "mallory", title="Spin", head="mallory:spin", base="main")
    second = sim.push(fork.full_name, "spin", "mallory", {"NOTES.md": "n\n"}, "two")
    sim.complete_checks(REPO, second, "success")
    sim.flush()
    [opened] = receiver.of("pull_request", "opened")
    head = opened["pull_request"]["head"]
    assert (head["label"], head["ref"], head["repo"]["full_name"]) == (
        "mallory:spin",
        "spin",
        "mallory/widgets",
    )
    assert head["repo"]["fork"] is True
    assert opened["repository"]["full_name"] == REPO  # sent to the base repository's App
    [pushed] = receiver.of("pull_request", "synchronize")
    assert (pushed["before"], pushed["after"]) == (first, second)
    # checks see pushes to the repository itself only: a fork's PR is not in pull_requests
    assert receiver.of("check_suite", "completed")[-1]["check_suite"]["pull_requests"] == []
    diff = api.get(
        f"/repos/{REPO}/compare/{first}...{second}",
        headers={"accept": "application/vnd.github.diff"},
    )
    assert "NOTES.md" in diff.text and "widgets/core.py" not in diff.text
    compared = api.get(f"/repos/{REPO}/compare/{first}...{second}").json()
    assert (compared["status"], compared["ahead_by"]) == ("ahead", 1)
    listed = api.get(f"/repos/{REPO}/pulls", params={"head": "mallory:spin"}).json()
    assert [p["number"] for p in listed] == [pr.number]
    assert api.get(f"/repos/{REPO}/pulls", params={"head": "acme:spin"}).json() == []
    assert FILES["widgets/core.py"] == sim.file_at(REPO, "main", "widgets/core.py")


def test_closing_merging_and_reopening(sim: Simulator, receiver: Receiver) -> None:
    issue = sim.open_issue(REPO, "alice", "Spin")
    sim.close_issue(REPO, issue.number, "alice")
    sim.reopen_issue(REPO, issue.number, "alice")
    sim.push(REPO, "spin", "carol", {"x.txt": "x\n"}, "x")
    pr = sim.open_pull(
        REPO, "carol", title="x", head="spin", base="main", body=f"Fixes #{issue.number}"
    )
    sim.close_issue(REPO, pr.number, "carol")
    sim.reopen_issue(REPO, pr.number, "carol")
    sim.merge_pull(REPO, pr.number, "alice")
    sim.flush()
    got = [
        (r["event"], r["payload"]["action"])
        for r in receiver.received
        if r["payload"].get("action") in ("closed", "reopened")
    ]
    assert got == [
        ("issues", "closed"),
        ("issues", "reopened"),
        ("pull_request", "closed"),
        ("pull_request", "reopened"),
        ("pull_request", "closed"),
        ("issues", "closed"),  # "Fixes #N": GitHub closes the issue on the merge
    ]
    unmerged, merged = receiver.of("pull_request", "closed")
    assert unmerged["pull_request"]["merged"] is False
    assert merged["pull_request"]["merged"] is True and merged["sender"]["login"] == "alice"
