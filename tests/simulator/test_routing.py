"""Endpoints the simulator lacks answer GitHub's 404 and are logged, whatever their shape."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import REPO, as_installation, token_for
from triad_lab.simulator.server import Simulator


@pytest.mark.parametrize(
    "path",
    [
        "issues/comments",  # all comments of a repository, not issue "comments"
        "issues/events",
        "pulls/comments",
        "pulls/comments/12",
        "check-runs/latest",
    ],
)
def test_a_lookalike_of_a_numbered_route_is_unimplemented_not_invalid(
    sim: Simulator, installation_id: int, path: str
) -> None:
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.get(f"/repos/{REPO}/{path}")
    assert (answer.status_code, answer.json()["message"]) == (404, "Not Found")
    assert sim.unimplemented == [f"GET /repos/{REPO}/{path}"]


def test_a_known_path_with_another_method_is_unimplemented(
    sim: Simulator, installation_id: int
) -> None:
    with as_installation(sim, token_for(sim, installation_id)) as http:
        answer = http.delete(f"/repos/{REPO}/labels")
    assert answer.status_code == 404
    assert sim.unimplemented == [f"DELETE /repos/{REPO}/labels"]
