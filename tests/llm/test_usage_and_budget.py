"""Usage and cost are stored per reply on both backends; a workflow's budget stops calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.llm.budget import check_budget
from bot.llm.context import ContextPart
from bot.llm.errors import BudgetExceeded, ModelUnavailable
from bot.llm.prices import PriceTable
from bot.llm.usage import UsageScope
from bot.roles.architect.schema import FileSelection
from bot.store import Store, open_store
from bot.store.usage import UsageRecord, UsageStore
from tests.conftest import FakeClock
from tests.llm.helpers import models_for
from triad_lab.simulator.model_server import FakeModelServer, server_error, slow, text

GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
CONTEXT = [ContextPart("issue #5", "Make the search faster")]


def _scope(
    workflow_id: int | None,
    stage: str = "architect",
    *,
    budget_tokens: int | None = None,
    budget_dollars: float | None = None,
) -> UsageScope:
    return UsageScope(7, "octo/repo", workflow_id, stage, budget_tokens, budget_dollars)


async def test_every_reply_is_stored_with_tokens_cost_and_outcome(
    server: FakeModelServer, store: Store
) -> None:
    models = models_for(server, store)
    server.script("claude-opus-4-6", [GOOD, text("oops"), GOOD])
    server.script("gpt-5.2", [GOOD])
    answers = [
        await models.ask_with_usage("architect", "Pick.", CONTEXT, FileSelection, _scope(1)),
        await models.ask_with_usage("architect", "Pick.", CONTEXT, FileSelection, _scope(1)),
        await models.ask_with_usage(
            "reviewer_b", "Pick.", CONTEXT, FileSelection, _scope(1, "review")
        ),
    ]
    server.script("claude-sonnet-4-6", [GOOD])  # another workflow of the installation
    other = await models.ask_with_usage(
        "developer", "Pick.", CONTEXT, FileSelection, _scope(2, "implement")
    )
    await models.aclose()
    usage = UsageStore(store)

    records = await usage.records(1)
    assert [(r.role, r.provider, r.model, r.outcome) for r in records] == [
        ("architect", "anthropic", "claude-opus-4-6", "ok"),
        ("architect", "anthropic", "claude-opus-4-6", "invalid"),
        ("architect", "anthropic", "claude-opus-4-6", "repaired"),
        ("reviewer_b", "openai", "gpt-5.2", "ok"),
    ]
    assert all(r.request_id and r.request_id.startswith("req_fake_") for r in records)
    assert all(r.installation_id == 7 and r.repository == "octo/repo" for r in records)
    prices = PriceTable()
    for record in records:
        assert record.cost == pytest.approx(
            prices.cost(record.model, record.input_tokens, record.output_tokens)
        )

    totals = await usage.totals(1)
    replies = [reply for answer in answers for reply in answer.replies]
    assert totals.calls == 4
    assert totals.input_tokens == sum(r.input_tokens for r in replies)
    assert totals.output_tokens == sum(r.output_tokens for r in replies)
    assert totals.cost == pytest.approx(sum(r.cost for r in replies))

    by_stage = await usage.totals_by_stage(1)
    assert sorted(by_stage) == ["architect", "review"]
    assert by_stage["review"].tokens == answers[2].usage.tokens
    everything = await usage.totals_for_installation(7)
    assert everything.tokens == totals.tokens + other.usage.tokens
    assert everything.cost == pytest.approx(totals.cost + other.usage.cost)
    assert (await usage.totals_for_installation(8)).calls == 0


async def test_a_call_that_could_pass_the_token_budget_is_not_made(
    server: FakeModelServer, store: Store
) -> None:
    models = models_for(server, store)
    server.script("*", [GOOD])

    with pytest.raises(BudgetExceeded) as stopped:
        await models.ask(
            "architect", "Pick.", CONTEXT, FileSelection, _scope(3, budget_tokens=5000)
        )
    await models.aclose()

    assert server.requests == []
    message = str(stopped.value)
    assert "0 of 5,000 tokens spent" in message and "architect" in message
    [record] = await UsageStore(store).records(3)
    assert (record.outcome, record.input_tokens, record.cost) == ("budget_exceeded", 0, 0.0)


async def test_the_dollar_budget_counts_what_the_workflow_already_spent(
    server: FakeModelServer, store: Store
) -> None:
    usage = UsageStore(store)
    await usage.record(
        UsageRecord(7, "octo/repo", 4, "architect", "architect", "anthropic", "claude-opus-4-6",
                    "req_1", 1000, 2000, 0.95, 1200, "ok")
    )  # fmt: skip
    models = models_for(server, store)
    server.script("*", [GOOD])
    scope = _scope(4, budget_dollars=1.0)

    with pytest.raises(BudgetExceeded) as stopped:
        await models.ask("architect", "Pick.", CONTEXT, FileSelection, scope)
    assert "$0.95 of $1.00 spent" in str(stopped.value)
    assert server.requests == []

    roomy = _scope(4, budget_dollars=2.0, budget_tokens=100_000)
    assert (await models.ask("architect", "Pick.", CONTEXT, FileSelection, roomy)).paths
    await models.aclose()
    assert len(server.requests) == 1


def test_the_budget_rule() -> None:
    within: dict[str, Any] = {"limit_tokens": 100, "limit_dollars": 1.0}
    check_budget(spent_tokens=50, spent_dollars=0.5, next_tokens=50, next_dollars=0.5, **within)
    with pytest.raises(BudgetExceeded, match="50 of 100 tokens"):
        check_budget(spent_tokens=50, spent_dollars=0, next_tokens=51, next_dollars=0, **within)
    with pytest.raises(BudgetExceeded, match=r"\$0.60 of \$1.00"):
        check_budget(spent_tokens=0, spent_dollars=0.6, next_tokens=1, next_dollars=0.5, **within)
    check_budget(
        spent_tokens=10**9,
        spent_dollars=10**6,
        next_tokens=1,
        next_dollars=1,
        limit_tokens=None,
        limit_dollars=None,
    )


async def test_concurrent_calls_of_a_workflow_cannot_together_pass_its_budget(
    server: FakeModelServer, store: Store, store_url: str, clock: FakeClock
) -> None:
    # three workers (two of them another process, with its own store) ask at once; the
    # architect may write 16,000 tokens, so a 20,000-token budget admits one call
    server.script("*", [slow(0.3, GOOD)] * 3)
    scope = _scope(9, budget_tokens=20_000)
    async with open_store(store_url, clock=clock) as other:
        workers = [models_for(server, store), models_for(server, other), models_for(server, store)]
        results = await asyncio.gather(
            *(w.ask("architect", "Pick.", CONTEXT, FileSelection, scope) for w in workers),
            return_exceptions=True,
        )
        for worker in workers:
            await worker.aclose()

    assert len(server.requests) == 1
    assert sorted(type(r).__name__ for r in results) == [
        "BudgetExceeded",
        "BudgetExceeded",
        "FileSelection",
    ]
    refusal = next(r for r in results if isinstance(r, BudgetExceeded))
    assert "0 of 20,000 tokens spent (" in str(refusal)
    assert "more held by calls in progress" in str(refusal)
    usage = UsageStore(store)
    outcomes = sorted(r.outcome for r in await usage.records(9))
    assert outcomes == ["budget_exceeded", "budget_exceeded", "ok"]
    assert await usage.held(9) == 0  # the answer's usage replaced its reservation

    # the settled call counts what it used, not what it might have: another one fits
    models = models_for(server, store)
    server.script("*", [GOOD])
    assert (await models.ask("architect", "Pick.", CONTEXT, FileSelection, scope)).paths
    await models.aclose()


async def test_a_failed_call_releases_its_reservation_and_a_dead_one_lapses(
    server: FakeModelServer, store: Store, clock: FakeClock
) -> None:
    usage = UsageStore(store)
    models = models_for(server, store)
    scope = _scope(10, budget_tokens=40_000)
    server.script("claude-*", [server_error(503)] * 4)
    with pytest.raises(ModelUnavailable):
        await models.ask("architect", "Pick.", CONTEXT, FileSelection, scope)
    assert await usage.held(10) == 0
    assert [r.outcome for r in await usage.records(10)] == ["unavailable", "unavailable"]

    # a worker that died mid-call left its reservation: it blocks the budget until it lapses
    await usage.reserve(10, "developer", 30_000, 0.0, 600, lambda _position: None)
    server.script("*", [GOOD])
    with pytest.raises(BudgetExceeded, match="30,000 more held"):
        await models.ask("architect", "Pick.", CONTEXT, FileSelection, scope)
    clock.advance(601)
    assert (await models.ask("architect", "Pick.", CONTEXT, FileSelection, scope)).paths
    await models.aclose()
    assert await usage.held(10) == 0
