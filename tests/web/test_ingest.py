"""The webhook endpoint with group commit: concurrent deliveries are each stored before their
202, and a delivery whose transaction cannot commit is never acknowledged."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import Store
from tests.store.test_group_commit import _failing_commits
from tests.web.conftest import WebhookClient, labeled_issue

pytestmark = pytest.mark.asyncio


def issue(number: int) -> dict[str, object]:
    payload = labeled_issue()
    payload["issue"] = {**payload["issue"], "number": number}
    return payload


async def test_concurrent_deliveries_are_each_stored_with_their_job_before_their_202(
    webhooks: WebhookClient, store: Store
) -> None:
    answers = await asyncio.gather(
        *(webhooks.send("issues", issue(n), delivery=f"d-{n}") for n in range(1, 26))
    )
    assert [answer.status_code for answer in answers] == [202] * 25
    assert store.grouped_commits >= 1
    assert await store.count_deliveries() == 25
    assert len(await store.list_jobs()) == 25
    assert webhooks.wakeups == 25


async def test_deliveries_whose_commit_fails_are_answered_500_never_202(
    webhooks: WebhookClient, store: Store
) -> None:
    with _failing_commits(store):
        answers = await asyncio.gather(
            *(webhooks.send("issues", issue(n), delivery=f"d-{n}") for n in range(1, 11))
        )
    assert [answer.status_code for answer in answers] == [500] * 10
    assert answers[0].json() == {"message": "the delivery could not be stored"}
    assert await store.count_deliveries() == 0
    assert webhooks.wakeups == 0
    # the store works again once the database does
    assert (await webhooks.send("issues", issue(99), delivery="d-99")).status_code == 202
