"""Refusals said to people without write access: one comment per person, issue and day, and at
most a few per person and day across an installation, on both backends."""

from __future__ import annotations

import asyncio

from bot.store import Store
from bot.store.refusals import PER_PERSON_DAILY, RefusalLog
from tests.conftest import FakeClock


async def test_one_outsider_on_many_issues_is_told_a_few_times_a_day(
    store: Store, clock: FakeClock
) -> None:
    refusals = RefusalLog(store)
    said = [
        await refusals.note("octo/repo", issue, "mallory", f"comment:{issue}", installation_id=3)
        for issue in range(1, 51)
    ]
    assert said == [True] * PER_PERSON_DAILY + [False] * (50 - PER_PERSON_DAILY)
    # a retried job of a refusal that was said says it again; one that was not, still not
    assert await refusals.note("octo/repo", 1, "mallory", "comment:1", installation_id=3)
    assert not await refusals.note("octo/repo", 50, "mallory", "comment:50", installation_id=3)
    # someone else, and the same person on another installation, have their own allowance
    assert await refusals.note("octo/repo", 1, "eve", "comment:a", installation_id=3)
    assert await refusals.note("other/repo", 1, "mallory", "comment:b", installation_id=4)
    # the next UTC day starts afresh
    clock.advance(86400)
    assert await refusals.note("octo/repo", 51, "mallory", "comment:51", installation_id=3)
    assert await refusals.totals() == (PER_PERSON_DAILY + 3, 50 - PER_PERSON_DAILY)


async def test_concurrent_refusals_do_not_pass_the_daily_cap(store: Store) -> None:
    refusals = RefusalLog(store)
    said = await asyncio.gather(
        *(
            refusals.note("octo/repo", issue, "mallory", f"comment:{issue}", installation_id=3)
            for issue in range(1, 21)
        )
    )
    assert said.count(True) == PER_PERSON_DAILY
