"""A refused change changes nothing and announces nothing."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import REPO, Receiver, as_installation, token_for
from triad_lab.simulator.server import Simulator
from triad_lab.simulator.state import ApiError


def test_a_bad_issue_state_is_refused_before_any_edit(sim: Simulator, receiver: Receiver) -> None:
    issue = sim.open_issue(REPO, "alice", "Before", "body")
    sim.flush()
    sent = len(receiver.received)
    with pytest.raises(ApiError) as refused:
        sim.edit_issue(REPO, issue.number, "alice", title="After", state="merged")
    assert refused.value.status == 422
    assert (issue.title, issue.state) == ("Before", "open")
    sim.flush()
    assert len(receiver.received) == sent


def test_the_api_refuses_a_bad_issue_state_too(
    sim: Simulator, installation_id: int, receiver: Receiver
) -> None:
    issue = sim.open_issue(REPO, "alice", "Before")
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.patch(
            f"/repos/{REPO}/issues/{issue.number}", json={"title": "After", "state": "done"}
        )
    assert answer.status_code == 422
    assert issue.title == "Before"
    sim.flush()
    assert receiver.of("issues", "edited") == []


@pytest.mark.parametrize("state", ["merged", "draft", "OPEN"])
def test_a_pull_request_is_only_opened_or_closed(
    sim: Simulator, installation_id: int, receiver: Receiver, state: str
) -> None:
    sim.push(REPO, "x", "carol", {"x.txt": "x\n"}, "x")
    pr = sim.open_pull(REPO, "carol", title="x", head="x", base="main")
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.patch(f"/repos/{REPO}/pulls/{pr.number}", json={"title": "y", "state": state})
        closed = http.patch(f"/repos/{REPO}/pulls/{pr.number}", json={"state": "closed"})
    assert answer.status_code == 422
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    sim.flush()
    assert [p["action"] for p in receiver.of("pull_request")] == ["opened", "closed"]
