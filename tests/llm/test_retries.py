"""Retries on 429, 5xx, 529 and timeouts; retry-after honoured; fallback; then a typed failure."""

from __future__ import annotations

import asyncio
import time

import anthropic
import pytest

from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.context import ContextPart
from bot.llm.errors import ModelUnavailable
from bot.llm.retry import RetryPolicy
from bot.roles.architect.schema import FileSelection
from tests.llm.conftest import RecordingSleep
from triad_lab.simulator.model_server import (
    FakeModelServer,
    overloaded,
    quota_exhausted,
    rate_limited,
    server_error,
    slow,
    trickle,
)

CLAUDE = ModelChoice(provider="anthropic", model="claude-sonnet-4-6", timeout_seconds=5)
GPT = ModelChoice(provider="openai", model="gpt-5.2", timeout_seconds=5)
GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
CONTEXT = [ContextPart("issue #1", "Add a search box")]


@pytest.mark.parametrize("choice", [CLAUDE, GPT], ids=["anthropic", "openai"])
async def test_429_waits_as_long_as_retry_after_says(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep, choice: ModelChoice
) -> None:
    server.script(choice.model, [rate_limited(retry_after=7), GOOD])
    answer = await caller.ask(choice, "Pick.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md"]
    assert sleep.delays == [7.0]
    assert server.statuses == [429, 200]


async def test_529_overloaded_and_500_are_retried_with_growing_jittered_delays(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep
) -> None:
    server.script("claude-*", [overloaded(), server_error(), GOOD])
    answer = await caller.ask(CLAUDE, "Pick.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md"]
    assert server.statuses == [529, 500, 200]
    assert sleep.delays == [0.5, 1.0]  # random() = 0.5 of 1s, then of 2s


async def test_the_fake_server_speaks_anthropics_error_format(server: FakeModelServer) -> None:
    server.script("*", [overloaded()])
    client = anthropic.AsyncAnthropic(api_key="k", base_url=server.anthropic_url, max_retries=0)
    with pytest.raises(anthropic.OverloadedError) as failure:
        await client.messages.create(
            model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    await client.close()
    assert failure.value.type == "overloaded_error"
    assert failure.value.request_id == "req_fake_000001"


@pytest.mark.parametrize("choice", [CLAUDE, GPT], ids=["anthropic", "openai"])
async def test_exhausted_retries_raise_model_unavailable(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep, choice: ModelChoice
) -> None:
    server.script(choice.model, [server_error(503)] * 5)

    with pytest.raises(ModelUnavailable) as failure:
        await caller.ask(choice, "Pick.", CONTEXT, FileSelection)

    assert len(server.requests) == 3  # the policy's attempts, no SDK retries on top
    assert len(sleep.delays) == 2
    message = str(failure.value)
    assert f"{choice.label()}: HTTP 503" in message and "(3 attempts)" in message


async def test_a_client_error_is_not_retried(server: FakeModelServer, caller: ModelCaller) -> None:
    with pytest.raises(ModelUnavailable) as failure:  # nothing scripted: the server says 400
        await caller.ask(CLAUDE, "Pick.", CONTEXT, FileSelection)
    assert len(server.requests) == 1
    assert "HTTP 400 invalid_request_error" in str(failure.value)


async def test_a_retry_after_beyond_the_cap_gives_up_at_once(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep
) -> None:
    server.script("claude-*", [rate_limited(retry_after=3600), GOOD])
    with pytest.raises(ModelUnavailable):
        await caller.ask(CLAUDE, "Pick.", CONTEXT, FileSelection)
    assert sleep.delays == []


async def test_timeouts_are_retried_then_the_fallback_model_answers(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep
) -> None:
    choice = ModelChoice(
        provider="anthropic",
        model="claude-opus-4-6",
        timeout_seconds=0.2,
        fallback=ModelChoice(provider="openai", model="gpt-5-mini", timeout_seconds=5),
    )
    server.script("claude-opus-4-6", [slow(0.6, GOOD)] * 3)
    server.script("gpt-5-mini", [GOOD])

    answer = await caller.ask(choice, "Pick.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md"]
    assert (answer.usage.provider, answer.usage.model) == ("openai", "gpt-5-mini")
    assert [r.model for r in server.requests] == ["claude-opus-4-6"] * 3 + ["gpt-5-mini"]
    assert len(sleep.delays) == 2


@pytest.mark.parametrize("choice", [CLAUDE, GPT], ids=["anthropic", "openai"])
async def test_the_timeout_is_a_total_deadline_for_an_answer_that_trickles_in(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep, choice: ModelChoice
) -> None:
    # every byte comes within the SDK's read timeout; the whole body would take ~20s
    slow_one = choice.model_copy(update={"timeout_seconds": 0.3})
    server.script(choice.model, [trickle(GOOD, interval=0.05)] * 3)

    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as failure:
        await asyncio.wait_for(caller.ask(slow_one, "Pick.", CONTEXT, FileSelection), 10)

    assert time.monotonic() - started < 5
    assert len(server.requests) == 3 and len(sleep.delays) == 2
    assert "no complete answer within 0.3s (3 attempts)" in str(failure.value)


async def test_a_trickle_within_the_deadline_is_answered(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("gpt-5.2", [trickle(GOOD, interval=0.001, chunk=64)])
    answer = await caller.ask(GPT, "Pick.", CONTEXT, FileSelection)
    assert answer.value.paths == ["README.md"]


async def test_openai_insufficient_quota_is_not_retried_and_falls_back(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep
) -> None:
    server.script("gpt-5.2", [quota_exhausted(), GOOD])
    server.script("claude-*", [GOOD])
    answer = await caller.ask(
        GPT.model_copy(update={"fallback": CLAUDE}), "Pick.", [], FileSelection
    )

    assert answer.usage.provider == "anthropic"
    assert [r.model for r in server.requests] == ["gpt-5.2", "claude-sonnet-4-6"]
    assert sleep.delays == []

    server.reset()
    server.script("gpt-5.2", [quota_exhausted(), GOOD])
    with pytest.raises(ModelUnavailable) as failure:
        await caller.ask(GPT, "Pick.", [], FileSelection)
    assert len(server.requests) == 1
    message = str(failure.value)
    assert "HTTP 429 insufficient_quota" in message and "out of quota or credit" in message
    assert "(1 attempt)" in message


async def test_anthropic_x_should_retry_false_is_honoured(
    server: FakeModelServer, caller: ModelCaller, sleep: RecordingSleep
) -> None:
    server.script("claude-*", [server_error(503, should_retry=False), GOOD])
    with pytest.raises(ModelUnavailable) as failure:
        await caller.ask(CLAUDE, "Pick.", [], FileSelection)

    assert len(server.requests) == 1 and sleep.delays == []
    assert "the server said not to retry" in str(failure.value)
    server.reset()
    server.script("claude-*", [server_error(400, should_retry=True), GOOD])
    assert (await caller.ask(CLAUDE, "Pick.", [], FileSelection)).value.paths == ["README.md"]
    assert server.statuses == [400, 200]


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0, random=lambda: 1.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert RetryPolicy(random=lambda: 0.0).delay(3, None) == 0.0
    assert policy.delay(1, 2.5) == 2.5
    assert policy.delay(1, 121.0) is None
