"""One client per model provider and process: every call to a provider is sent on the
connection the first one opened (a client per call would set up TLS and a pool each time)."""

from __future__ import annotations

from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.context import ContextPart
from bot.llm.schema import json_schema
from bot.roles.architect.schema import FileSelection
from triad_lab.simulator.model_server import FakeModelServer

CLAUDE = ModelChoice(provider="anthropic", model="claude-sonnet-4-6", timeout_seconds=5)
GPT = ModelChoice(provider="openai", model="gpt-5.2", timeout_seconds=5)
SELECTION = {"paths": ["README.md"], "reason": "It says what the project is."}
CONTEXT = [ContextPart("repository tree", "README.md")]


async def test_each_provider_is_called_on_one_connection(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("claude-sonnet-4-6", [SELECTION] * 3)
    server.script("gpt-5.2", [SELECTION] * 3)

    for _ in range(3):
        for choice in (CLAUDE, GPT):
            answer = await caller.ask(choice, "Pick files.", CONTEXT, FileSelection)
            assert answer.value.paths == ["README.md"]

    peers = {
        api: {r.peer for r in server.requests if r.api == api} for api in ("anthropic", "openai")
    }
    assert [len(server.requests), len(peers["anthropic"]), len(peers["openai"])] == [6, 1, 1]


def test_the_cached_schema_cannot_be_changed_by_a_caller() -> None:
    """The schema is built once per class, but a caller that changes what it got (a
    provider adapting it) does not change what the next caller gets."""
    first = json_schema(FileSelection)
    first["properties"].clear()
    first["title"] = "changed"

    assert json_schema(FileSelection) == FileSelection.model_json_schema()
