"""What an operator reads and changes in the store, on SQLite and PostgreSQL: jobs and their
retry, workflows by stage, usage grouped, deliveries pruned, the schema's version."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest

from bot.errors import StoreError
from bot.store import Delivery, DeliveryOutcome, JobState, NewJob, SchemaTooNew, Store, open_store
from bot.store.backup import backup_sqlite
from bot.store.deliveries import DAY, DeliveryLog
from bot.store.postgres import require_supported
from bot.store.queue_admin import QueueAdmin, RetryResult
from bot.store.usage import UsageStore
from bot.store.workflows import WorkflowStore
from bot.workflow.model import Stage
from tests.conftest import FakeClock
from tests.ops.seed import seed


async def test_jobs_are_listed_by_state_and_kind(store: Store) -> None:
    seeded = await seed(store)
    queue = QueueAdmin(store)
    dead = await queue.jobs(JobState.DEAD)
    assert [job.id for job in dead] == [seeded.dead_review_job, seeded.dead_job]
    assert [job.id for job in await queue.jobs(JobState.DEAD, kind="review")] == [
        seeded.dead_review_job
    ]
    assert [job.id for job in await queue.jobs(kind="ci_watch")] == [seeded.queued_job]
    assert await queue.dead_by_kind() == {"architect": 1, "review": 1}


async def test_a_dead_job_retried_is_queued_due_now_with_fresh_attempts(
    store: Store, clock: FakeClock
) -> None:
    seeded = await seed(store)
    clock.advance(60)
    results = await QueueAdmin(store).retry([seeded.dead_job, seeded.queued_job, 999])
    assert results == [
        RetryResult(seeded.dead_job, True),
        RetryResult(seeded.queued_job, False, "it is queued, not dead"),
        RetryResult(999, False, "no such job"),
    ]
    job = await store.get_job(seeded.dead_job)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 0
    assert job.run_at == clock.now and job.finished_at is None
    assert job.last_error == "ModelUnavailable: anthropic is down"  # kept for the record
    claimed = await store.claim("w2", 30, ["architect"])
    assert claimed is not None and claimed.id == seeded.dead_job


async def test_every_dead_letter_of_a_kind_is_retried_at_once(store: Store) -> None:
    seeded = await seed(store)
    queue = QueueAdmin(store)
    assert await queue.retry_dead(kind="review") == [seeded.dead_review_job]
    assert await queue.dead_by_kind() == {"architect": 1}
    assert await queue.retry_dead() == [seeded.dead_job]
    assert await queue.jobs(JobState.DEAD) == []


async def test_jobs_get_the_configured_number_of_attempts(store_url: str, clock: FakeClock) -> None:
    async with open_store(store_url, clock=clock, max_attempts=2) as store:
        job_id = await store.enqueue(NewJob("k", "k:1"))
        for attempt in (1, 2):
            claimed = await store.claim("w", 30)
            assert claimed is not None and claimed.max_attempts == 2
            state = await store.fail(claimed.id, "w", f"failure {attempt}", retry_in=0)
        assert state is JobState.DEAD
        own = await store.enqueue(NewJob("k", "k:2", max_attempts=7))
        assert job_id is not None and own is not None
        job = await store.get_job(own)
        assert job is not None and job.max_attempts == 7


async def test_workflows_are_found_by_stage_and_repository(store: Store) -> None:
    await seed(store)
    workflows = WorkflowStore(store)
    assert [(w.repository, w.issue_number) for w in await workflows.find()] == [
        ("acme/app", 3),
        ("octo/repo", 12),
    ]
    assert [w.issue_number for w in await workflows.find(stage=Stage.REVIEWING)] == [12]
    assert [w.issue_number for w in await workflows.find(repository="acme/app")] == [3]
    counts = await workflows.stage_counts()
    assert counts[Stage.REVIEWING] == 1 and counts[Stage.DESIGN_PROPOSED] == 1
    assert counts[Stage.DONE] == 0


async def test_usage_is_grouped_by_any_dimension_and_by_day(store: Store, clock: FakeClock) -> None:
    await seed(store)
    usage = UsageStore(store)
    by_role = await usage.grouped(("role",))
    assert [(key, round(t.cost, 2), t.calls) for key, t in by_role] == [
        (("architect",), 1.5, 1),
        (("developer",), 0.5, 1),
        (("reviewer_b",), 0.25, 1),
    ]
    by_installation = dict(await usage.grouped(("installation_id",)))
    assert by_installation[(5,)].cost == pytest.approx(2.0)
    assert by_installation[(5,)].tokens == 1000 + 100 + 800 + 80
    assert await usage.grouped(("role",), since=clock.now + 1) == []
    daily = await usage.daily(since=0)
    day = int(clock.now // DAY)
    assert {(d, key) for d, key, _ in daily} == {
        (day, (5, "architect")),
        (day, (5, "developer")),
        (day, (6, "reviewer_b")),
    }
    with pytest.raises(ValueError, match="cannot group usage"):
        await usage.grouped(("cost; DROP TABLE jobs",))


async def test_delivery_bodies_are_pruned_after_retention_and_the_record_stays(
    store: Store, clock: FakeClock
) -> None:
    seeded = await seed(store)
    log = DeliveryLog(store)
    assert await log.prune_bodies(older_than_days=14) == 0
    clock.advance(15 * DAY)
    await store.record_delivery(
        Delivery("d-new", "issues", "opened", 5, "octo/repo", "maya", DeliveryOutcome.IGNORED, b"x")
    )
    # d-1's job is done, d-2 and d-3 queued none; the new one is within retention
    assert await log.prune_bodies(older_than_days=14) == 3
    old = await store.get_delivery("d-1")
    assert old is not None and old.body == b"" and old.body_pruned_at == clock.now
    fresh = await store.get_delivery("d-new")
    assert fresh is not None and fresh.body == b"x" and fresh.body_pruned_at is None
    # the record stays: a redelivery is still a duplicate
    assert await store.record_delivery(old) is False
    assert await log.prune_bodies(older_than_days=14) == 0
    assert seeded.done_job


async def test_a_body_whose_job_is_not_done_is_kept(store: Store, clock: FakeClock) -> None:
    job = NewJob("delivery", "delivery:d-9", {"delivery_id": "d-9"})
    await store.record_delivery(
        Delivery("d-9", "issues", "labeled", 5, "o/r", "m", DeliveryOutcome.QUEUED, b"{}"), job
    )
    clock.advance(30 * DAY)
    assert await DeliveryLog(store).prune_bodies(older_than_days=14) == 0


async def test_recent_deliveries_show_their_outcome_and_job(store: Store) -> None:
    seeded = await seed(store)
    log = DeliveryLog(store)
    recent = {d.id: d for d in await log.recent()}
    assert recent["d-1"].job_id == seeded.done_job and recent["d-1"].job_state is JobState.DONE
    assert recent["d-2"].outcome is DeliveryOutcome.IGNORED and recent["d-2"].job_id is None
    counts = await log.counts_by_outcome()
    assert counts == {
        DeliveryOutcome.QUEUED: 1,
        DeliveryOutcome.IGNORED: 1,
        DeliveryOutcome.PING: 1,
        DeliveryOutcome.DUPLICATE: 0,
        DeliveryOutcome.UNREADABLE: 0,
    }
    assert [d.id for d in await log.recent(outcome=DeliveryOutcome.PING)] == ["d-3"]


async def test_the_schema_version_is_stored(store: Store) -> None:
    assert await store.schema_version() == max(v for v, _, _ in store.migrations())


async def test_a_schema_newer_than_the_code_refuses_to_open(
    store_url: str, clock: FakeClock
) -> None:
    async with open_store(store_url, clock=clock) as store:
        newest = await store.schema_version()
        await store.run(
            lambda tx: tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (newest + 1, "from_the_future.sql", 0.0),
            )
        )
    try:
        with pytest.raises(SchemaTooNew, match=f"version {newest + 1}, newer than this Triad"):
            async with open_store(store_url, clock=clock):
                pass
    finally:  # the PostgreSQL database is shared by the session's tests
        await _forget_version(store_url, newest + 1)


async def _forget_version(url: str, version: int) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("DELETE FROM schema_migrations WHERE version = ?", (version,))
        return
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DELETE FROM schema_migrations WHERE version = %s", (version,))


async def test_a_missing_postgres_database_is_named_in_the_servers_words(
    postgres_url: str,
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/triad_no_such_database"
    with pytest.raises(StoreError, match='database "triad_no_such_database" does not exist'):
        async with open_store(missing):
            pass


@pytest.mark.parametrize(("version", "refused"), [(120022, "PostgreSQL 12"), (130000, None)])
def test_a_postgres_server_older_than_13_is_refused(version: int, refused: str | None) -> None:
    """From 13, a timeout set in a text of statements bounds the statements after it there
    (a grouped transaction's facts read is one)."""
    if refused is None:
        require_supported(version)
        return
    with pytest.raises(StoreError, match=f"{refused} is too old: Triad needs PostgreSQL 13"):
        require_supported(version)


async def test_a_postgres_server_not_listening_is_named_at_once() -> None:
    with pytest.raises(StoreError, match="port 9 failed: Connection refused") as raised:
        async with open_store("postgresql://postgres@127.0.0.1:9/triad"):
            pass
    assert "\n" not in str(raised.value)


async def test_a_live_sqlite_store_is_backed_up_with_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "triad.db"
    async with open_store(f"sqlite:///{path}") as store:
        for n in range(19):
            await store.record_delivery(
                Delivery(f"d-{n}", "ping", None, None, None, None, DeliveryOutcome.PING, b"{}")
            )
        # the store is still open: recent transactions are in triad.db-wal, not triad.db
        assert (tmp_path / "triad.db-wal").stat().st_size > 0
        backup_sqlite(path, tmp_path / "backup.db")
        with pytest.raises(StoreError, match="exists"):
            backup_sqlite(path, tmp_path / "backup.db")
    with sqlite3.connect(tmp_path / "backup.db") as copy:
        assert copy.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (19,)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    async with open_store(f"sqlite:///{tmp_path / 'backup.db'}") as restored:
        assert await restored.count_deliveries() == 19


async def test_a_delivery_body_is_compressed_with_lz4_where_postgresql_has_it(
    store: Store,
) -> None:
    """pglz took most of PostgreSQL's CPU per stored delivery (issue 14)."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's TOAST compression")
    server = await store.run(lambda tx: tx.fetchone("SHOW server_version_num"))
    if server is None or int(server["server_version_num"]) < 140000:
        pytest.skip("PostgreSQL before 14 compresses with pglz only")
    compression = await store.run(
        lambda tx: tx.fetchone(
            "SELECT attcompression AS method FROM pg_attribute"
            " WHERE attrelid = 'deliveries'::regclass AND attname = 'body'"
        )
    )
    assert compression is not None
    try:
        await store.run(lambda tx: tx.execute("SET LOCAL default_toast_compression = 'lz4'"))
    except psycopg.errors.InvalidParameterValue:
        assert compression["method"] == ""  # this server has no lz4: the default, pglz
    else:
        assert compression["method"] == "l"


async def test_a_server_starting_while_another_writes_a_new_sqlite_file_waits_for_it(
    tmp_path: Path,
) -> None:
    """Entering WAL mode needs the file to itself, and SQLite answers "locked" at once (no
    busy timeout) while another connection writes: `triad serve` and `triad worker` started
    together on a new file failed one of them."""
    path = tmp_path / "triad.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE first_writer (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO first_writer VALUES (1)")
    done = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    done.start()
    try:
        async with open_store(f"sqlite:///{path}") as store:
            assert await store.count_deliveries() == 0
    finally:
        done.join()
        writer.close()
    with sqlite3.connect(path) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("wal",)
