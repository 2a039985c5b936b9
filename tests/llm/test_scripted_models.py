"""Scripted models answer any role schema validly, through the fake server and real SDKs."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field

from bot.llm.context import ContextPart
from bot.llm.usage import UsageScope
from bot.roles.architect.schema import DesignOption, DesignProposal, FileSelection, PlanStep
from tests.llm.helpers import models_for
from triad_lab.simulator.model_server import FakeModelServer
from triad_lab.simulator.models_script import ScriptedModels, example


class Finding(BaseModel):
    severity: Literal["blocker", "major", "minor"]
    line: int = Field(ge=1)
    note: str | None
    tags: list[str] = Field(min_length=3)


class Review(BaseModel):
    """A review with nested objects, enums, bounds and optional fields."""

    verdict: Literal["approve", "request_changes"]
    confidence: float = Field(ge=0.5, le=1)
    findings: list[Finding] = Field(min_length=2, max_length=4)
    summary: str = Field(min_length=30)
    follow_up: bool = False


@pytest.mark.parametrize("schema", [FileSelection, DesignOption, PlanStep, Review])
def test_a_generic_instance_fits_the_schema(schema: type[BaseModel]) -> None:
    instance = schema.model_validate(example(schema.model_json_schema()))
    assert instance is not None


def test_review_lists_have_their_minimum_lengths_and_distinct_items() -> None:
    review = Review.model_validate(example(Review.model_json_schema()))
    assert len(review.findings) == 2 and len(review.findings[0].tags) == 3
    assert review.findings[0].tags[0] != review.findings[0].tags[1]


async def test_the_architect_gets_valid_answers_through_both_providers(
    server: FakeModelServer,
) -> None:
    server.default = ScriptedModels()
    models = models_for(server)
    tree = "README.md\ndocs/guide.md\nsrc/search.py\nsrc/app.py"
    parts = [
        ContextPart("issue #9 by @alice", "Search is slow"),
        ContextPart("repository tree", tree),
        ContextPart("file src/search.py", "def search(): ..."),
    ]
    scope = UsageScope(1, "o/r", None, "architect")
    on_openai = {"architect": {"provider": "openai", "model": "gpt-5.2"}}
    openai = UsageScope(1, "o/r", None, "architect", model_overrides=on_openai)

    selection = await models.ask("architect", "Pick.", parts, FileSelection, scope)
    design = await models.ask("architect", "Design.", parts, DesignProposal, scope)
    again = await models.ask("architect", "Design.", parts, DesignProposal, openai)
    review = await models.ask("reviewer_b", "Review.", parts, Review, scope)
    await models.aclose()

    assert selection.paths == ["README.md", "src/search.py", "src/app.py"]
    assert design.chosen_option == design.options[0].name
    assert design.clarifying_questions == []
    assert [step.path for step in design.plan] == ["src/search.py"]
    assert again == design
    assert review.verdict == "approve"
    assert [r.api for r in server.requests] == ["anthropic", "anthropic", "openai", "openai"]
    assert server.requests[-1].body["response_format"] == {"type": "json_object"}


async def test_a_hook_adjusts_one_schema(server: FakeModelServer) -> None:
    def reject(request: object, data: dict[str, object]) -> dict[str, object]:
        return {**data, "verdict": "request_changes"}

    server.default = ScriptedModels(hooks={"Review": reject})
    models = models_for(server)
    scope = UsageScope(1, "o/r", None, "review")
    review = await models.ask("reviewer_a", "Review.", [], Review, scope)
    await models.aclose()
    assert review.verdict == "request_changes"
