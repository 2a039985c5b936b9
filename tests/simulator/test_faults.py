"""Injected faults, crashes and the request log: what a test sees of each call the bot made."""

from __future__ import annotations

import time

import pytest

from tests.simulator.conftest import REPO, as_installation, token_for
from triad_lab.simulator.server import Simulator

ISSUES = "GET /repos/{owner}/{name}/issues/{number}"


def test_a_500_fault_answers_as_github_and_is_logged_with_caller_and_route(
    sim: Simulator, installation_id: int
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    sim.fail("GET", rf"/issues/{issue.number}$", 500)
    with as_installation(sim, token_for(sim, installation_id)) as http:
        failed = http.get(f"/repos/{REPO}/issues/{issue.number}")
        served = http.get(f"/repos/{REPO}/issues/{issue.number}")
    assert failed.status_code == 500
    assert failed.json()["message"] == "Server Error"
    assert served.status_code == 200
    logged = [r for r in sim.requests if r.kind == ISSUES]
    assert [(r.status, r.caller) for r in logged] == [(500, "installation"), (200, "installation")]


def test_a_global_fault_hits_any_endpoint(sim: Simulator, installation_id: int) -> None:
    token = token_for(sim, installation_id)
    sim.fail("*", ".", 502, times=2)
    with as_installation(sim, token) as http:
        first = http.get(f"/repos/{REPO}")
        second = http.get(f"/repos/{REPO}/labels")
        third = http.get(f"/repos/{REPO}")
    assert [first.status_code, second.status_code, third.status_code] == [502, 502, 200]
    assert first.json()["message"] == "Bad Gateway"


def test_an_unauthenticated_call_does_not_use_up_a_fault(
    sim: Simulator, installation_id: int
) -> None:
    sim.fail("GET", ".", 500)
    with as_installation(sim, "not-a-token") as http:
        assert http.get(f"/repos/{REPO}").status_code == 401
    with as_installation(sim, token_for(sim, installation_id)) as http:
        assert http.get(f"/repos/{REPO}").status_code == 500


def test_the_primary_rate_limit_resets_from_when_it_is_served(
    sim: Simulator, installation_id: int
) -> None:
    token = token_for(sim, installation_id)
    sim.rate_limit("GET", rf"^/repos/{REPO}$", reset_in=60)
    time.sleep(1.5)  # a reset computed when the fault was added would now be 1.5 s early
    with as_installation(sim, token) as http:
        asked = time.time()
        answer = http.get(f"/repos/{REPO}")
    assert answer.status_code == 403
    assert answer.json()["message"].startswith("API rate limit exceeded")
    assert answer.headers["x-ratelimit-remaining"] == "0"
    assert answer.headers["x-ratelimit-limit"] == "5000"
    assert int(asked) + 59 <= int(answer.headers["x-ratelimit-reset"]) <= int(asked) + 61


def test_a_secondary_rate_limit_carries_retry_after(sim: Simulator, installation_id: int) -> None:
    token = token_for(sim, installation_id)
    sim.fail("GET", ".", 403, retry_after=7)
    with as_installation(sim, token) as http:
        answer = http.get(f"/repos/{REPO}")
    assert answer.status_code == 403 and answer.headers["retry-after"] == "7"
    assert "secondary rate limit" in answer.json()["message"]


def test_a_crash_is_a_github_style_500_and_is_kept(
    sim: Simulator, installation_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> str:
        raise RuntimeError("bug in the simulator")

    monkeypatch.setattr(sim.world, "role_of", boom)
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.get(f"/repos/{REPO}/collaborators/alice/permission")
    assert answer.status_code == 500
    assert answer.json() == {
        "message": "Server Error",
        "documentation_url": "https://docs.github.com/rest",
        "status": "500",
    }
    assert len(sim.errors) == 1 and "bug in the simulator" in sim.errors[0]
    route = "GET /repos/{owner}/{name}/collaborators/{login}/permission"
    assert [r.status for r in sim.requests if r.kind == route] == [500]


def test_a_bad_page_size_is_refused_not_a_crash(sim: Simulator, installation_id: int) -> None:
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.get(f"/repos/{REPO}/labels", params={"per_page": "x"})
    assert answer.status_code == 422
    assert sim.errors == []


def test_requests_are_counted_by_route_and_caller(sim: Simulator, installation_id: int) -> None:
    first = sim.open_issue(REPO, "alice", "one")
    second = sim.open_issue(REPO, "alice", "two")
    with as_installation(sim, token_for(sim, installation_id)) as http:
        http.get(f"/repos/{REPO}/issues/{first.number}")
        http.get(f"/repos/{REPO}/issues/{second.number}")
        http.post(f"/repos/{REPO}/issues/{first.number}/comments", json={"body": "hi"})
    by_installation = sim.requests_by_kind("installation")
    assert by_installation[ISSUES] == 2
    assert by_installation["POST /repos/{owner}/{name}/issues/{number}/comments"] == 1
    by_app = sim.requests_by_kind("app")
    assert by_app == {"POST /app/installations/{installation_id}/access_tokens": 1}
    assert sum(sim.requests_by_kind().values()) == len(sim.requests) == 4


def test_a_write_can_be_carried_out_and_still_answered_5xx(
    sim: Simulator, installation_id: int
) -> None:
    issue = sim.open_issue(REPO, "alice", "t")
    sim.fail_after_write("POST", rf"/issues/{issue.number}/comments$", 502)
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.post(f"/repos/{REPO}/issues/{issue.number}/comments", json={"body": "hi"})
    assert answer.status_code == 502 and answer.json()["message"] == "Bad Gateway"
    assert [c.body for c in sim.comments_on(REPO, issue.number)] == ["hi"], "it happened"
    route = "POST /repos/{owner}/{name}/issues/{number}/comments"
    assert [r.status for r in sim.requests if r.kind == route] == [502]


def test_a_held_request_waits_for_its_release(sim: Simulator, installation_id: int) -> None:
    import threading

    issue = sim.open_issue(REPO, "alice", "t")
    sim.hold("POST", r"/comments$", "before")
    sim.hold("POST", r"/labels$", "after")
    answers: dict[str, int] = {}
    token = token_for(sim, installation_id)

    def send(name: str, path: str, body: dict[str, object]) -> None:
        with as_installation(sim, token) as http:
            answers[name] = http.post(path, json=body).status_code

    comment = threading.Thread(
        target=send,
        args=("comment", f"/repos/{REPO}/issues/{issue.number}/comments", {"body": "hi"}),
    )
    label = threading.Thread(
        target=send,
        args=("label", f"/repos/{REPO}/issues/{issue.number}/labels", {"labels": ["bug"]}),
    )
    comment.start()
    label.start()
    deadline = time.monotonic() + 10
    while len(sim.held()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert sorted(h["when"] for h in sim.held()) == ["after", "before"]
    assert sim.labels_on(REPO, issue.number) == ["bug"], "held after it was carried out"
    assert sim.comments_on(REPO, issue.number) == [], "held before it was carried out"
    assert sim.release() == 2
    comment.join(10)
    label.join(10)
    assert answers == {"comment": 502, "label": 200}
    assert sim.comments_on(REPO, issue.number) == [], "a write held before is never done"
