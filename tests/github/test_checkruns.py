"""Triad's own check run through the real githubkit client against the simulator: created once,
updated in place, buttons, a new run for a new round, and never mistaken for CI."""

from __future__ import annotations

from bot.github import checkruns, checks
from bot.github.repo import Repo
from tests.github.conftest import REPO
from triad_lab.simulator.server import Simulator


async def test_a_run_is_created_then_updated_in_place(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    first = await checkruns.set_check_run(repo, sha, "7", title="Reviewing", summary="round 1")
    again = await checkruns.set_check_run(repo, sha, "7", title="Reviewing", summary="round 1")
    assert first == again  # a retried update finds the run it made
    done = await checkruns.set_check_run(
        repo,
        sha,
        "7",
        title="The reviewers disagree",
        summary="the report",
        conclusion="action_required",
        text="### Walkthrough",
        buttons=("accept", "send-back", "not-a-button"),
    )
    assert done == first
    [run] = sim.check_runs(REPO, sha)
    assert (run.name, run.app, run.external_id) == ("Triad", "triad", "7")
    assert (run.status, run.conclusion, run.summary, run.text) == (
        "completed",
        "action_required",
        "the report",
        "### Walkthrough",
    )
    assert [(a["label"], a["identifier"]) for a in run.actions] == [
        ("Accept as is", "accept"),
        ("Send back", "send-back"),
    ]
    assert all(len(a["label"]) <= 20 and len(a["description"]) <= 40 for a in run.actions)


async def test_a_decision_keeps_the_report_under_it_once(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    await checkruns.set_check_run(
        repo, sha, "7", title="t", summary="the report", conclusion="action_required"
    )
    for _ in range(2):  # a retry does not stack the decision twice
        await checkruns.set_check_run(
            repo,
            sha,
            "7",
            title="Accepted",
            summary="**Accepted.**",
            conclusion="success",
            keep_summary=True,
        )
    [run] = sim.check_runs(REPO, sha)
    assert run.summary == "**Accepted.**\n\n---\n\nthe report" and run.actions == []


async def test_a_new_round_on_a_finished_run_starts_a_new_one(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    await checkruns.set_check_run(repo, sha, "7", title="t", summary="s", conclusion="success")
    newer = await checkruns.set_check_run(repo, sha, "7", title="again", summary="round 2")
    latest = await checkruns.latest(repo, sha)
    assert latest is not None and latest.id == newer and latest.status == "in_progress"
    runs = sim.check_runs(REPO, sha)
    assert [r.conclusion for r in runs] == ["success", None]
    [suite] = {r.suite_id for r in runs}
    assert [r.id for r in await checkruns.in_suite(repo, suite)] == [r.id for r in runs]


async def test_triads_run_is_not_ci(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    await checkruns.set_check_run(repo, sha, "7", title="t", summary="s")
    verdict = await checks.verdict(repo, sha)
    assert not verdict.finished  # only Triad reported: nothing of CI yet, even in progress
    sim.complete_checks(REPO, sha, "success")
    verdict = await checks.verdict(repo, sha)
    assert verdict.finished and verdict.passed  # Triad's run in progress holds nothing back


async def test_output_is_clipped_to_githubs_limit_in_bytes(sim: Simulator, repo: Repo) -> None:
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    wide = "é" * 40_000 + "🙂" * 10_000  # far fewer characters than bytes
    await checkruns.set_check_run(
        repo, sha, "7", title="t", summary=wide, text=wide, conclusion="neutral"
    )
    [run] = sim.check_runs(REPO, sha)
    for shown in (run.summary or "", run.text or ""):
        assert len(shown.encode()) <= checkruns.MAX_OUTPUT
        assert shown.startswith("é" * 1000) and shown.endswith("(cut to GitHub's limit)")


async def test_a_run_that_landed_despite_a_5xx_is_not_created_again(
    sim: Simulator, repo: Repo
) -> None:
    """GitHub created the run and answered 502: Triad looks for it (its name, commit and
    external id) before creating another."""
    sha = sim.push(REPO, "x", "alice", {"x.txt": "x\n"}, "x")
    sim.fail_after_write("POST", r"/check-runs$", 502)
    created = await checkruns.set_check_run(repo, sha, "7", title="Reviewing", summary="r1")
    [run] = sim.check_runs(REPO, sha)
    assert run.id == created
    # a new round on a finished run: the run that landed is the new one, not the old
    await checkruns.set_check_run(repo, sha, "7", title="t", summary="s", conclusion="success")
    sim.fail_after_write("POST", r"/check-runs$", 502)
    newer = await checkruns.set_check_run(repo, sha, "7", title="again", summary="round 2")
    runs = sim.check_runs(REPO, sha)
    assert [r.id for r in runs] == [created, newer]
