"""Nothing stalls silently (issue 18): a stage GitHub keeps failing ends in `needs-human` with
the stage, why, and how to run it again; the operator's retry or `/triad resume` continues it
once the outage ends; CI that reported before a push was recorded is not lost."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Job, JobState
from bot.store.queue_admin import QueueAdmin
from bot.store.recovery import Recovery
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage
from tests.e2e.conftest import MAINTAINER, REPO, open_issue
from tests.e2e.helpers import bot_comments, branch_commits, workflow_of
from triad_lab.simulator import demo_repo
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack

#: a job gets two attempts, and leases are short, so the workers' sweep runs every second
QUICK = {"job_max_attempts": 2, "job_lease_seconds": 3}


@pytest.fixture
async def quick(tmp_path: Path) -> AsyncIterator[TriadStack]:
    async with TriadStack(tmp_path, models=ScriptedModels(), settings=QUICK) as running:
        running.github.create_repository(
            REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS
        )
        running.github.install(REPO.split("/")[0], [REPO])
        await running.settle()
        yield running


async def _until(stack: TriadStack, number: int, stage: Stage, seconds: float = 60) -> None:
    assert stack.store is not None
    deadline = time.monotonic() + seconds
    while True:
        workflow = await WorkflowStore(stack.store).get(REPO, number)
        if workflow is not None and workflow.stage is stage:
            return
        assert time.monotonic() < deadline, f"never {stage}: {workflow}"
        await asyncio.sleep(0.2)


async def _developer_dead_in_an_outage(stack: TriadStack) -> tuple[int, Job]:
    """An approved issue whose developer job died: GitHub answered its first read 503
    through every retry of every attempt (and still does)."""
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    stack.github.fail("GET", rf"^/repos/{REPO}$", 503, times=100000)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:approved")
    await _until(stack, number, Stage.NEEDS_HUMAN)
    assert stack.store is not None
    [dead] = await QueueAdmin(stack.store).jobs(state=JobState.DEAD)
    return number, dead


async def test_a_github_outage_past_the_retries_asks_a_human_and_the_operator_retries(
    quick: TriadStack,
) -> None:
    stack = quick
    number, dead = await _developer_dead_in_an_outage(stack)
    assert stack.store is not None
    assert dead.kind == "developer" and "503" in (dead.last_error or "")
    await stack.settle()
    [said] = bot_comments(stack, number, "failed:developer:1:1:0:1")
    assert "The developer could not finish: its job ran out of attempts (2)" in said
    assert "GitHub was unavailable" in said and f"`triad jobs show {dead.id}`" in said
    assert "Service Unavailable" not in said and "503" not in said, "the error stays internal"
    assert f"`triad jobs retry {dead.id}`" in said and "`/triad resume`" in said
    assert "needs-human" in stack.github.labels_on(REPO, number)
    # the outage ends; the operator runs the dead job again
    stack.github.faults.clear()
    [retried] = await QueueAdmin(stack.store).retry([dead.id])
    assert retried.retried
    await _until(stack, number, Stage.TESTING)
    await stack.settle()
    assert "needs-human" not in stack.github.labels_on(REPO, number)
    assert len(branch_commits(stack, f"triad/issue-{number}")) == 1
    assert len(stack.github.repo(REPO).pulls) == 1


async def test_a_stage_that_dies_again_after_the_operators_retry_is_said_again(
    quick: TriadStack,
) -> None:
    stack = quick
    number, dead = await _developer_dead_in_an_outage(stack)
    assert stack.store is not None
    await stack.settle()
    assert len(bot_comments(stack, number, "failed:developer:1:1:0:1")) == 1
    await QueueAdmin(stack.store).retry([dead.id])
    await _until(stack, number, Stage.IMPLEMENTING)
    await _until(stack, number, Stage.NEEDS_HUMAN)
    await stack.settle()
    assert len(bot_comments(stack, number, "failed:developer:1:1:0:2")) == 1, "said again"


async def test_after_an_outage_resume_runs_the_stage_again(quick: TriadStack) -> None:
    stack = quick
    number = open_issue(stack)
    stack.github.fail("GET", r"/git/trees/", 503, times=1000)  # the architect reads the tree
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await _until(stack, number, Stage.NEEDS_HUMAN)
    await stack.settle()
    [said] = bot_comments(stack, number, "failed:architect:1:0:0:1")
    assert "The architect could not finish" in said
    stack.github.faults.clear()
    stack.github.comment(REPO, number, MAINTAINER, "/triad resume")
    await _until(stack, number, Stage.DESIGN_PROPOSED)
    await stack.settle()
    assert "needs-human" not in stack.github.labels_on(REPO, number)
    assert "triad:design-proposed" in stack.github.labels_on(REPO, number)


async def test_ci_that_reported_before_the_push_was_recorded_is_read(quick: TriadStack) -> None:
    stack = quick
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    # the developer has pushed, and is held just before opening its PR: CI reports meanwhile,
    # while the workflow does not know the commit yet (its webhook is ignored)
    stack.github.hold("POST", r"/pulls$", "before")
    stack.github.add_label(REPO, number, MAINTAINER, "triad:approved")
    deadline = time.monotonic() + 30
    while not stack.github.held():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    head = stack.github.repo(REPO).refs[f"refs/heads/triad/issue-{number}"]
    stack.github.complete_checks(REPO, head, "success")
    await asyncio.to_thread(stack.github.flush)
    await asyncio.sleep(1)
    assert (await workflow_of(stack, number)).stage is Stage.IMPLEMENTING
    threading.Thread(target=stack.github.release).start()
    await _until(stack, number, Stage.READY_FOR_QA)
    await stack.settle()
    assert len(stack.github.repo(REPO).pulls) == 1


async def _dead_job(stack: TriadStack, kind: str, seconds: float = 60) -> Job:
    assert stack.store is not None
    deadline = time.monotonic() + seconds
    while True:
        dead = await QueueAdmin(stack.store).jobs(state=JobState.DEAD, kind=kind)
        if dead:
            return dead[0]
        assert time.monotonic() < deadline, f"no {kind} job died"
        await asyncio.sleep(0.2)


def _lost_notices(stack: TriadStack, number: int) -> list[str]:
    return [body for body in bot_comments(stack, number) if "<!-- triad:undelivered:" in body]


async def test_a_maintainers_label_lost_to_an_outage_is_said_on_the_issue(
    quick: TriadStack,
) -> None:
    """GitHub fails through every attempt of the delivery job: the maintainer's label would be
    lost without a word. The workers say so on the issue, once, without internals."""
    stack = quick
    number = open_issue(stack)
    stack.github.fail("GET", rf"^/repos/{REPO}/", 503, times=100000)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    dead = await _dead_job(stack, "delivery")
    stack.github.faults.clear()
    deadline = time.monotonic() + 30
    while not _lost_notices(stack, number):
        assert time.monotonic() < deadline, "nobody was told"
        await asyncio.sleep(0.2)
    await stack.settle()
    [said] = _lost_notices(stack, number)
    assert f"@{MAINTAINER}" in said and "`triad:design`" in said
    assert "GitHub was unavailable" in said and f"`triad jobs retry {dead.id}`" in said
    assert "503" not in said and "Service Unavailable" not in said
    # another label lost the same day on the same issue: said in the day's one comment
    assert stack.store is not None
    stack.github.fail("GET", rf"^/repos/{REPO}/", 503, times=100000)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:approved")
    deadline = time.monotonic() + 60
    while len(await QueueAdmin(stack.store).jobs(state=JobState.DEAD, kind="delivery")) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    stack.github.faults.clear()
    await asyncio.sleep(3)  # a few sweeps
    await stack.settle()
    [both] = _lost_notices(stack, number)
    assert "`triad:design`" in both and "`triad:approved`" in both
    second = max(job.id for job in await QueueAdmin(stack.store).jobs(kind="delivery"))
    assert f"`triad jobs retry {dead.id} {second}`" in both
    assert await Recovery(stack.store).unreported_dead(["delivery"]) == []


async def test_a_command_decided_before_its_job_died_is_carried_out_and_not_said_lost(
    quick: TriadStack,
) -> None:
    """A command is decided once per comment, not under its delivery's id: the finish job
    carried out its actions and then told the issue Triad never acted on it ("post the command
    again": a second revision)."""
    stack = quick
    assert stack.store is not None
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    # the revision is decided, then GitHub fails its label change through every attempt
    stack.github.fail("DELETE", r"/labels/triad:design-proposed$", 503, times=100000)
    stack.github.comment(REPO, number, MAINTAINER, "/triad revise use a keyword")
    await _dead_job(stack, "delivery")
    stack.github.faults.clear()
    deadline = time.monotonic() + 40
    while await Recovery(stack.store).unreported_dead(["delivery"]):
        assert time.monotonic() < deadline, "the dead delivery job was never reported"
        await asyncio.sleep(0.2)
    await _until(stack, number, Stage.DESIGN_PROPOSED)
    await stack.settle()
    assert (await workflow_of(stack, number)).design_version == 2
    assert _lost_notices(stack, number) == []
    assert await Recovery(stack.store).reported() == {("delivery", "log"): 1}
