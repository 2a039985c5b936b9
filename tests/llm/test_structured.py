"""Structured output through each provider's real SDK, against the fake model server."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.llm.caller import ModelCaller
from bot.llm.choice import ModelChoice
from bot.llm.context import ContextPart
from bot.llm.prices import PriceTable
from bot.llm.schema import strict_schema
from bot.llm.usage import UsageScope
from bot.roles.architect.schema import DesignProposal, FileSelection
from tests.llm.helpers import models_for
from triad_lab.simulator.model_server import FakeModelServer, tokens_for
from triad_lab.simulator.models_script import ScriptedModels

CLAUDE = ModelChoice(provider="anthropic", model="claude-sonnet-4-6", timeout_seconds=5)
GPT = ModelChoice(provider="openai", model="gpt-5.2", timeout_seconds=5)
SELECTION = {"paths": ["README.md", "src/app.py"], "reason": "They show the structure."}
CONTEXT = [ContextPart("repository tree", "README.md\nsrc/app.py")]


class Loose(BaseModel):
    """An answer with an optional field, which strict structured output cannot express."""

    summary: str
    score: int = Field(default=0, ge=0)


async def test_anthropic_answers_through_a_forced_tool_call(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("claude-sonnet-4-6", [SELECTION])
    answer = await caller.ask(CLAUDE, "Pick files.", CONTEXT, FileSelection)

    assert answer.value == FileSelection.model_validate(SELECTION)
    [request] = server.requests
    assert request.api == "anthropic"
    assert request.body["tool_choice"] == {"type": "tool", "name": "FileSelection"}
    [tool] = request.body["tools"]
    assert tool["input_schema"] == FileSelection.model_json_schema()
    sent_key = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent_key.endswith("test-anthropic-key-000")
    usage = answer.usage
    assert (usage.provider, usage.model) == ("anthropic", "claude-sonnet-4-6")
    assert usage.output_tokens == tokens_for(SELECTION)
    assert usage.cost == PriceTable().cost(
        "claude-sonnet-4-6", usage.input_tokens, usage.output_tokens
    )
    assert usage.request_id is not None and usage.request_id.startswith("req_fake_")


async def test_openai_uses_a_strict_json_schema_when_the_schema_allows(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("gpt-5.2", [SELECTION])
    answer = await caller.ask(GPT, "Pick files.", CONTEXT, FileSelection)

    assert answer.value.paths == ["README.md", "src/app.py"]
    [request] = server.requests
    assert request.api == "openai"
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["name"] == "FileSelection"
    assert request.body["max_completion_tokens"] == GPT.max_output_tokens
    assert request.headers["authorization"] == "Bearer test-openai-key-000"
    assert answer.usage.provider == "openai" and answer.usage.input_tokens > 0
    assert answer.usage.cost > 0


async def test_openai_falls_back_to_json_object_with_the_schema_in_the_prompt(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("gpt-5.2", [{"summary": "fine"}])
    answer = await caller.ask(GPT, "Summarise.", CONTEXT, Loose)

    assert answer.value == Loose(summary="fine", score=0)
    [request] = server.requests
    assert request.body["response_format"] == {"type": "json_object"}
    system = request.body["messages"][0]["content"]
    assert "JSON schema" in system and '"summary"' in system


async def test_an_openai_compatible_endpoint_is_reached_by_base_url(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    local = ModelChoice(
        provider="openai-compatible", model="llama3.1:8b", base_url=server.openai_url
    )
    server.script("llama3.1:8b", [SELECTION])
    answer = await caller.ask(local, "Pick files.", CONTEXT, FileSelection)

    assert answer.value.reason == "They show the structure."
    [request] = server.requests
    assert request.body["max_tokens"] == local.max_output_tokens
    assert "max_completion_tokens" not in request.body
    assert answer.usage.provider == "openai-compatible"
    assert answer.usage.cost == 0.0  # no price for a local model


async def test_scripts_match_the_schema_and_the_api_and_a_function_can_answer(
    server: FakeModelServer, caller: ModelCaller
) -> None:
    server.script("*", [{"paths": ["design"], "reason": "r"}], schema="DesignProposal")
    server.script("*", [{"paths": ["claude"], "reason": "r"}], api="anthropic")
    server.script("*", lambda request: {"paths": [request.model], "reason": "r"})
    on_claude = await caller.ask(CLAUDE, "Pick.", CONTEXT, FileSelection)
    on_gpt = await caller.ask(GPT, "Pick.", CONTEXT, FileSelection)
    assert on_claude.value.paths == ["claude"] and on_gpt.value.paths == ["gpt-5.2"]
    assert [r.schema_name for r in server.requests] == ["FileSelection", "FileSelection"]


async def test_no_request_carries_a_triad_header(server: FakeModelServer) -> None:
    """Nothing test-only leaves a production process: the fake server scripts by what a real
    request carries (model, schema, API), so Triad sends the providers nothing of its own."""
    server.default = ScriptedModels()
    models = models_for(server)
    scope = UsageScope(1, "o/r", None, "review")
    for purpose in ("architect", "developer", "reviewer_a", "reviewer_b"):
        await models.ask(purpose, "Pick.", CONTEXT, FileSelection, scope)
    await models.aclose()
    assert {r.api for r in server.requests} == {"anthropic", "openai"}
    sent = {name.lower() for r in server.requests for name in r.headers}
    assert {name for name in sent if name.startswith("x-triad")} == set()


def test_strict_mode_is_used_only_for_closed_fully_required_schemas() -> None:
    design = DesignProposal.model_json_schema()
    assert strict_schema(design) == design  # nested $defs, enums, minItems/maxItems
    assert strict_schema(Loose.model_json_schema()) is None  # `score` is optional
    assert strict_schema({"type": "array", "items": {"type": "string"}}) is None
