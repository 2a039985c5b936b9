"""The fake model server from a synchronous test: wire formats, recording, determinism."""

from __future__ import annotations

import openai
import pytest

from bot.simulator.model_server import FakeModelServer, rate_limited, tokens_for


def test_a_sync_client_sees_openai_errors_and_deterministic_usage(
    server: FakeModelServer,
) -> None:
    server.script("gpt-*", [rate_limited(retry_after=3), {"a": 1}, {"a": 1}])
    client = openai.OpenAI(api_key="k", base_url=server.openai_url, max_retries=0)
    messages = [{"role": "user", "content": "hello"}]

    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-x", messages=messages)  # type: ignore[arg-type]
    first = client.chat.completions.create(model="gpt-x", messages=messages)  # type: ignore[arg-type]
    second = client.chat.completions.create(model="gpt-x", messages=messages)  # type: ignore[arg-type]
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
