"""The cached `.github/triad.yml` and the door's one read of the store, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.store import Delivery, DeliveryOutcome, NewJob, Store
from bot.store.base import Row, Transaction
from bot.store.repo_configs import (
    MAX_AGE,
    CachedConfig,
    ConfigCache,
    StoreFacts,
    door_facts,
    door_facts_of,
    facts_query,
)
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage, Workflow
from tests.conftest import FakeClock

REPO = "octo/repo"


async def facts(store: Store, repository: str, number: int | None) -> StoreFacts:
    """The door's read, in a transaction of its own."""
    return await store.run(lambda tx: door_facts(tx, repository, number, store.clock()))


async def test_a_later_read_replaces_an_earlier_one_never_the_reverse(
    store: Store, clock: FakeClock
) -> None:
    cache = ConfigCache(store)
    now = clock()
    assert await cache.get(REPO) is None
    assert await cache.put(CachedConfig(REPO, "b" * 40, "labels: {}\n", now))
    # a read that began earlier (its push came first) finishes last: it is not kept
    assert not await cache.put(CachedConfig(REPO, "a" * 40, None, now - 5))
    assert await cache.get(REPO) == CachedConfig(REPO, "b" * 40, "labels: {}\n", now)
    assert await cache.put(CachedConfig(REPO, "c" * 40, None, now + 1))
    found = await cache.get(REPO)
    assert found is not None and (found.commit, found.text) == ("c" * 40, None)
    assert await cache.get("octo/other") is None


async def test_a_cached_config_older_than_its_max_age_is_not_trusted(
    store: Store, clock: FakeClock
) -> None:
    cache = ConfigCache(store)
    await cache.put(CachedConfig(REPO, "a" * 40, None, clock()))
    clock.advance(MAX_AGE - 1)
    assert await cache.get(REPO) is not None
    assert (await facts(store, REPO, None)).config is not None
    clock.advance(2)
    assert await cache.get(REPO) is None
    assert (await facts(store, REPO, None)).config is None


async def test_the_door_learns_the_config_and_the_workflow_in_one_read(
    store: Store, clock: FakeClock
) -> None:
    empty = await facts(store, REPO, 12)
    assert (empty.config, empty.workflow, empty.pending) == (None, False, False)
    assert (await facts(store, REPO, None)).workflow is None  # not asked
    await ConfigCache(store).put(CachedConfig(REPO, "a" * 40, "x: 1\n", clock()))
    await WorkflowStore(store).apply(
        REPO,
        12,
        None,
        Workflow(repository=REPO, installation_id=5, issue_number=12, stage=Stage.DESIGNING),
        (),
        source="d-0",
        cause="DesignRequested",
        actor="maya",
        reason="design requested",
    )
    known = await facts(store, REPO, 12)
    assert known.config is not None and known.config.text == "x: 1\n"
    assert (known.workflow, known.pending) == (True, False)
    assert (await facts(store, REPO, 13)).workflow is False
    assert (await facts(store, "octo/other", 12)).workflow is False


async def test_a_delivery_waiting_for_its_job_makes_the_repository_pending(
    store: Store,
) -> None:
    """It may be the review request that creates the workflow, or the push that changes the
    config: until its job has run, the door must not trust what the store says."""
    delivery = Delivery(
        "d-1", "pull_request", "labeled", 5, REPO, "maya", DeliveryOutcome.QUEUED, b"{}"
    )
    job = NewJob(
        kind="delivery",
        idempotency_key="delivery:d-1",
        payload={"delivery_id": "d-1"},
        repository=REPO,
    )
    assert await store.record_delivery(delivery, job)
    assert (await facts(store, REPO, 40)).pending
    assert not (await facts(store, "octo/other", 40)).pending
    claimed = await store.claim("w", 60)
    assert claimed is not None
    assert (await facts(store, REPO, 40)).pending  # running
    await store.complete(claimed.id, "w")
    assert not (await facts(store, REPO, 40)).pending


