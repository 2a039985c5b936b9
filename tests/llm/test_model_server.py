"""The fake model server from a synchronous test: wire formats, recording, determinism."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from triad_lab.simulator.model_server import (
    FakeModelServer,
    rate_limited,
    raw,
    server_error,
    slow,
    tokens_for,
)


def test_a_sync_client_sees_openai_errors_and_deterministic_usage(
    server: FakeModelServer,
) -> None:
    server.script("gpt-*", [rate_limited(retry_after=3), {"a": 1}, {"a": 1}])
    client = openai.OpenAI(api_key="k", base_url=server.openai_url, max_retries=0)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]

    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-x", messages=messages)
    first = client.chat.completions.create(model="gpt-x", messages=messages)
    second = client.chat.completions.create(model="gpt-x", messages=messages)
    client.close()

    assert limited.value.response.headers["retry-after"] == "3"
    assert limited.value.type == "rate_limit_error"
    assert limited.value.response.headers["x-request-id"] == "req_fake_000001"
    assert first.choices[0].message.content == '{"a": 1}'
    assert first.usage == second.usage
    assert first.usage is not None and first.usage.completion_tokens == tokens_for('{"a": 1}')
    assert first._request_id == "req_fake_000002"
    assert [r.model for r in server.requests] == ["gpt-x"] * 3
    assert server.statuses == [429, 200, 200]


async def test_a_reset_during_a_slow_reply_leaves_no_late_status(server: FakeModelServer) -> None:
    server.script("*", [slow(0.4, {"a": 1})])
    client = openai.AsyncOpenAI(api_key="k", base_url=server.openai_url, max_retries=0)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
    reply = asyncio.create_task(client.chat.completions.create(model="gpt-x", messages=messages))
    while not server.requests:  # the request arrived and is being delayed
        await asyncio.sleep(0.01)
    assert server.statuses == [200]  # recorded with the request, not after the delay

    server.reset()  # the next test starts
    await reply
    await client.close()

    assert server.requests == [] and server.statuses == []


async def test_raw_bodies_and_faults_carry_status_type_and_headers(
    server: FakeModelServer,
) -> None:
    server.script("*", [raw("<h1>teapot</h1>", status=418), server_error(500, should_retry=False)])
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.post("/v1/messages", json={"model": "m"})
        fault = await client.post("/v1/messages", json={"model": "m"})
    assert (page.status_code, page.headers["content-type"]) == (418, "text/html; charset=utf-8")
    assert page.text == "<h1>teapot</h1>" and page.headers["request-id"] == "req_fake_000001"
    assert fault.headers["x-should-retry"] == "false"
    assert server.statuses == [418, 500]
