"""Prices: exact or undated names only; unknown hosted models are never free."""

from __future__ import annotations

import logging

import pytest

from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.prices import DEFAULT_PRICES, Price, PriceTable
from bot.roles.architect.schema import FileSelection
from triad_lab.simulator.model_server import FakeModelServer

GOOD = {"paths": ["README.md"], "reason": "It explains the project."}


def test_dated_snapshots_are_priced_as_their_undated_name() -> None:
    prices = PriceTable({"my-model": Price(1.0, 2.0)})
    assert prices.price("claude-sonnet-4-5-20250929") == DEFAULT_PRICES["claude-sonnet-4-5"]
    assert prices.price("gpt-4.1-2025-04-14") == DEFAULT_PRICES["gpt-4.1"]
    assert prices.price("gpt-5-mini-2025-08-07") == Price(0.25, 2.0)
    assert prices.cost("my-model", 1_000_000, 500_000) == 2.0


def test_pro_models_are_not_priced_as_their_base_model() -> None:
    prices = PriceTable()
    assert prices.price("gpt-5-pro", "openai") == Price(15.0, 120.0)
    assert prices.price("gpt-5-pro-2025-10-06", "openai") == Price(15.0, 120.0)
    assert prices.price("o3-pro", "openai") == Price(20.0, 80.0)
    assert prices.price("o3-pro", "openai") != prices.price("o3")


def test_an_unknown_hosted_model_costs_the_dearest_known_price_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    prices = PriceTable()
    with caplog.at_level(logging.WARNING, logger="bot.llm.prices"):
        openai = prices.price("gpt-6-preview", "openai")
        anthropic = prices.price("claude-opus-5", "anthropic")
        prices.price("gpt-6-preview", "openai")
        warnings = [r.getMessage() for r in caplog.records]
    assert openai == Price(21.0, 168.0)  # gpt-5.2-pro, the dearest listed OpenAI model
    assert anthropic == Price(15.0, 75.0)  # claude-opus-4-1
    assert prices.price("gpt-5-turbo", "openai") == openai  # no prefix match to gpt-5
    assert len(warnings) == 2  # once per model
    assert (
        "'gpt-6-preview'" in warnings[0] and "dearest known ($21.00 in, $168.00 out" in warnings[0]
    )


def test_a_model_on_an_operators_own_endpoint_is_free_unless_priced() -> None:
    assert PriceTable().cost("llama3.1:8b", 10**6, 10**6, "openai-compatible") == 0.0
    priced = PriceTable({"llama3.1:8b": Price(0.1, 0.2)})
    assert priced.cost("llama3.1:8b", 10**6, 10**6, "openai-compatible") == pytest.approx(0.3)


async def test_the_caller_charges_an_unknown_hosted_model(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("gpt-7", [GOOD])
    answer = await caller.ask(
        ModelChoice(provider="openai", model="gpt-7"), "Pick.", [], FileSelection
    )
    usage = answer.usage
    assert usage.cost == Price(21.0, 168.0).cost(usage.input_tokens, usage.output_tokens) > 0
