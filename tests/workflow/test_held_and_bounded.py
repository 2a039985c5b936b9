"""Rounds stopped on paths outside the plan, `/triad resume allow`, and the bounds on rounds and
versions that people ask for (pure)."""

from __future__ import annotations

from dataclasses import replace

from bot.repo_config import parse_repo_config
from bot.workflow.actions import AddLabel, PostComment, RemoveLabel, RunStage
from bot.workflow.commands import Command
from bot.workflow.engine import decide
from bot.workflow.events import CommandIssued, DesignRequested, EditsHeld
from bot.workflow.model import Stage, Workflow
from tests.workflow.test_engine import CONFIG, MAINTAINER, TARGET, _workflow

HELD = (("docs/usage.md", "explain it", False), ("conftest.py", "fixtures", True))


def _held() -> Workflow:
    working = _workflow(Stage.IMPLEMENTING, approved_version=1, round=2, pr_number=7)
    decision = decide(working, EditsHeld(2, HELD, "ci", "the log"), TARGET, CONFIG)
    stuck = decision.workflow
    assert stuck is not None and stuck.stage is Stage.NEEDS_HUMAN
    assert AddLabel("needs-human", "pull") in decision.actions
    [comment] = [a for a in decision.actions if isinstance(a, PostComment)]
    assert comment.key == "outside-plan:r2" and "`docs/usage.md`: explain it" in comment.body
    assert "`/triad resume allow` lets the developer change `docs/usage.md`" in comment.body
    return stuck


def _command(text: str, source: str = "comment:1") -> CommandIssued:
    name, _, argument = text.partition(" ")
    return CommandIssued(MAINTAINER, source, Command(name, argument))


def test_resume_allow_runs_the_round_again_with_the_allowable_paths_only() -> None:
    decision = decide(_held(), _command("resume allow"), TARGET, CONFIG)
    working = decision.workflow
    assert working is not None and working.stage is Stage.IMPLEMENTING
    assert working.allowed_paths == ("docs/usage.md",) and working.held_edits is None
    assert working.round == 3 and working.human_rounds == 1
    [job] = [a for a in decision.actions if isinstance(a, RunStage)]
    assert job.payload["reason"] == "ci"
    assert job.payload["feedback"] == (
        "the log\n\nA maintainer allowed these paths outside the plan for this round: docs/usage.md"
    )


def test_allow_is_the_first_word_and_what_follows_goes_to_the_developer() -> None:
    for said in ("resume Allow.", "resume allow, thanks", "resume allow docs/usage.md please"):
        decision = decide(_held(), _command(said), TARGET, CONFIG)
        working = decision.workflow
        assert working is not None and working.allowed_paths == ("docs/usage.md",), said
    [job] = [a for a in decision.actions if isinstance(a, RunStage)]
    assert str(job.payload["feedback"]).endswith("docs/usage.md\n\ndocs/usage.md please")


def test_resume_without_allow_runs_it_again_within_the_plan() -> None:
    decision = decide(_held(), _command("resume keep to the plan"), TARGET, CONFIG)
    working = decision.workflow
    assert working is not None and working.allowed_paths == () and working.held_edits is None
    [job] = [a for a in decision.actions if isinstance(a, RunStage)]
    assert job.payload["feedback"] == "the log\n\nkeep to the plan"


def test_human_rounds_are_bounded_per_approval() -> None:
    config = parse_repo_config("limits:\n  human_rounds: 2\n").config
    workflow = _workflow(Stage.AWAITING_REVIEW, approved_version=1, round=1, pr_number=7)
    for number in (1, 2):
        decision = decide(workflow, _command("fix", f"comment:{number}"), TARGET, config)
        assert decision.workflow is not None and decision.workflow.human_rounds == number
        workflow = replace(decision.workflow, stage=Stage.AWAITING_REVIEW)  # pushed again
    refused = decide(workflow, _command("fix", "comment:3"), TARGET, config)
    assert refused.workflow == workflow
    [reply] = refused.actions
    assert isinstance(reply, PostComment) and "limits.human_rounds" in reply.body


def test_a_restart_after_stop_counts_against_the_design_revisions() -> None:
    config = parse_repo_config("limits:\n  design_revisions: 2\n").config
    stopped = _workflow(Stage.STOPPED, design_version=2)
    decision = decide(stopped, DesignRequested(MAINTAINER, "d-9"), TARGET, config)
    assert decision.workflow == stopped
    reply, removed = decision.actions
    assert isinstance(reply, PostComment) and "limit of 2 design versions" in reply.body
    assert removed == RemoveLabel("triad:design")
    under = decide(_workflow(Stage.STOPPED), DesignRequested(MAINTAINER, "d-9"), TARGET, config)
    assert under.workflow is not None and under.workflow.stage is Stage.DESIGNING


def test_resume_after_the_architect_failed_counts_against_the_design_revisions() -> None:
    config = parse_repo_config("limits:\n  design_revisions: 2\n").config
    failed = _workflow(
        Stage.NEEDS_HUMAN, design_version=2, escalated_from=Stage.DESIGNING, escalated_failed=True
    )
    decision = decide(failed, _command("resume"), TARGET, config)
    assert decision.workflow == failed
    [reply] = decision.actions
    assert isinstance(reply, PostComment) and "limit of 2 design versions" in reply.body
    under = decide(replace(failed, design_version=1), _command("resume"), TARGET, config)
    assert under.workflow is not None and under.workflow.stage is Stage.DESIGNING
    assert under.workflow.design_version == 2
