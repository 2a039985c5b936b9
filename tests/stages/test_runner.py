"""An issue's actions run in transition order, each transition by the job holding its claim; a
later event finishes what a dead job left; late actions are reconciled, never replayed blindly.

The store is real (both backends), GitHub is the simulator through the App's real clients."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.github.markers import marker
from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.stages.runner import apply_event, finish_pending
from bot.store import NewJob, Store
from bot.store.workflows import Holder, WorkflowStore
from bot.workflow.actions import Action, AddLabel, PostComment
from bot.workflow.commands import Command
from bot.workflow.events import CommandIssued
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow
from tests.conftest import FakeClock
from tests.github.conftest import REPO
from triad_lab.simulator.server import Simulator

CONFIG = RepoConfig()
LEASE = 10.0
WRITER = Actor("alice", Permission.MAINTAIN)


async def _job(store: Store, owner: str) -> Holder:
    await store.enqueue(NewJob(kind="delivery", idempotency_key=f"delivery:{owner}"))
    job = await store.claim(owner, LEASE)
    assert job is not None
    holder = Holder.of(job)
    assert holder is not None
    return holder


async def _decided(
    store: Store, number: int, actions: tuple[Action, ...], holder: Holder, stage: Stage
) -> int:
    """A transition decided by `holder`'s job, its actions not carried out yet."""
    workflows = WorkflowStore(store)
    before = await workflows.get(REPO, number)
    after = Workflow(REPO, 5, number, stage) if before is None else replace(before, stage=stage)
    _, transition = await workflows.apply(
        REPO,
        number,
        before,
        after,
        actions,
        source=f"decided-by-{holder.owner}",
        cause="c",
        actor=None,
        reason="r",
        holder=holder,
    )
    return transition.id


async def _status(store: Store, repo: Repo, number: int, holder: Holder) -> None:
    """A later event: a writer asks `/triad status`."""
    event = CommandIssued(WRITER, "d-status", Command("status"))
    target = Target(REPO, 5, number)
    await apply_event(
        store,
        repo,
        target,
        CONFIG,
        event,
        source="d-status",
        actor="alice",
        status_report=_report,
        holder=holder,
    )


async def _report() -> str:
    return "Triad status: fine"


def _writes(sim: Simulator) -> list[str]:
    return [r.kind for r in sim.requests if r.method in ("POST", "DELETE")]


async def test_a_later_event_finishes_the_actions_of_a_job_that_died_first(
    store: Store, clock: FakeClock, sim: Simulator, repo: Repo
) -> None:
    number = sim.open_issue(REPO, "alice", "t").number
    dead = await _job(store, "dies")
    earlier = (AddLabel("triad:design-proposed"), PostComment("proposed", "v1 is proposed"))
    await _decided(store, number, earlier, dead, Stage.DESIGN_PROPOSED)
    clock.advance(LEASE + 1)  # its worker died: no heartbeat renewed its lease
    await _status(store, repo, number, await _job(store, "later"))
    assert sim.labels_on(REPO, number) == ["triad:design-proposed"]
    bodies = [c.body for c in sim.comments_on(REPO, number)]
    assert marker("proposed") in bodies[0] and "Triad status: fine" in bodies[1], "in order"
    assert await WorkflowStore(store).pending(REPO, number) == []


async def test_a_later_event_waits_for_a_live_holder_and_runs_after_it(
    store: Store, sim: Simulator, repo: Repo
) -> None:
    number = sim.open_issue(REPO, "alice", "t").number
    alive = await _job(store, "alive")
    await _decided(store, number, (AddLabel("first"),), alive, Stage.DESIGN_PROPOSED)
    later = asyncio.create_task(_status(store, repo, number, await _job(store, "later")))
    await asyncio.sleep(0.5)
    assert not later.done() and sim.comments_on(REPO, number) == [], "it waits its turn"
    # the holder carries its transition out, and the later event's actions follow
    target = Target(REPO, 5, number)
    await finish_pending(store, repo, target, CONFIG, _report, alive)
    await asyncio.wait_for(later, 10)
    writes = _writes(sim)
    assert writes.index("POST /repos/{owner}/{name}/issues/{number}/labels") < writes.index(
        "POST /repos/{owner}/{name}/issues/{number}/comments"
    )


async def test_late_actions_do_not_bring_back_a_label_the_workflow_left(
    store: Store, clock: FakeClock, sim: Simulator, repo: Repo
) -> None:
    number = sim.open_issue(REPO, "alice", "t").number
    dead = await _job(store, "dies")
    late = (AddLabel("triad:design-proposed"), PostComment("proposed", "v1 is proposed"))
    await _decided(store, number, late, dead, Stage.DESIGN_PROPOSED)
    # the workflow moved on to done meanwhile (its later transitions had nothing to carry out)
    await _decided(store, number, (), await _job(store, "next"), Stage.DONE)
    clock.advance(LEASE + 1)
    await finish_pending(store, repo, Target(REPO, 5, number), CONFIG, _report, None)
    assert sim.labels_on(REPO, number) == [], "not added back on a done workflow"
    assert [marker("proposed") in c.body for c in sim.comments_on(REPO, number)] == [True]
    assert await WorkflowStore(store).pending(REPO, number) == []


async def test_a_holder_whose_lease_lapsed_writes_nothing_beside_the_new_holder(
    store: Store, clock: FakeClock, sim: Simulator, repo: Repo
) -> None:
    """A worker stalled past its lease while its job was about to carry out its transition; the
    sweep's finish job took the claim. The stalled job wakes: it writes nothing, and neither
    releases nor completes the claim the finish job holds."""
    number = sim.open_issue(REPO, "alice", "t").number
    stalled = await _job(store, "stalled")
    actions = (AddLabel("triad:design-proposed"), PostComment("proposed", "v1 is proposed"))
    transition = await _decided(store, number, actions, stalled, Stage.DESIGN_PROPOSED)
    clock.advance(LEASE + 1)
    finisher = await _job(store, "finisher")
    workflows = WorkflowStore(store)
    assert await workflows.claim(transition, finisher) is True
    target = Target(REPO, 5, number)
    await finish_pending(
        store, repo, target, CONFIG, _report, stalled, upto=transition, own=transition
    )
    assert sim.labels_on(REPO, number) == [], "the stalled job wrote beside the holder"
    assert sim.comments_on(REPO, number) == []
    assert await workflows.claim(transition, Holder(99, "third")) is False, "still held"
    await finish_pending(store, repo, target, CONFIG, _report, finisher)
    assert sim.labels_on(REPO, number) == ["triad:design-proposed"]
    assert len(sim.comments_on(REPO, number)) == 1
