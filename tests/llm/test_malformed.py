"""Malformed successful answers (HTML, bad JSON, empty objects) are retried, never a crash."""

from __future__ import annotations

import json

import pytest

from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.context import ContextPart
from bot.llm.errors import ModelUnavailable
from bot.llm.prices import PriceTable
from bot.roles.architect.schema import FileSelection
from tests.llm.conftest import RecordingSleep
from triad_lab.simulator.model_server import FakeModelServer, RawBody, raw

CLAUDE = ModelChoice(provider="anthropic", model="claude-sonnet-4-6", timeout_seconds=5)
GPT = ModelChoice(provider="openai", model="gpt-5.2", timeout_seconds=5)
GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
CONTEXT = [ContextPart("issue #1", "Add a search box")]
JSON = "application/json"

MALFORMED = {
    "html page": raw("<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "bad json": raw('{"id": "msg_1", "content": [', content_type=JSON),
    "empty object": raw("{}", content_type=JSON),
    "error with 200": raw(
        '{"error": {"type": "overloaded_error", "message": "try later"}}', content_type=JSON
    ),
    "choice without message": raw('{"choices": [{}], "content": null}', content_type=JSON),
    "a list": raw("[1, 2]", content_type=JSON),
    "block without type": raw('{"content": [{}], "choices": [{"message": 7}]}', content_type=JSON),
}
BOTH = pytest.mark.parametrize("choice", [CLAUDE, GPT], ids=["anthropic", "openai"])


@BOTH
@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_malformed_answer_is_retried_like_a_server_error(
    server: FakeModelServer,
    caller: ModelCaller,
    sleep: RecordingSleep,
    choice: ModelChoice,
    body: RawBody,
) -> None:
    server.script(choice.model, [body, GOOD])
    answer = await caller.ask(choice, "Pick.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md"]
    assert server.statuses == [200, 200]
    assert len(sleep.delays) == 1


@BOTH
async def test_malformed_answers_fall_back_then_fail_as_model_unavailable(
    server: FakeModelServer, caller: ModelCaller, choice: ModelChoice
) -> None:
    other = GPT if choice is CLAUDE else CLAUDE
    with_fallback = choice.model_copy(update={"fallback": other})
    server.script(choice.model, [MALFORMED["html page"]] * 3)
    server.script(other.model, [GOOD])
    answer = await caller.ask(with_fallback, "Pick.", CONTEXT, FileSelection)
    assert answer.usage.model == other.model

    server.reset()
    server.script(choice.model, [MALFORMED["empty object"]] * 3)
    with pytest.raises(ModelUnavailable) as failure:
        await caller.ask(choice, "Pick.", CONTEXT, FileSelection)
    message = str(failure.value)
    assert "malformed answer" in message and "(3 attempts)" in message


def _anthropic(usage: object) -> str:
    return json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "FileSelection", "input": GOOD}
            ],
            "stop_reason": "tool_use",
            "usage": usage,
        }
    )


def _openai(usage: object) -> str:
    message = {"role": "assistant", "content": json.dumps(GOOD)}
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-5.2",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
    )


@pytest.mark.parametrize(
    ("choice", "body"),
    [
        (CLAUDE, _anthropic(None)),
        (CLAUDE, _anthropic({"input_tokens": None, "output_tokens": "many"})),
        (GPT, _openai(None)),
        (GPT, _openai({"prompt_tokens": None})),
    ],
    ids=["anthropic-null", "anthropic-fields", "openai-null", "openai-fields"],
)
async def test_missing_token_counts_are_estimated(
    server: FakeModelServer, caller: ModelCaller, choice: ModelChoice, body: str
) -> None:
    server.script(choice.model, [raw(body, content_type=JSON)])
    answer = await caller.ask(choice, "Pick.", CONTEXT, FileSelection)

    usage = answer.usage
    assert answer.value.paths == ["README.md"]
    assert usage.input_tokens > 10 and usage.output_tokens > 5
    assert usage.cost == PriceTable().cost(choice.model, usage.input_tokens, usage.output_tokens)
