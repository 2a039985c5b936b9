"""The scripting API over HTTP: a page acts as any person, GitHub's webhooks follow, and bad
input gets a clear answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.simulator.conftest import as_installation, token_for
from triad_lab.simulator import demo_repo
from triad_lab.simulator.server import Simulator

REPO = demo_repo.REPOSITORY


@pytest.fixture
def github() -> Iterator[Simulator]:
    with Simulator(webhook_url=None) as sim:
        sim.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        sim.install("acme", [REPO])
        yield sim


def test_people_act_over_http_and_github_announces_it(github: Simulator) -> None:
    as_carol = f"{github.url}/_simulator/people/carol/repos/{REPO}"
    opened = httpx.post(f"{as_carol}/issues", json={"title": "Spin faster", "body": "Please"})
    assert opened.status_code == 201
    number = opened.json()["number"]
    assert httpx.post(f"{as_carol}/issues/{number}/comments", json={"body": "hi"}).is_success
    assert httpx.post(f"{as_carol}/issues/{number}/labels", json={"name": "bug"}).json() == {
        "labels": ["bug"]
    }
    removed = httpx.delete(f"{as_carol}/issues/{number}/labels/bug")
    assert removed.json() == {"labels": []}
    thread = httpx.get(f"{github.url}/_simulator/repos/{REPO}/issues/{number}").json()
    assert thread["author"] == "carol" and thread["comments"][0]["author"] == "carol"
    events = [(d.event, d.action, d.payload["sender"]["login"]) for d in github.deliveries[1:]]
    assert events == [
        ("issues", "opened", "carol"),
        ("issue_comment", "created", "carol"),
        ("issues", "labeled", "carol"),
        ("issues", "unlabeled", "carol"),
    ]


def test_bad_input_gets_a_clear_answer(github: Simulator) -> None:
    base = f"{github.url}/_simulator"
    nobody = httpx.post(f"{base}/people/nobody/repos/{REPO}/issues", json={"title": "x"})
    assert nobody.status_code == 404 and "nobody" in nobody.json()["message"]
    untitled = httpx.post(f"{base}/people/carol/repos/{REPO}/issues", json={"title": " "})
    assert untitled.status_code == 422 and "title" in untitled.json()["message"]
    ci = httpx.post(f"{base}/repos/{REPO}/pulls/1/ci", json={"conclusion": "maybe"})
    assert ci.status_code == 422 and "success or failure" in ci.json()["message"]


def test_labels_need_triage_access_as_on_github(github: Simulator) -> None:
    base = f"{github.url}/_simulator/people"
    number = github.open_issue(REPO, "mallory", "Spin faster").number
    as_mallory = f"{base}/mallory/repos/{REPO}/issues/{number}"
    refused = httpx.post(f"{as_mallory}/labels", json={"name": "triad:design"})
    assert refused.status_code == 403 and "triage" in refused.json()["message"]
    github.add_label(REPO, number, "alice", "bug")
    assert httpx.delete(f"{as_mallory}/labels/bug").status_code == 403
    assert github.world.issue(REPO, number).labels == ["bug"]
    # the outsider still opens issues and comments, as on a public repository
    assert httpx.post(f"{as_mallory}/comments", json={"body": "please"}).status_code == 201


def test_a_harness_sees_which_faults_fired_and_removes_one_alone(github: Simulator) -> None:
    """A crash harness must know that what it injected happened, and give up one fault it
    armed without wiping the others."""
    base = f"{github.url}/_simulator"
    number = github.open_issue(REPO, "carol", "Spin faster").number
    comments = {"method": "POST", "path": r"/issues/\d+/comments$"}
    unclear = httpx.post(f"{base}/faults", json=comments | {"after": True, "status": 502})
    labels = {"method": "POST", "path": r"/issues/\d+/labels$", "status": 503}
    unused = httpx.post(f"{base}/faults", json=labels)
    held = httpx.post(f"{base}/faults", json={"method": "POST", "path": ".", "hold": "before"})
    assert {unclear.status_code, unused.status_code, held.status_code} == {201}
    assert httpx.delete(f"{base}/faults/{held.json()['id']}").json() == {"removed": True}
    installation = github.installation_id(REPO)
    assert installation is not None
    with as_installation(github, token_for(github, installation)) as http:
        answer = http.post(f"/repos/{REPO}/issues/{number}/comments", json={"body": "hi"})
    assert answer.status_code == 502 and len(github.comments_on(REPO, number)) == 1
    fired = {f["id"]: f["used"] for f in httpx.get(f"{base}/health").json()["faults"]}
    assert fired == {unclear.json()["id"]: 1, unused.json()["id"]: 0, held.json()["id"]: 0}
