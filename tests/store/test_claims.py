"""Transition claims follow the lease of the job holding them, on both backends; the sweep's
queries find what no live job is doing."""

from __future__ import annotations

from bot.store import JobState, NewJob, Store
from bot.store.recovery import Recovery
from bot.store.workflows import Holder, WorkflowStore
from bot.workflow.actions import AddLabel
from bot.workflow.model import Stage, Workflow
from tests.conftest import FakeClock

NEW = Workflow("octo/repo", 5, 12, Stage.DESIGNING, design_version=1)
LEASE = 10.0


async def _running_job(store: Store, owner: str, key: str = "k:1") -> Holder:
    await store.enqueue(NewJob(kind="delivery", idempotency_key=key))
    job = await store.claim(owner, LEASE)
    assert job is not None
    holder = Holder.of(job)
    assert holder is not None
    return holder


async def _transition(store: Store, holder: Holder | None, source: str = "d-1") -> int:
    workflows = WorkflowStore(store)
    before = await workflows.get("octo/repo", 12)
    after = NEW if before is None else before
    _, transition = await workflows.apply(
        "octo/repo",
        12,
        before,
        after,
        (AddLabel("triad:design-proposed"),),
        source=source,
        cause="c",
        actor=None,
        reason="r",
        holder=holder,
        installation_id=5,
    )
    return transition.id


async def test_a_claim_lives_as_long_as_its_jobs_lease(store: Store, clock: FakeClock) -> None:
    workflows = WorkflowStore(store)
    holder = await _running_job(store, "w1")
    transition = await _transition(store, holder)
    other = Holder(99, "w2")
    assert await workflows.claim(transition, other) is False, "held by a live job"
    for _ in range(10):  # a long carrying out: the heartbeat renews the lease, and the claim
        clock.advance(LEASE / 3)
        assert await store.renew_leases([(holder.job_id, holder.owner)], LEASE)
        assert await workflows.claim(transition, other) is False
    clock.advance(LEASE + 1)  # the worker died: no heartbeat for a whole lease
    assert await workflows.claim(transition, other) is True


async def test_a_claim_ends_when_its_job_is_taken_by_another_worker(
    store: Store, clock: FakeClock
) -> None:
    workflows = WorkflowStore(store)
    holder = await _running_job(store, "dies")
    transition = await _transition(store, holder)
    clock.advance(LEASE + 1)
    retried = await store.claim("w2", LEASE)
    assert retried is not None and retried.id == holder.job_id
    # the retried job may take its own transition over at once (its earlier holder is gone)
    assert await workflows.claim(transition, Holder.of(retried)) is True
    assert await workflows.claim(transition, Holder(7, "w3")) is False, "now it holds it"


async def test_a_finished_or_released_claim_is_free(store: Store) -> None:
    workflows = WorkflowStore(store)
    holder = await _running_job(store, "w1")
    transition = await _transition(store, holder)
    await store.complete(holder.job_id, holder.owner)
    assert await workflows.claim(transition, Holder(8, "w2")) is True
    await workflows.release(transition, Holder(8, "w2"))
    assert await workflows.claim(transition, None) is True
    assert await workflows.mark_done(transition, None) is True
    assert await workflows.claim(transition, Holder(9, "w3")) is False, "nothing left to do"


async def test_a_transition_records_the_revision_and_installation(store: Store) -> None:
    await _transition(store, None)
    [stored] = await WorkflowStore(store).pending("octo/repo", 12)
    assert (stored.revision, stored.installation_id) == (1, 5)


async def test_the_sweep_finds_issues_whose_oldest_undone_transition_nobody_holds(
    store: Store, clock: FakeClock
) -> None:
    recovery = Recovery(store)
    holder = await _running_job(store, "w1")
    await _transition(store, holder, "d-1")
    assert await recovery.stalled() == [], "its holder is alive"
    clock.advance(LEASE + 1)
    [stalled] = await recovery.stalled()
    assert (stalled.repository, stalled.issue_number, stalled.installation_id) == (
        "octo/repo",
        12,
        5,
    )


