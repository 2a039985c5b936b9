"""Scripted models answer any role schema validly, through the fake server and real SDKs."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field

from bot.llm.context import ContextPart
from bot.llm.usage import UsageScope
from bot.roles.architect.schema import DesignOption, DesignProposal, FileSelection, PlanStep
from tests.llm.helpers import models_for
from triad_lab.demo.models import OBJECTION_LINE, DemoModels
from triad_lab.playground.models import PlaygroundModels
from triad_lab.simulator.model_server import FakeModelServer, ModelRequest
from triad_lab.simulator.models_script import (
    REVIEWER_B_API,
    ScriptedModels,
    example,
    reviewer_b_first_round,
)


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


def _review_request(api: str, *labels: str) -> ModelRequest:
    parts = "\n".join(
        f'<untrusted-data label="{label}">\n--- a/t.py\n+++ b/t.py\n    3 +z\n</untrusted-data>'
        for label in labels
    )
    return ModelRequest(api, "m", {"messages": [{"role": "user", "content": parts}]}, {})  # type: ignore[arg-type]


def test_the_demo_and_the_playground_object_alike_once_through_reviewer_b() -> None:
    approved = {"verdict": "approve", "summary": "ok", "findings": [], "criteria": []}
    first = _review_request(REVIEWER_B_API, "diff t.py")
    again = _review_request(REVIEWER_B_API, "diff t.py", "changes since your last review")
    other = _review_request("anthropic" if REVIEWER_B_API != "anthropic" else "openai", "diff")
    assert reviewer_b_first_round(first)
    assert not reviewer_b_first_round(again) and not reviewer_b_first_round(other)
    demo = DemoModels(reviewer_b_objects=True)._review(first, approved)
    playground = PlaygroundModels()._review(first, approved)
    for answer, path, line in ((demo, "widgets/core.py", OBJECTION_LINE), (playground, "t.py", 3)):
        assert answer["verdict"] == "request_changes"
        (finding,) = answer["findings"]
        assert (finding["path"], finding["line"], finding["severity"]) == (path, line, "high")
    assert DemoModels(reviewer_b_objects=True)._review(again, approved)["verdict"] == "approve"
    assert PlaygroundModels()._review(again, approved)["verdict"] == "approve"
