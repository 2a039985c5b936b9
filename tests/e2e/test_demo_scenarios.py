"""Every demo scenario, end to end, with exact counts of what Triad made on GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from triad_lab.demo import play
from triad_lab.demo.scenarios import SCENARIOS

pytestmark = pytest.mark.timeout(180)


def by_triad(issue: dict[str, Any], key: str) -> list[str]:
    return [
        c["body"]
        for c in issue["comments"]
        if c["author"] == "triad[bot]" and f"<!-- triad:{key}" in c["body"]
    ]


async def run(name: str, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    result = await play(SCENARIOS[name], tmp_path)
    assert result.report["ok"], (result.report["steps"], result.report["problems"])
    assert result.report["gates_honoured"], result.report["gates"]
    assert not any(result.report["problems"].values()), result.report["problems"]
    return result.report, result.github


def triad_comments(issue: dict[str, Any] | None) -> int:
    return sum(1 for c in (issue or {}).get("comments", []) if c["author"] == "triad[bot]")


def parts(github: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, list[Any]]:
    issue = next(i for i in github["issues"] if not i["is_pull_request"])
    pulls = github["pull_requests"]
    pr = next((i for i in github["issues"] if i["is_pull_request"]), None)
    return issue, pr, pulls


async def test_full(tmp_path: Path) -> None:
    report, github = await run("full", tmp_path)
    issue, pr, [pull] = parts(github)
    [design] = by_triad(issue, "design")
    assert "Design v2" in design and "Design v1 (superseded)" in design
    assert len(pull["commits"]) == 2 and pull["draft"] is False
    assert len(github["reviews"]) == 2
    assert pr is not None and len(by_triad(pr, "disagreement")) == 1
    assert pr["labels"] == ["triad:qa-passed"]
    assert issue["labels"] == ["triad:design", "triad:approved"]
    # design, progress, QA passed on the issue; the disagreement on the PR
    assert triad_comments(issue) == 3 and triad_comments(pr) == 1
    assert len(github["review_comments"]) == 1
    assert len(by_triad(issue, "progress")) == 1
    assert [s["stage"] for s in report["stages"]][-1] == "done"
    assert {"architect", "developer", "reviewer_a", "reviewer_b"} <= set(report["usage_by_role"])
    assert report["github_requests"]["POST /repos/{owner}/{name}/pulls"] == 1


async def test_happy(tmp_path: Path) -> None:
    _, github = await run("happy", tmp_path)
    issue, pr, [pull] = parts(github)
    assert len(by_triad(issue, "design")) == 1
    assert len(pull["commits"]) == 1 and len(github["reviews"]) == 2
    assert pr is not None and pr["labels"] == ["triad:qa-passed"]
    assert triad_comments(issue) == 3 and triad_comments(pr) == 0
    assert github["review_comments"] == []


async def test_ci_never_green(tmp_path: Path) -> None:
    _, github = await run("ci-never-green", tmp_path)
    _, pr, [pull] = parts(github)
    assert len(pull["commits"]) == 3 and github["reviews"] == []
    assert pr is not None and pr["labels"] == ["needs-human"]
    assert len(by_triad(pr, "ci-exhausted")) == 1 and triad_comments(pr) == 1


async def test_reviewers_disagree(tmp_path: Path) -> None:
    _, github = await run("reviewers-disagree", tmp_path)
    _, pr, [pull] = parts(github)
    assert len(pull["commits"]) == 2 and len(github["reviews"]) == 4
    assert pr is not None and len(by_triad(pr, "disagreement")) == 1
    assert pr["labels"] == ["triad:qa-passed"] and triad_comments(pr) == 1
    # the maintainer's decision reached the developer: the second commit handles zero turns
    assert pull["commits"][1].startswith("Fix the reversed result")


async def test_unauthorized_labeller(tmp_path: Path) -> None:
    _, github = await run("unauthorized-labeller", tmp_path)
    issue, _, pulls = parts(github)
    # the reader is told once (one refusal per person, issue and day); both labels came off
    assert pulls == [] and len(by_triad(issue, "refused")) == 1
    assert issue["labels"] == ["triad:design", "triad:design-proposed"]
    assert triad_comments(issue) == 2


async def test_redelivered_webhooks(tmp_path: Path) -> None:
    _report, github = await run("redelivered-webhooks", tmp_path)
    issue, _, [pull] = parts(github)
    assert len(by_triad(issue, "design")) == 1 and len(pull["commits"]) == 1
    assert len(github["reviews"]) == 2 and triad_comments(issue) == 3


async def test_model_outage(tmp_path: Path) -> None:
    _, github = await run("model-outage", tmp_path)
    issue, _, pulls = parts(github)
    assert len(by_triad(issue, "failed:architect")) == 1 and pulls == []
    [design] = by_triad(issue, "design")
    assert "Design v2" in design
    assert issue["labels"] == ["triad:design", "triad:design-proposed"]


async def test_review_human_pr(tmp_path: Path) -> None:
    report, github = await run("review-human-pr", tmp_path)
    pr = next(i for i in github["issues"] if i["is_pull_request"])
    [pull] = github["pull_requests"]
    assert pull["head"] == "spin-backwards" and len(github["reviews"]) == 2
    assert len(by_triad(pr, "disagreement")) == 1 and len(by_triad(pr, "accepted")) == 1
    assert triad_comments(pr) == 2 and pr["labels"] == []
    assert len(github["review_comments"]) == 1
    [check] = [c for c in report["check_runs"] if c["app"] == "triad"]
    assert (check["name"], check["status"], check["conclusion"]) == (
        "Triad",
        "completed",
        "success",
    )
    assert check["head_sha"] == report["check_runs"][0]["head_sha"]
    assert [s["stage"] for s in report["stages"]] == ["reviewing", "needs-human", "reviewed"]
    assert set(report["usage_by_role"]) == {"reviewer_a", "reviewer_b"}
    assert report["webhooks"]["check_run.requested_action"] == 1
