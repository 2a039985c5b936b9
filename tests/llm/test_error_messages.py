"""Model errors are posted in public comments: redacted, and short enough to read."""

from __future__ import annotations

import pytest

from bot.errors import ModelError
from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.errors import MESSAGE_LIMIT, InvalidModelChoice, ModelUnavailable, OutputInvalid
from bot.llm.usage import UsageScope
from bot.redaction import REDACTED
from bot.roles.architect.schema import FileSelection
from tests.llm.helpers import models_for
from triad_lab.simulator.model_server import FakeModelServer, Fault

CLAUDE = ModelChoice(
    provider="anthropic",
    model="claude-sonnet-4-6",
    fallback=ModelChoice(provider="openai", model="gpt-5.2"),
)
TOKEN = "ghs_" + "Q7w" * 12
CONFIGURED = "test-anthropic-key-000"  # the pool's key: a configured secret
HUGE = "x" * 20_000


def _assert_publishable(error: ModelError) -> str:
    message = str(error)
    assert TOKEN not in message and CONFIGURED not in message and HUGE[:300] not in message
    assert len(message) <= MESSAGE_LIMIT
    return message


async def test_a_provider_error_echoing_secrets_and_pages_of_text_is_cut_and_redacted(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    echo = f"bad key {CONFIGURED} for {TOKEN}: {HUGE}"
    server.script("*", [Fault(400, "invalid_request_error", echo)] * 2)
    with pytest.raises(ModelUnavailable) as failure:
        await caller.ask(CLAUDE, "Pick.", [], FileSelection)

    message = _assert_publishable(failure.value)
    assert message.count(REDACTED) == 4  # the key and the token, from both models
    assert (
        "anthropic/claude-sonnet-4-6: HTTP 400" in message and "openai/gpt-5.2: HTTP 400" in message
    )


async def test_model_output_echoed_in_an_invalid_answer_is_cut_and_redacted(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    leaky = {"paths": f"{TOKEN} {HUGE}", "reason": 7}
    server.script("claude-*", [leaky, leaky])
    with pytest.raises(OutputInvalid) as failure:
        await caller.ask(CLAUDE, "Pick.", [], FileSelection)

    message = _assert_publishable(failure.value)
    assert "paths: Input should be a valid list" in message and "reason:" in message
    assert REDACTED in message


async def test_a_repository_override_echoed_in_an_error_is_cut_and_redacted(
    server: FakeModelServer,
) -> None:
    models = models_for(server)
    override = {"architect": {"model": "m", "temperature": f"{TOKEN} {HUGE}"}}
    scope = UsageScope(1, "o/r", None, "design", model_overrides=override)
    with pytest.raises(InvalidModelChoice) as failure:
        await models.ask("architect", "Design.", [], FileSelection, scope)
    await models.aclose()

    message = _assert_publishable(failure.value)
    assert "temperature: Extra inputs are not permitted" in message
    assert len(message) < 400  # the echoed value is cut to about 200 characters
