"""Model choice per role: defaults, validated repository overrides, missing keys."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError, ModelError
from bot.llm.choice import DEFAULT_CHOICES, ModelChoice, resolve_choice
from bot.llm.errors import InvalidModelChoice, ModelUnavailable
from bot.llm.models import build_models
from bot.llm.retry import RetryPolicy
from bot.llm.usage import UsageScope
from bot.roles.architect.schema import FileSelection
from bot.settings import Settings
from tests.llm.helpers import models_for
from triad_lab.simulator.model_server import FakeModelServer, Fault

GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
LOCAL = "http://ollama.internal:11434/v1"


def test_defaults_put_the_two_reviewers_on_different_providers() -> None:
    assert DEFAULT_CHOICES["architect"].provider == "anthropic"
    assert DEFAULT_CHOICES["reviewer_a"].provider != DEFAULT_CHOICES["reviewer_b"].provider
    assert resolve_choice("developer", {}) == DEFAULT_CHOICES["developer"]


def test_an_override_may_change_provider_and_model_and_inherits_the_provider() -> None:
    choice = resolve_choice("reviewer_b", {"reviewer_b": {"provider": "anthropic", "model": "m"}})
    assert (choice.provider, choice.model, choice.fallback) == ("anthropic", "m", None)
    same = resolve_choice("architect", {"architect": {"model": "claude-sonnet-4-6"}})
    assert same.provider == "anthropic"


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"provider": "gemini", "model": "x"}, "provider: Input should be"),
        ({"model": ""}, "model: String should have at least 1 character"),
        ({"model": "m", "temperature": 2}, "temperature: Extra inputs are not permitted"),
        ({"provider": "openai-compatible", "model": "m"}, "needs a base_url"),
        ("claude", "must be a mapping"),
        ({"model": "m", "base_url": "http://evil.example/v1"}, "not an endpoint this Triad"),
        ({"model": "m", "api_key_env": "TRIAD_PRIVATE_KEY"}, "only be set by the operator"),
    ],
)
def test_an_invalid_override_is_a_readable_model_error(override: object, says: str) -> None:
    with pytest.raises(InvalidModelChoice) as failure:
        resolve_choice("architect", {"architect": override})
    assert isinstance(failure.value, ModelError) and isinstance(failure.value, ConfigError)
    message = str(failure.value)
    assert "models.architect" in message and says in message


def test_an_operator_endpoint_may_be_chosen_and_keeps_its_key() -> None:
    operator = {
        **DEFAULT_CHOICES,
        "developer": ModelChoice(
            provider="openai-compatible", model="qwen", base_url=LOCAL, api_key_env="LOCAL_KEY"
        ),
    }
    override = {"architect": {"provider": "openai-compatible", "model": "llama", "base_url": LOCAL}}
    choice = resolve_choice("architect", override, operator)
    assert (choice.base_url, choice.api_key_env) == (LOCAL, "LOCAL_KEY")
    with pytest.raises(InvalidModelChoice, match="no model is configured for role 'tester'"):
        resolve_choice("tester", {}, operator)


async def test_overrides_from_the_scope_choose_the_model_that_is_called(
    server: FakeModelServer,
) -> None:
    models = models_for(server)
    server.script("claude-haiku-4-5", [GOOD])
    overrides = {"reviewer_b": {"provider": "anthropic", "model": "claude-haiku-4-5"}}
    scope = UsageScope(1, "o/r", None, "review", model_overrides=overrides)

    await models.ask("reviewer_b", "Review.", [], FileSelection, scope)

    assert [(r.api, r.model) for r in server.requests] == [("anthropic", "claude-haiku-4-5")]
    bad = UsageScope(1, "o/r", None, "review", model_overrides={"reviewer_b": {"provider": 1}})
    with pytest.raises(ModelError, match=r"models.reviewer_b"):
        await models.ask("reviewer_b", "Review.", [], FileSelection, bad)
    await models.aclose()


async def test_without_a_key_or_base_url_the_call_fails_naming_the_variable() -> None:
    models = build_models(Settings(anthropic_api_key=None, openai_api_key=None), None, environ={})
    scope = UsageScope(1, "o/r", None, "architect")
    with pytest.raises(ModelUnavailable, match="ANTHROPIC_API_KEY is not set"):
        await models.ask("architect", "Design.", [], FileSelection, scope)
    await models.aclose()


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"model": "m", "max_output_tokens": 64_000}, "max_output_tokens may be at most 16,000"),
        ({"model": "m", "timeout_seconds": 3600}, "timeout_seconds may be at most 300s"),
        (
            {
                "model": "m",
                "fallback": {"provider": "openai", "model": "n", "max_output_tokens": 100_000},
            },
            "models.architect.fallback`: max_output_tokens may be at most 16,000",
        ),
    ],
)
def test_an_override_cannot_raise_the_operators_limits(override: object, says: str) -> None:
    with pytest.raises(InvalidModelChoice) as failure:
        resolve_choice("architect", {"architect": override})
    assert says in str(failure.value) and "the operator's limit" in str(failure.value)


def test_an_override_keeps_within_the_limits_it_did_not_set() -> None:
    tight = {"architect": ModelChoice(provider="anthropic", model="a", max_output_tokens=4096)}
    choice = resolve_choice("architect", {"architect": {"model": "b"}}, tight)
    assert (choice.max_output_tokens, choice.timeout_seconds) == (4096, 300)
    lower = resolve_choice("developer", {"developer": {"model": "c", "max_output_tokens": 900}})
    assert lower.max_output_tokens == 900


def test_trusted_endpoints_are_keyed_by_provider_and_base_url() -> None:
    trusted = {("openai-compatible", LOCAL): "LOCAL_KEY"}
    fine = {"provider": "openai-compatible", "model": "llama", "base_url": LOCAL}
    assert resolve_choice("developer", {"developer": fine}, trusted=trusted).api_key_env == (
        "LOCAL_KEY"
    )
    # the same URL under a hosted provider would get that provider's treatment: refused
    as_openai = {"provider": "openai", "model": "llama", "base_url": LOCAL}
    with pytest.raises(InvalidModelChoice, match="configured for with provider openai"):
        resolve_choice("developer", {"developer": as_openai}, trusted=trusted)


async def test_a_missing_key_tells_the_operator_to_set_it_not_to_pick_another_model() -> None:
    models = build_models(Settings(anthropic_api_key=None, openai_api_key=None), None, environ={})
    scope = UsageScope(1, "o/r", None, "architect")
    with pytest.raises(ModelUnavailable) as raised:
        await models.ask("architect", "Design.", [], FileSelection, scope)
    message = str(raised.value)
    assert "operator of this Triad installation must set `ANTHROPIC_API_KEY`" in message
    assert "another model" not in message
    await models.aclose()


async def test_a_repository_that_chose_a_provider_without_a_key_is_told_it_can_choose() -> None:
    models = build_models(Settings(anthropic_api_key=None, openai_api_key=None), None, environ={})
    chosen = {"architect": {"provider": "openai", "model": "gpt-5.2"}}
    scope = UsageScope(1, "o/r", None, "architect", model_overrides=chosen)
    with pytest.raises(ModelUnavailable) as raised:
        await models.ask("architect", "Design.", [], FileSelection, scope)
    message = str(raised.value)
    assert "`.github/triad.yml` chooses openai/gpt-5.2 here" in message
    assert "ask its operator to set `OPENAI_API_KEY`" in message
    assert "cannot fix" not in message
    await models.aclose()


async def test_a_fallback_that_was_called_and_failed_is_not_a_missing_key(
    server: FakeModelServer,
) -> None:
    # the main choice lacks its key; the fallback is called, and its provider's error happens
    # to read like a missing setting: the operator's keys are not the whole story
    choices = {
        "architect": ModelChoice(
            provider="openai",
            model="gpt-5.2",
            fallback=ModelChoice(provider="anthropic", model="claude-fallback"),
        )
    }
    models = build_models(
        Settings(anthropic_api_key=None, openai_api_key=None),
        None,
        anthropic_base_url=server.anthropic_url,
        choices=choices,
        retry=RetryPolicy(attempts=1),
        environ={},
    )
    server.script("claude-fallback", [Fault(400, "invalid_request_error", "system is not set")])
    with pytest.raises(ModelUnavailable) as raised:
        await models.ask("architect", "Design.", [], FileSelection, UsageScope(1, "o/r", None, "d"))
    message = str(raised.value)
    assert "OPENAI_API_KEY is not set" in message and "system is not set" in message
    assert "must set" not in message and "Retry later" in message
    await models.aclose()
