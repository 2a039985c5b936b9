"""Reading what CI reported on a commit, from the simulator, and the verdict on it."""

from __future__ import annotations

from bot.github import checks
from bot.github.ci import CiReports, CommitStatus, Suite
from bot.github.repo import Repo
from tests.github.conftest import REPO
from triad_lab.simulator.server import Simulator

FAILING_RUN = {
    "name": "test",
    "conclusion": "failure",
    "title": "1 test failed",
    "summary": "pytest",
    "text": "collected 2 items\nE   AssertionError: spin(-1)\n",
    "annotations": [{"path": "widgets/core.py", "start_line": 2, "message": "wrong direction"}],
}


async def test_a_commit_nothing_reported_on(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    assert await checks.ci_reports(repo, sha) == CiReports(suites=())
    assert not (await checks.verdict(repo, sha)).finished
    assert not await checks.reports_on(repo, sha)


async def test_a_failed_run_is_read_with_its_annotations_and_job_log(
    sim: Simulator, repo: Repo
) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    sim.complete_checks(
        REPO, sha, "failure", runs=[FAILING_RUN, {"name": "lint", "conclusion": "success"}]
    )
    reports = await checks.ci_reports(repo, sha)
    assert reports.suites == (Suite("completed", "failure", runs=2),)
    failed, passed = reports.runs
    assert (failed.name, failed.conclusion, failed.title) == ("test", "failure", "1 test failed")
    assert failed.annotations == ("widgets/core.py:2: failure: wrong direction",)
    assert "AssertionError: spin(-1)" in failed.log  # from the Actions job's log
    assert (passed.name, passed.annotations, passed.log) == ("lint", (), "")  # not read
    verdict = await checks.verdict(repo, sha)
    assert (verdict.finished, verdict.passed) == (True, False)
    assert "## test: failure" in verdict.report() and "## lint" not in verdict.report()
    assert await checks.reports_on(repo, sha)


async def test_commit_statuses_are_read_with_their_combined_state(
    sim: Simulator, repo: Repo
) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    sim.report_status(REPO, sha, "pending", context="deploy")
    sim.report_status(REPO, sha, "failure", context="ci", description="red")
    reports = await checks.ci_reports(repo, sha)
    assert reports.combined_state == "failure"
    assert set(reports.statuses) == {
        CommitStatus("deploy", "pending"),
        CommitStatus("ci", "failure", "red"),
    }
    assert await checks.reports_on(repo, sha)


async def test_a_green_commit_is_read_in_three_requests(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    sim.complete_checks(REPO, sha, "success")
    before = len(sim.requests)
    await checks.ci_reports(repo, sha)
    read = [r.kind for r in sim.requests[before:]]
    assert read == [
        "GET /repos/{owner}/{name}/commits/{ref}/check-suites",
        "GET /repos/{owner}/{name}/commits/{ref}/check-runs",
        "GET /repos/{owner}/{name}/commits/{ref}/status",
    ]


def test_the_job_a_check_run_links_to_is_read_as_ascii_digits() -> None:
    """Another App's check run may link anywhere: 5000 digits raised ValueError (out of
    `int`'s 4300) and stopped the CI watch; "١٢٣" read as job 123."""
    actions = "https://github.com/octo/repo/actions/runs/7/job/"
    assert checks.actions_job(actions + "123") == 123
    assert checks.actions_job(actions + "9" * 5000) is None
    assert checks.actions_job(actions + "١٢٣") is None
    assert checks.actions_job("https://ci.example/build/5") is None