async def test_a_push_waiting_for_its_job_makes_the_cached_config_untrusted(
    store: Store, clock: FakeClock
) -> None:
    """It may change the file: a job reads it from GitHub rather than act on the old one."""
    cache = ConfigCache(store)
    await cache.put(CachedConfig(REPO, "a" * 40, None, clock()))
    delivery = Delivery("d-1", "push", None, 5, REPO, "maya", DeliveryOutcome.QUEUED, b"{}")
    job = NewJob(
        kind="delivery",
        idempotency_key="delivery:d-1",
        payload={"delivery_id": "d-1"},
        repository=REPO,
    )
    assert await store.record_delivery(delivery, job)
    assert await cache.get(REPO) is None
    claimed = await store.claim("w", 60)
    assert claimed is not None and await store.complete(claimed.id, "w")
    assert await cache.get(REPO) is not None


async def test_the_doors_pending_check_is_one_probe_of_the_pending_delivery_index(
    store: Store,
) -> None:
    """However large the backlog, the door never scans the queue (nor joins every pending job
    to its delivery) to learn whether a repository has a delivery waiting."""
    params = (0, REPO, 12)
    if store.dialect == "sqlite":
        plan = await store.run(
            lambda tx: tx.fetchall("EXPLAIN QUERY PLAN " + facts_query(1), params)
        )
        details = " ".join(str(row["detail"]) for row in plan)
    else:

        def explain(tx: Transaction) -> list[Row]:
            tx.execute("SET LOCAL enable_seqscan = off")  # an empty table: show the index
            return tx.fetchall("EXPLAIN " + facts_query(1), params)

        details = " ".join(str(next(iter(row.values()))) for row in await store.run(explain))
    assert "jobs_pending_deliveries" in details, details
    assert "deliveries" not in details.replace("jobs_pending_deliveries", "")


async def test_the_doors_read_for_a_batch_probes_each_repository_however_long_the_backlog(
    store: Store,
) -> None:
    """A batch's one read of the store asks about several repositories: each is one probe of
    the pending-delivery index, never a pass over every pending job (PostgreSQL would hash a
    backlog of queued deliveries for an EXISTS, every batch)."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite runs a correlated subquery as a probe per row")
    for n in range(300):
        await store.enqueue(
            NewJob(kind="delivery", idempotency_key=f"delivery:b{n}", repository="octo/busy")
        )
    params = (0, "octo/busy", 1, 1, "octo/a", 2, 2, "octo/b", -1)

    def explain(tx: Transaction) -> list[Row]:
        return tx.fetchall("EXPLAIN (ANALYZE, FORMAT JSON) " + facts_query(3), params)

    plan = next(iter((await store.run(explain))[0].values()))[0]["Plan"]

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    probes = [n for n in nodes(plan) if n.get("Index Name") == "jobs_pending_deliveries"]
    assert probes and all(probe["Actual Rows"] <= 1 for probe in probes), probes
    known = await store.run(
        lambda tx: door_facts_of(tx, [("octo/busy", 1), ("octo/a", None)], store.clock())
    )
    assert known["octo/busy", 1].pending and not known["octo/a", None].pending


async def test_the_doors_read_for_a_batch_stays_an_index_lookup_as_the_configs_grow(
    store: Store,
) -> None:
    """Run often while `repo_configs` was empty (a fresh database), the read must not keep a
    plan made for an empty table: a prepared one joined by scanning every cached config."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite keeps no statistics: its plans do not go by a table's size")
    questions: list[tuple[str, int | None]] = [(f"octo/r{n}", n) for n in range(8)]

    def scans(tx: Transaction) -> int:
        """The whole-table scans of `repo_configs` the read made."""
        counted = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'repo_configs'"
        before = tx.fetchone(counted)
        door_facts_of(tx, questions, store.clock())
        after = tx.fetchone(counted)
        return int(after["seq_scan"]) - int(before["seq_scan"]) if after and before else 0

    for _ in range(15):  # psycopg would prepare it at its sixth run
        await store.run(scans)
    await store.run(
        lambda tx: tx.execute(
            "INSERT INTO repo_configs (repository, commit_sha, text, read_at)"
            " SELECT 'grown/' || n, 'c', NULL, 0 FROM generate_series(1, 100000) AS n"
        )
    )
    assert [await store.run(scans) for _ in range(3)] == [0, 0, 0]


async def test_the_doors_read_asks_nothing_of_the_store_for_no_question(store: Store) -> None:
    """A batch whose deliveries ask nothing makes no read (an empty VALUES list is no SQL)."""
    assert await store.run(lambda tx: door_facts_of(tx, [], store.clock())) == {}
