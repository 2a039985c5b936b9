"""One repair round for an answer that does not fit its schema; then a readable failure."""

from __future__ import annotations

import pytest

from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.context import ContextPart
from bot.llm.errors import OutputInvalid
from bot.roles.architect.schema import FileSelection
from triad_lab.simulator.model_server import FakeModelServer, text, truncated

CLAUDE = ModelChoice(provider="anthropic", model="claude-sonnet-4-6", timeout_seconds=5)
GPT = ModelChoice(provider="openai", model="gpt-5.2", timeout_seconds=5)
GOOD = {"paths": ["README.md"], "reason": "It explains the project."}
CONTEXT = [ContextPart("issue #1", "Add a search box")]


async def test_anthropic_repair_carries_the_validation_error_back_as_a_tool_result(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("claude-*", [{"paths": "README.md"}, GOOD])
    answer = await caller.ask(CLAUDE, "Pick files.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md"]
    assert len(answer.replies) == 2
    assert answer.usage.input_tokens == sum(r.input_tokens for r in answer.replies)
    _first, second = server.requests
    assistant, user = second.body["messages"][-2:]
    assert assistant["content"][0]["type"] == "tool_use"
    assert assistant["content"][0]["input"] == {"paths": "README.md"}
    result = user["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert result["tool_use_id"] == assistant["content"][0]["id"]
    assert "paths: Input should be a valid list" in result["content"]
    assert "reason: Field required" in result["content"]


async def test_openai_repair_follows_text_that_is_not_json(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("gpt-5.2", [text("Sure! Here are the files you asked for."), GOOD])
    answer = await caller.ask(GPT, "Pick files.", CONTEXT, FileSelection)

    assert answer.value.reason == "It explains the project."
    repair = server.requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": "Sure! Here are the files you asked for."}
    assert "not valid JSON" in repair[-1]["content"]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ('{"paths": [], "reason": "x", "n": ' + "7" * 5000 + "}", "Exceeds the limit"),
        ("[" * 3000, "nests too deeply"),
    ],
    ids=["a-5000-digit-number", "deep-nesting"],
)
async def test_json_python_refuses_to_read_is_repaired_not_a_crash(
    server: FakeModelServer, caller: ModelCaller, answer: str, problem: str
) -> None:
    """`json.loads` raises ValueError (not JSONDecodeError) for a number of over 4300 digits,
    and RecursionError when nested too deeply: both escaped the repair round and failed the
    job, the call it paid for unrecorded."""
    server.script("gpt-5.2", [text(answer), GOOD])
    read = await caller.ask(GPT, "Pick files.", CONTEXT, FileSelection)

    assert read.value.paths == ["README.md"] and len(read.replies) == 2
    assert problem in server.requests[1].body["messages"][-1]["content"]


@pytest.mark.parametrize("choice", [CLAUDE, GPT], ids=["anthropic", "openai"])
async def test_a_truncated_answer_is_repaired(
    server: FakeModelServer, caller: ModelCaller, choice: ModelChoice
) -> None:
    server.script(choice.model, [truncated(GOOD), GOOD])
    answer = await caller.ask(choice, "Pick files.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md"]
    assert "cut off at the output limit" in server.requests[1].text


@pytest.mark.parametrize("choice", [CLAUDE, GPT], ids=["anthropic", "openai"])
async def test_an_answer_still_invalid_after_repair_is_a_typed_readable_failure(
    server: FakeModelServer, caller: ModelCaller, choice: ModelChoice
) -> None:
    server.script(choice.model, [text("no"), {"paths": ["a"]}])

    with pytest.raises(OutputInvalid) as failure:
        await caller.ask(choice, "Pick files.", CONTEXT, FileSelection)

    message = str(failure.value)
    assert choice.label() in message
    assert "FileSelection" in message and "reason: Field required" in message
    assert len(server.requests) == 2  # one answer, one repair, no more