async def test_a_newer_transition_waits_for_the_holder_of_an_older_one(store: Store) -> None:
    live = await _running_job(store, "w1")
    await _transition(store, live, "d-1")
    newer = await _transition(store, None, "d-2")
    await WorkflowStore(store).release(newer, None)  # its job gave it up to the older one's holder
    assert await Recovery(store).stalled() == []


async def test_dead_jobs_are_reported_once_per_death(store: Store, clock: FakeClock) -> None:
    recovery = Recovery(store)
    job_id = await store.enqueue(NewJob(kind="developer", idempotency_key="dev:1"))
    assert job_id is not None
    await store.claim("w", LEASE)
    assert await store.fail(job_id, "w", "GitHub is down", retry_in=None) is JobState.DEAD
    [dead] = await recovery.unreported_dead(["developer", "review"])
    assert dead.id == job_id and await recovery.unreported_dead(["delivery"]) == []
    await recovery.mark_reported(dead)
    assert await recovery.unreported_dead(["developer"]) == []
    # an operator retries it, and it dies again: that death is reported anew
    await store.run(
        lambda tx: tx.execute(
            "UPDATE jobs SET state = 'queued', run_at = 0 WHERE id = ?", (job_id,)
        )
    )
    clock.advance(5)
    await store.claim("w", LEASE)
    await store.fail(job_id, "w", "still down", retry_in=None)
    assert [j.id for j in await recovery.unreported_dead(["developer"])] == [job_id]


async def test_queued_finish_jobs_are_listed_by_payload(store: Store) -> None:
    payload = {"repository": "octo/repo", "installation_id": 5, "issue_number": 12}
    await store.enqueue(NewJob(kind="finish", idempotency_key="finish:1", payload=payload))
    await store.enqueue(NewJob(kind="review", idempotency_key="r:1"))
    assert await Recovery(store).queued_for("finish") == [payload]


async def test_a_holder_that_lost_its_lease_cannot_release_the_new_holders_claim(
    store: Store, clock: FakeClock
) -> None:
    """A stalled worker's job is retried by another; the stalled one wakes and gives its claim
    up (its carrying out failed or was cancelled): the live holder keeps the claim."""
    workflows = WorkflowStore(store)
    stale = await _running_job(store, "stalled")
    transition = await _transition(store, stale)
    clock.advance(LEASE + 1)
    retried = await store.claim("w2", LEASE)
    assert retried is not None
    new = Holder.of(retried)
    assert await workflows.claim(transition, new) is True
    await workflows.release(transition, stale)
    assert await Recovery(store).stalled() == [], "the live holder still carries it out"
    assert await workflows.claim(transition, Holder(7, "w3")) is False, "a third job took it"


async def test_only_the_holder_marks_a_transition_done(store: Store, clock: FakeClock) -> None:
    workflows = WorkflowStore(store)
    stale = await _running_job(store, "stalled")
    transition = await _transition(store, stale)
    clock.advance(LEASE + 1)
    finisher = Holder(7, "finisher")
    assert await workflows.claim(transition, finisher) is True
    assert await workflows.mark_done(transition, stale) is False, "no longer its claim"
    assert [t.id for t in await workflows.pending("octo/repo", 12)] == [transition]
    assert await workflows.mark_done(transition, finisher) is True
    assert await workflows.pending("octo/repo", 12) == []


async def test_an_expired_lease_is_not_renewed(store: Store, clock: FakeClock) -> None:
    """A worker that stalled past its lease has lost its claims (the sweep's finish job may
    have taken them): its next heartbeat must not bring the job back to life."""
    workflows = WorkflowStore(store)
    stale = await _running_job(store, "stalled")
    transition = await _transition(store, stale)
    clock.advance(LEASE + 1)
    assert await workflows.claim(transition, Holder(7, "finisher")) is True
    assert await store.renew_leases([(stale.job_id, stale.owner)], LEASE) == set()


async def test_leases_are_renewed_per_job_and_owner_pair(store: Store) -> None:
    first = await _running_job(store, "w1", "k:1")
    second = await _running_job(store, "w2", "k:2")
    crossed = [(first.job_id, second.owner), (second.job_id, first.owner)]
    assert await store.renew_leases(crossed, LEASE) == set()
    both = [(first.job_id, first.owner), (second.job_id, second.owner)]
    assert await store.renew_leases(both, LEASE) == set(both)
