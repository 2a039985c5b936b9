"""The door's store check where it can go wrong: deliveries admitted together, a drop on a
stale cached config (replayed, redelivered, or read again after a config refresh), and a
store that fails or stalls while the door reads it."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from typing import Any

import pytest

from bot.errors import TriadError
from bot.ops.commands import _replay
from bot.store import DeliveryOutcome, Store
from bot.store.repo_configs import CachedConfig, ConfigCache
from bot.store.sqlite import SqliteStore
from tests.web.conftest import WebhookClient, labeled_issue

pytestmark = pytest.mark.asyncio
USER = {"login": "alice", "id": 1, "type": "User"}
REPO = {"id": 9, "name": "repo", "full_name": "octo/repo", "owner": USER, "default_branch": "main"}
ON_PUSH = "review:\n  on_push: true\n"


def pull(action: str, sha: str, **extra: Any) -> dict[str, Any]:
    head = {"ref": "feature/x", "sha": sha, "repo": {"full_name": "octo/repo"}}
    base = {"ref": "main", "sha": "b" * 40, "repo": {"full_name": "octo/repo"}}
    pr = {"number": 40, "state": "open", "user": USER, "head": head, "base": base}
    return {
        "action": action,
        "pull_request": pr,
        "repository": REPO,
        "sender": USER,
        "installation": {"id": 42},
        **extra,
    }


async def _stale_config(store: Store) -> None:
    """A cached config that predates the repository's renamed design label (`ai:design`)."""
    await ConfigCache(store).put(CachedConfig("octo/repo", "c" * 40, None, store.clock()))


async def test_a_push_admitted_in_the_same_batch_as_the_review_label_is_queued(
    webhooks: WebhookClient, store: Store
) -> None:
    await ConfigCache(store).put(CachedConfig("octo/repo", "c" * 40, ON_PUSH, store.clock()))
    labelled, pushed = await asyncio.gather(
        webhooks.send("pull_request", pull("labeled", "a" * 40, label={"name": "triad:review"})),
        webhooks.send("pull_request", pull("synchronize", "d" * 40)),
    )
    assert labelled.json()["status"] == "queued"
    assert pushed.json()["status"] == "queued", pushed.json()
    assert len(await store.list_jobs()) == 2


async def test_a_delivery_dropped_on_a_stale_config_can_be_replayed(
    webhooks: WebhookClient, store: Store
) -> None:
    await _stale_config(store)
    answer = await webhooks.send("issues", labeled_issue("ai:design"), delivery="d-stale")
    assert answer.json()["status"] == "ignored"
    out = io.StringIO()
    assert await _replay(store, "d-stale", out) == 0
    assert out.getvalue() == "d-stale: queued\n"
    found = await store.get_delivery("d-stale")
    assert found is not None and found.outcome is DeliveryOutcome.QUEUED
    assert [job.idempotency_key for job in await store.list_jobs()] == ["delivery:d-stale"]
    with pytest.raises(TriadError, match="not an unreadable or ignored delivery"):
        await _replay(store, "d-stale", io.StringIO())  # queued now: never twice


async def test_a_delivery_dropped_on_its_payload_alone_is_not_replayed(
    webhooks: WebhookClient, store: Store
) -> None:
    answer = await webhooks.send("issues", labeled_issue(installation=False), delivery="d-x")
    assert answer.json()["status"] == "ignored"
    with pytest.raises(TriadError, match="still dropped at the door"):
        await _replay(store, "d-x", io.StringIO())
    assert await store.list_jobs() == []


async def test_a_redelivery_of_a_drop_on_store_facts_goes_through_the_door_again(
    webhooks: WebhookClient, store: Store
) -> None:
    await _stale_config(store)
    first = await webhooks.send("issues", labeled_issue("ai:design"), delivery="d-1")
    assert first.json()["status"] == "ignored"
    # the operator fixed the config; the cached read is gone (or refreshed)
    await ConfigCache(store).forget("octo/repo")
    again = await webhooks.send("issues", labeled_issue("ai:design"), delivery="d-1")
    assert (again.status_code, again.json()["status"]) == (202, "queued")
    assert webhooks.wakeups == 1
    found = await store.get_delivery("d-1")
    assert found is not None and found.outcome is DeliveryOutcome.QUEUED and found.reason is None
    # a third copy is a plain duplicate: one job, ever
    third = await webhooks.send("issues", labeled_issue("ai:design"), delivery="d-1")
    assert (third.status_code, third.json()["status"]) == (200, "duplicate")
    assert [job.idempotency_key for job in await store.list_jobs()] == ["delivery:d-1"]


async def test_a_redelivery_still_dropped_is_a_duplicate(
    webhooks: WebhookClient, store: Store
) -> None:
    await _stale_config(store)
    for expected in ("ignored", "duplicate"):
        answer = await webhooks.send("issues", labeled_issue("ai:design"), delivery="d-1")
        assert answer.json()["status"] == expected
    assert await store.list_jobs() == []


async def test_a_store_that_fails_the_doors_read_answers_500_and_counts_it(
    webhooks: WebhookClient, store: Store
) -> None:
    if not isinstance(store, SqliteStore):
        pytest.skip("the table is renamed under SQLite's feet")
    with sqlite3.connect(store.path) as other:
        other.execute("ALTER TABLE repo_configs RENAME TO repo_configs_gone")
    answer = await webhooks.send("issues", labeled_issue(), delivery="d-x")
    assert answer.status_code == 500
    sample = webhooks.context.metrics.registry.get_sample_value
    labels = {"event": "issues", "outcome": "store_failed"}
    assert sample("triad_webhook_deliveries_total", labels) == 1


async def test_a_store_that_stalls_answers_503_with_retry_after(
    webhooks: WebhookClient, store: Store
) -> None:
    if not isinstance(store, SqliteStore):
        pytest.skip("SQLite's write lock is held from another connection")
    store.admission_deadline = 0.3
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        answer = await webhooks.send("issues", labeled_issue(), delivery="d-slow")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "5")
    sample = webhooks.context.metrics.registry.get_sample_value
    labels = {"event": "issues", "outcome": "store_busy"}
    assert sample("triad_webhook_deliveries_total", labels) == 1


async def test_the_webhook_path_takes_only_post(webhooks: WebhookClient) -> None:
    answer = await webhooks.http.get("/api/github/webhooks")
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
