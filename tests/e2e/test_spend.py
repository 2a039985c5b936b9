"""Spend has ceilings a repository cannot lift: the operator's cap on a workflow's budget, daily
caps, the models a repository may pick, and bounds on the rounds and versions people ask for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.workflow.model import Stage
from tests.e2e.conftest import MAINTAINER, REPO, open_issue
from tests.e2e.helpers import approved_issue, bot_comments, workflow_of
from tests.e2e.test_developer_stage import configure
from triad_lab.simulator import demo_repo
from triad_lab.simulator.models_script import ScriptedModels
from triad_lab.simulator.stack import TriadStack


@asynccontextmanager
async def operated(tmp_path: Path, **settings: Any) -> AsyncIterator[TriadStack]:
    async with TriadStack(tmp_path, models=ScriptedModels(), settings=settings) as stack:
        stack.github.create_repository(REPO, demo_repo.FILES, collaborators=demo_repo.COLLABORATORS)
        stack.github.install(REPO.split("/")[0], [REPO])
        await stack.settle()
        yield stack
        assert await stack.dead_jobs() == []


async def design(stack: TriadStack) -> int:
    number = open_issue(stack)
    stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
    await stack.settle()
    return number


async def test_a_repository_budget_over_the_operators_cap_is_clamped(tmp_path: Path) -> None:
    async with operated(tmp_path, max_workflow_tokens=1000) as stack:
        configure(stack, {".github/triad.yml": "budget:\n  tokens: 1000000000000\n"})
        number = await design(stack)
        said = "\n".join(bot_comments(stack, number))
        assert "TRIAD_MAX_WORKFLOW_TOKENS" in said and "1,000 is used" in said
        # 1,000 tokens cannot pay for the architect's first call: none is made
        assert (await workflow_of(stack, number)).stage is Stage.NEEDS_HUMAN
        assert "model budget is used up" in said
        assert stack.model_server.requests == []


async def test_an_installations_daily_cap_stops_its_calls(tmp_path: Path) -> None:
    async with operated(tmp_path, installation_daily_dollars=0.01) as stack:
        number = await design(stack)
        assert (await workflow_of(stack, number)).stage is Stage.NEEDS_HUMAN
        said = "\n".join(bot_comments(stack, number))
        assert "daily model spend cap" in said and "TRIAD_INSTALLATION_DAILY_DOLLARS" in said
        assert stack.model_server.requests == []


async def test_a_repository_cannot_pick_a_model_the_operator_does_not_allow(
    tmp_path: Path,
) -> None:
    models = tmp_path / "models.yml"
    models.write_text("allowed:\n  developer: [claude-sonnet-4-6]\n")
    async with operated(tmp_path, models_file=models) as stack:
        configure(stack, {".github/triad.yml": "models:\n  developer: {model: claude-opus-4-6}\n"})
        number = await approved_issue(stack)
        workflow = await workflow_of(stack, number)
        assert workflow.stage is Stage.NEEDS_HUMAN and workflow.pr_number is None
        said = "\n".join(bot_comments(stack, number))
        assert "not among the models the operator allows for developer" in said
        assert [r for r in stack.model_server.requests if r.schema_name == "Implementation"] == []


async def test_fix_rounds_people_ask_for_are_bounded(stack: TriadStack) -> None:
    configure(
        stack,
        {
            ".github/triad.yml": "gates:\n  review: label\nlimits:\n  human_rounds: 2\n"
            "  ci_fix_attempts: 0\n  review_fix_rounds: 0\n"
        },
    )
    number = await approved_issue(stack)
    for _ in range(4):
        workflow = await workflow_of(stack, number)
        stack.github.complete_checks(REPO, workflow.head_sha or "", "success")
        await stack.settle()
        stack.github.comment(REPO, workflow.pr_number or 0, MAINTAINER, "/triad fix more")
        await stack.settle()
    workflow = await workflow_of(stack, number)
    assert workflow.round == 3 and workflow.human_rounds == 2
    said = "\n".join(bot_comments(stack, workflow.pr_number or 0))
    assert "limits.human_rounds" in said


async def test_a_restart_after_stop_keeps_the_revision_count(stack: TriadStack) -> None:
    configure(stack, {".github/triad.yml": "limits:\n  design_revisions: 2\n"})
    number = await design(stack)
    for _ in range(3):
        stack.github.comment(REPO, number, MAINTAINER, "/triad stop")
        await stack.settle()
        stack.github.add_label(REPO, number, MAINTAINER, "triad:design")
        await stack.settle()
    workflow = await workflow_of(stack, number)
    assert workflow.design_version == 2 and workflow.stage is Stage.STOPPED
    assert any("limit of 2 design versions" in body for body in bot_comments(stack, number))
    designs = [r for r in stack.model_server.requests if r.schema_name == "DesignProposal"]
    assert len(designs) == 2
