"""The operator's ceilings on spend: daily dollar caps per installation and in all, checked
atomically with the workflow's budget; models a repository may pick; budgets over the cap."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import ConfigError
from bot.llm.config import parse_models_config
from bot.llm.context import ContextPart
from bot.llm.errors import BudgetExceeded, InvalidModelChoice
from bot.llm.models import build_models
from bot.llm.retry import RetryPolicy
from bot.llm.usage import UsageScope
from bot.repo_config import BudgetCap, capped, parse_repo_config
from bot.roles.architect.schema import FileSelection
from bot.settings import Settings
from bot.store import Store
from bot.store.usage import UsageRecord, UsageStore
from tests.llm.conftest import RecordingSleep
from triad_lab.simulator.model_server import FakeModelServer

GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
CONTEXT = [ContextPart("issue #5", "Make the search faster")]


def _models(server: FakeModelServer, store: Store, **settings: float) -> object:
    return build_models(
        Settings(anthropic_api_key=None, openai_api_key=None, **settings),
        store,
        anthropic_base_url=server.anthropic_url,
        openai_base_url=server.openai_url,
        retry=RetryPolicy(attempts=1, sleep=RecordingSleep()),
        environ={},
        allowed={"developer": ["claude-sonnet-4-6"]},
    )


async def _spent(store: Store, installation: int, dollars: float) -> None:
    await UsageStore(store).record(
        UsageRecord(
            installation,
            "o/r",
            99,
            "s",
            "architect",
            "anthropic",
            "m",
            None,
            1,
            1,
            dollars,
            1,
            "ok",
        )
    )


async def test_an_installations_daily_cap_stops_its_calls_only(
    server: FakeModelServer, store: Store
) -> None:
    models = _models(server, store, installation_daily_dollars=5.0, global_daily_dollars=0)
    await _spent(store, 7, 4.99)
    server.script("*", [GOOD] * 3)
    with pytest.raises(BudgetExceeded, match="this installation's daily model spend cap"):
        await models.ask("architect", "Pick.", CONTEXT, FileSelection, UsageScope(7, "o/r", 1, "a"))  # type: ignore[attr-defined]
    # another installation is not held back
    await models.ask("architect", "Pick.", CONTEXT, FileSelection, UsageScope(8, "o/x", 2, "a"))  # type: ignore[attr-defined]
    await models.aclose()  # type: ignore[attr-defined]


async def test_the_global_daily_cap_counts_calls_in_flight_everywhere(
    server: FakeModelServer, store: Store
) -> None:
    models = _models(server, store, installation_daily_dollars=0, global_daily_dollars=1.0)
    server.script("*", [GOOD] * 20)
    # concurrent calls of many installations: the reservations together never pass the cap
    results = await asyncio.gather(
        *(
            models.ask("architect", "Pick.", CONTEXT, FileSelection, UsageScope(n, "o/r", n, "a"))  # type: ignore[attr-defined]
            for n in range(1, 21)
        ),
        return_exceptions=True,
    )
    await models.aclose()  # type: ignore[attr-defined]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert refused and "this Triad's daily model spend cap" in str(refused[0])
    assert len(refused) < 20


def test_a_repository_budget_over_the_operators_cap_is_lowered_and_said() -> None:
    loaded = parse_repo_config("budget:\n  tokens: 1000000000000\n  dollars: 5000\n")
    lowered = capped(loaded, BudgetCap(tokens=2_000_000, dollars=50))
    assert (lowered.config.budget.tokens, lowered.config.budget.dollars) == (2_000_000, 50)
    assert any("TRIAD_MAX_WORKFLOW_TOKENS" in p and "2,000,000" in p for p in lowered.problems)
    assert any("TRIAD_MAX_WORKFLOW_DOLLARS" in p and "$50" in p for p in lowered.problems)
    within = parse_repo_config("budget:\n  dollars: 3\n")
    assert capped(within, BudgetCap(tokens=2_000_000, dollars=50)) == within


async def test_a_repository_picks_only_among_the_models_the_operator_allows(
    server: FakeModelServer, store: Store
) -> None:
    models = _models(server, store)
    pricey = UsageScope(
        7, "o/r", 1, "d", model_overrides={"developer": {"model": "claude-opus-4-6"}}
    )
    with pytest.raises(InvalidModelChoice, match="not among the models the operator allows"):
        models.choice("developer", pricey)  # type: ignore[attr-defined]
    allowed = UsageScope(
        7,
        "o/r",
        1,
        "d",
        model_overrides={"developer": {"model": "claude-sonnet-4-6", "fallback": None}},
    )
    assert models.choice("developer", allowed).model == "claude-sonnet-4-6"  # type: ignore[attr-defined]
    await models.aclose()  # type: ignore[attr-defined]


def test_the_models_file_lists_allowed_models_per_role() -> None:
    config = parse_models_config({"allowed": {"reviewer_b": ["gpt-5.2", "gpt-5-mini"]}})
    assert config.allowed == {"reviewer_b": ("gpt-5.2", "gpt-5-mini")}
    with pytest.raises(ConfigError, match=r"allowed: .*unknown role 'tester'"):
        parse_models_config({"allowed": {"tester": ["x"]}})
