"""Reviews and CI around the PRs the App opens: what GitHub allows, and who it names."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.simulator.conftest import FILES, REPO, Receiver, as_installation, token_for
from triad_lab.simulator.server import Simulator
from triad_lab.simulator.state import ApiError


@pytest.fixture
def http(sim: Simulator, installation_id: int) -> Iterator[httpx.Client]:
    with as_installation(sim, token_for(sim, installation_id)) as client:
        yield client


def bot_pull(http: httpx.Client) -> tuple[int, str]:
    """The App commits on a branch through the Git Data API and opens a PR, as Triad does."""
    head = http.get(f"/repos/{REPO}/git/ref/heads/main").json()["object"]["sha"]
    base_tree = http.get(f"/repos/{REPO}/git/commits/{head}").json()["tree"]["sha"]
    content = FILES["widgets/core.py"] + "\n\ndef turn():\n    return 1\n"
    tree = http.post(
        f"/repos/{REPO}/git/trees",
        json={
            "base_tree": base_tree,
            "tree": [{"path": "widgets/core.py", "mode": "100644", "content": content}],
        },
    ).json()["sha"]
    commit = http.post(
        f"/repos/{REPO}/git/commits", json={"message": "Add turn", "tree": tree, "parents": [head]}
    ).json()["sha"]
    created = http.post(
        f"/repos/{REPO}/git/refs", json={"ref": "refs/heads/triad/issue-1", "sha": commit}
    )
    assert created.status_code == 201
    pull = http.post(
        f"/repos/{REPO}/pulls", json={"title": "Add turn", "head": "triad/issue-1", "base": "main"}
    )
    assert pull.status_code == 201, pull.text
    return pull.json()["number"], commit


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("APPROVE", "Review Can not approve your own pull request"),
        ("REQUEST_CHANGES", "Review Can not request changes on your own pull request"),
    ],
)
def test_the_app_cannot_approve_or_reject_its_own_pr(
    sim: Simulator, http: httpx.Client, event: str, message: str
) -> None:
    number, _ = bot_pull(http)
    answer = http.post(
        f"/repos/{REPO}/pulls/{number}/reviews", json={"event": event, "body": "verdict"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [message]
    assert sim.repo(REPO).reviews == {}


def test_the_app_may_comment_on_its_own_pr(
    sim: Simulator, http: httpx.Client, receiver: Receiver
) -> None:
    number, _ = bot_pull(http)
    answer = http.post(
        f"/repos/{REPO}/pulls/{number}/reviews",
        json={
            "event": "COMMENT",
            "body": "Reviewer 1",
            "comments": [{"path": "widgets/core.py", "line": 9, "body": "name?"}],
        },
    )
    assert answer.status_code == 200 and answer.json()["state"] == "COMMENTED"
    sim.flush()
    assert [r["review"]["state"] for r in receiver.of("pull_request_review")] == ["commented"]
    # a person may not approve their own PR either; another person may
    sim.push(REPO, "mine", "carol", {"c.txt": "c\n"}, "c")
    own = sim.open_pull(REPO, "carol", title="c", head="mine", base="main")
    with pytest.raises(ApiError) as refused:
        sim.submit_review(REPO, own.number, "carol", "APPROVE", "")
    assert refused.value.errors == ["Review Can not approve your own pull request"]
    assert sim.submit_review(REPO, own.number, "alice", "APPROVE", "").state == "APPROVED"


def test_a_review_without_an_event_stays_pending(
    sim: Simulator, http: httpx.Client, receiver: Receiver
) -> None:
    number, _ = bot_pull(http)
    answer = http.post(
        f"/repos/{REPO}/pulls/{number}/reviews",
        json={"body": "", "comments": [{"path": "widgets/core.py", "line": 9, "body": "hm"}]},
    )
    assert answer.status_code == 200
    assert answer.json()["state"] == "PENDING" and "submitted_at" not in answer.json()
    sim.flush()
    assert receiver.of("pull_request_review") == []
    pull = http.get(f"/repos/{REPO}/pulls/{number}").json()
    assert pull["review_comments"] == 0
    assert http.get(f"/repos/{REPO}/pulls/{number}/comments").json() == []
    # its author (the App) sees its draft in the list
    assert [r["state"] for r in http.get(f"/repos/{REPO}/pulls/{number}/reviews").json()] == [
        "PENDING"
    ]


def test_ci_on_a_commit_the_app_pushed_names_the_apps_bot(
    sim: Simulator, http: httpx.Client, receiver: Receiver
) -> None:
    _, commit = bot_pull(http)
    sim.complete_checks(REPO, commit, "failure")
    sim.flush()
    suite = receiver.of("check_suite", "completed")[-1]
    run = receiver.of("workflow_run", "completed")[-1]
    assert suite["sender"]["login"] == sim.bot_login
    assert run["sender"]["login"] == sim.bot_login
    assert run["workflow_run"]["actor"]["login"] == sim.bot_login
    assert run["workflow_run"]["triggering_actor"]["login"] == sim.bot_login
    assert run["workflow_run"]["event"] == "pull_request"


def test_a_job_log_is_a_redirect_to_a_signed_url(sim: Simulator, http: httpx.Client) -> None:
    sha = sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    suite = sim.complete_checks(
        REPO, sha, "failure", runs=[{"name": "test", "text": "collected 1 item\nE   boom\n"}]
    )
    job = suite.run_ids[0]
    redirect = http.get(f"/repos/{REPO}/actions/jobs/{job}/logs", follow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    log = httpx.get(location)  # no token, as for GitHub's storage host
    assert log.status_code == 200
    assert [line.split(" ", 1)[1] for line in log.text.splitlines()] == [
        "collected 1 item",
        "E   boom",
    ]
    assert log.text.split(" ", 1)[0].endswith("Z")
    assert httpx.get(location.replace("sig=", "sig=0")).status_code == 403
    assert http.get(f"/repos/{REPO}/actions/jobs/999999/logs").status_code == 404


def test_merging_makes_a_merge_commit_and_refuses_a_moved_head(
    sim: Simulator, http: httpx.Client
) -> None:
    number, head = bot_pull(http)
    moved = http.put(f"/repos/{REPO}/pulls/{number}/merge", json={"sha": "0" * 40})
    assert (moved.status_code, moved.json()["message"]) == (
        409,
        "Head branch was modified. Review and try the merge again.",
    )
    merged = http.put(f"/repos/{REPO}/pulls/{number}/merge", json={"sha": head})
    assert merged.status_code == 200 and merged.json()["merged"] is True
    main = sim.repo(REPO).refs["refs/heads/main"]
    assert main == merged.json()["sha"]
    assert sim.world.objects.read_commit(main).parents[1] == head
    again = http.put(f"/repos/{REPO}/pulls/{number}/merge", json={})
    assert again.status_code == 405
