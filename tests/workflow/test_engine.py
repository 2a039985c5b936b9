"""Every transition and guard of the design stage, without a network."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.repo_config import Labels, RepoConfig, parse_repo_config
from bot.workflow.actions import (
    Action,
    AddLabel,
    EnsureLabels,
    PostComment,
    Refuse,
    RemoveLabel,
    ReportStatus,
    RunStage,
)
from bot.workflow.commands import Command
from bot.workflow.engine import decide
from bot.workflow.events import (
    ApprovalRequested,
    CommandIssued,
    DesignPublished,
    DesignRequested,
    StageFailed,
    StageName,
)
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow
from bot.workflow.outcome import Decision

CONFIG = RepoConfig()
LABELS = Labels()
TARGET = Target(repository="octo/repo", installation_id=5, issue_number=12)
MAINTAINER = Actor("maya", Permission.MAINTAIN)
WRITER = Actor("wes", Permission.WRITE)
ADMIN = Actor("ada", Permission.ADMIN)


def _workflow(stage: Stage, **fields: Any) -> Workflow:
    base = Workflow(
        repository="octo/repo",
        installation_id=5,
        issue_number=12,
        stage=stage,
        design_version=1,
        design_comment_id=900,
        proposed_hash="hash-v1",
        id=3,
        revision=4,
    )
    return replace(base, **fields)


def _kinds(decision: Decision) -> list[type]:
    return [type(action) for action in decision.actions]


def _said(action: Action) -> str:
    """The text of an action that must be a comment (a refusal is one too)."""
    assert isinstance(action, PostComment | Refuse), action
    return action.body


@pytest.mark.parametrize("actor", [MAINTAINER, WRITER, ADMIN])
def test_a_writer_labelling_starts_the_architect(actor: Actor) -> None:
    decision = decide(None, DesignRequested(actor, "d-1"), TARGET, CONFIG)
    assert decision.workflow == Workflow(
        repository="octo/repo",
        installation_id=5,
        issue_number=12,
        stage=Stage.DESIGNING,
        design_version=1,
    )
    assert decision.actions == (
        EnsureLabels(),
        RunStage(
            "architect",
            "architect:octo/repo#12:v1",
            {
                "repository": "octo/repo",
                "installation_id": 5,
                "issue_number": 12,
                "version": 1,
                "feedback_from": None,
                "feedback": "",
            },
        ),
    )


@pytest.mark.parametrize("permission", [Permission.TRIAGE, Permission.READ, Permission.NONE])
def test_anyone_else_gets_one_short_comment_and_nothing_runs(permission: Permission) -> None:
    decision = decide(None, DesignRequested(Actor("tim", permission), "d-1"), TARGET, CONFIG)
    assert decision.workflow is None
    assert _kinds(decision) == [Refuse, RemoveLabel]
    comment = decision.actions[0]
    assert isinstance(comment, Refuse) and (comment.login, comment.source) == ("tim", "d-1")
    assert comment.body.startswith("@tim only people with write, maintain or admin access")
    assert decision.actions[1] == RemoveLabel("triad:design")


@pytest.mark.parametrize(
    "actor",
    [
        Actor("triad[bot]", Permission.WRITE, is_self=True, is_bot=True),
        Actor("dependabot[bot]", Permission.WRITE, is_bot=True),
        Actor("triad[bot]", Permission.WRITE, is_self=True, is_bot=True, bot_allowed=True),
    ],
)
def test_triad_itself_and_unlisted_bots_never_trigger(actor: Actor) -> None:
    decision = decide(None, DesignRequested(actor, "d-1"), TARGET, CONFIG)
    assert decision.workflow is None and decision.actions == ()
    assert "bot" in decision.reason


def test_an_allow_listed_bot_may_trigger() -> None:
    bot = Actor("renovate[bot]", Permission.WRITE, is_bot=True, bot_allowed=True)
    decision = decide(None, DesignRequested(bot, "d-1"), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.DESIGNING


@pytest.mark.parametrize("stage", [Stage.DESIGNING, Stage.DESIGN_PROPOSED])
def test_labelling_again_while_a_workflow_runs_does_nothing(stage: Stage) -> None:
    workflow = _workflow(stage)
    decision = decide(workflow, DesignRequested(MAINTAINER, "d-2"), TARGET, CONFIG)
    assert decision.workflow == workflow and decision.actions == ()


def test_labelling_a_stopped_workflow_starts_a_new_version() -> None:
    workflow = _workflow(Stage.STOPPED, design_version=2)
    decision = decide(workflow, DesignRequested(MAINTAINER, "d-2"), TARGET, CONFIG)
    assert decision.workflow is not None
    assert (decision.workflow.stage, decision.workflow.design_version) == (Stage.DESIGNING, 3)
    assert (decision.workflow.id, decision.workflow.revision) == (3, 4)


def test_a_published_design_is_proposed_and_labelled() -> None:
    workflow = _workflow(Stage.DESIGNING, design_comment_id=None, proposed_hash=None)
    event = DesignPublished(version=1, comment_id=901, content_hash="h1", has_questions=False)
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == replace(
        workflow, stage=Stage.DESIGN_PROPOSED, design_comment_id=901, proposed_hash="h1"
    )
    assert decision.actions == (AddLabel("triad:design-proposed"),)


@pytest.mark.parametrize(
    ("workflow", "version"),
    [(None, 1), (_workflow(Stage.DESIGN_PROPOSED), 1), (_workflow(Stage.DESIGNING), 7)],
)
def test_a_stale_or_unexpected_design_is_ignored(workflow: Workflow | None, version: int) -> None:
    event = DesignPublished(version=version, comment_id=1, content_hash="h", has_questions=False)
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == workflow and decision.actions == ()


def test_approval_of_the_proposed_design_freezes_it() -> None:
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    decision = decide(workflow, ApprovalRequested(WRITER, "d-3", "hash-v1"), TARGET, CONFIG)
    # approval freezes the version and starts the developer's first round at once
    assert decision.workflow == replace(
        workflow,
        stage=Stage.IMPLEMENTING,
        approved_version=1,
        approved_hash="hash-v1",
        round=1,
    )
    assert decision.actions[0] == RemoveLabel("triad:design-proposed")
    job = decision.actions[1]
    assert isinstance(job, RunStage) and job.kind == "developer"
    assert job.key == "developer:octo/repo#12:r1" and job.payload["reason"] == "implement"


def test_approval_of_an_edited_design_is_refused_and_the_label_removed() -> None:
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    decision = decide(workflow, ApprovalRequested(WRITER, "d-3", "hash-edited"), TARGET, CONFIG)
    assert decision.workflow == workflow
    assert _kinds(decision) == [PostComment, RemoveLabel]
    comment = decision.actions[0]
    assert isinstance(comment, PostComment) and "was edited after Triad proposed it" in comment.body
    assert decision.actions[1] == RemoveLabel("triad:approved")


def test_approval_of_a_deleted_design_comment_is_refused() -> None:
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    decision = decide(workflow, ApprovalRequested(WRITER, "d-3", None), TARGET, CONFIG)
    assert decision.workflow == workflow and RemoveLabel("triad:approved") in decision.actions


@pytest.mark.parametrize("permission", [Permission.TRIAGE, Permission.READ, Permission.NONE])
def test_approval_by_someone_without_write_access_is_refused(permission: Permission) -> None:
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    event = ApprovalRequested(Actor("tim", permission), "d-3", "hash-v1")
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == workflow
    assert decision.actions[1] == RemoveLabel("triad:approved")
    assert "can approve a design" in _said(decision.actions[0])


@pytest.mark.parametrize("workflow", [None, _workflow(Stage.DESIGNING)])
def test_approval_before_a_design_exists_is_refused(workflow: Workflow | None) -> None:
    decision = decide(workflow, ApprovalRequested(WRITER, "d-3", None), TARGET, CONFIG)
    assert decision.workflow == workflow
    assert "no proposed design" in _said(decision.actions[0])


def test_a_repeated_approval_of_the_approved_design_changes_nothing() -> None:
    workflow = _workflow(Stage.IMPLEMENTING, approved_version=1, approved_hash="hash-v1")
    decision = decide(workflow, ApprovalRequested(WRITER, "d-4", "hash-v1"), TARGET, CONFIG)
    assert decision.workflow == workflow and decision.actions == ()


@pytest.mark.parametrize("stage", [Stage.DESIGN_PROPOSED, Stage.NEEDS_HUMAN])
def test_revise_writes_the_next_version_with_the_feedback(stage: Stage) -> None:
    workflow = _workflow(stage, escalation="model down" if stage is Stage.NEEDS_HUMAN else None)
    event = CommandIssued(MAINTAINER, "comment-77", Command("revise"))
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == replace(
        workflow, stage=Stage.DESIGNING, design_version=2, escalation=None
    )
    run = decision.actions[-1]
    assert isinstance(run, RunStage) and run.key == "architect:octo/repo#12:v2"
    assert run.payload["feedback_from"] == "comment-77" and run.payload["version"] == 2
    assert RemoveLabel("triad:design-proposed") in decision.actions


def test_revise_stops_at_the_configured_limit() -> None:
    config = parse_repo_config("limits:\n  design_revisions: 2\n").config
    workflow = _workflow(Stage.DESIGN_PROPOSED, design_version=2)
    event = CommandIssued(MAINTAINER, "c-1", Command("revise"))
    decision = decide(workflow, event, TARGET, config)
    assert decision.workflow == workflow
    assert "limit of 2 design versions" in _said(decision.actions[0])


@pytest.mark.parametrize("stage", [Stage.DESIGNING, Stage.STOPPED])
def test_revise_is_ignored_where_it_makes_no_sense(stage: Stage) -> None:
    workflow = _workflow(stage)
    event = CommandIssued(MAINTAINER, "c-1", Command("revise"))
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == workflow and decision.actions == ()


def test_status_is_reported_in_any_state() -> None:
    for workflow in (None, _workflow(Stage.DESIGNING), _workflow(Stage.STOPPED)):
        event = CommandIssued(WRITER, "c-9", Command("status"))
        decision = decide(workflow, event, TARGET, CONFIG)
        assert decision.actions == (ReportStatus("status:c-9"),)


def test_stop_removes_triads_labels_and_says_so() -> None:
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    decision = decide(workflow, CommandIssued(ADMIN, "c-1", Command("stop")), TARGET, CONFIG)
    assert decision.workflow == replace(workflow, stage=Stage.STOPPED)
    removed = {action.name for action in decision.actions if isinstance(action, RemoveLabel)}
    assert removed == {"triad:design", "triad:design-proposed", "triad:approved", "needs-human"}
    assert "Stopped by @ada" in _said(decision.actions[-1])
    again = decide(decision.workflow, CommandIssued(ADMIN, "c-2", Command("stop")), TARGET, CONFIG)
    assert again.actions == ()


@pytest.mark.parametrize("name", ["status", "revise", "stop"])
def test_commands_are_for_writers_only(name: str) -> None:
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    event = CommandIssued(Actor("tim", Permission.READ), "c-1", Command(name))
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == workflow
    assert _kinds(decision) == [Refuse]
    assert f"use `/triad {name}`" in _said(decision.actions[0])


def test_an_unknown_command_gets_the_list_of_commands() -> None:
    event = CommandIssued(WRITER, "c-1", Command("deploy"))
    decision = decide(_workflow(Stage.DESIGN_PROPOSED), event, TARGET, CONFIG)
    assert "does not know `/triad deploy`" in _said(decision.actions[0])


def test_revise_without_a_workflow_explains() -> None:
    decision = decide(None, CommandIssued(WRITER, "c-1", Command("revise")), TARGET, CONFIG)
    assert decision.workflow is None and _kinds(decision) == [PostComment]


def test_a_failed_stage_escalates_with_the_reason() -> None:
    workflow = _workflow(Stage.DESIGNING)
    event = StageFailed(StageName.ARCHITECT, "the budget of $20.00 is spent ($19.80 used)")
    decision = decide(workflow, event, TARGET, CONFIG)
    assert decision.workflow == replace(
        workflow,
        stage=Stage.NEEDS_HUMAN,
        escalation=f"architect failed: {event.reason}",
        escalated_from=Stage.DESIGNING,
        escalated_failed=True,
        escalations=1,
    )
    assert decision.actions[0] == AddLabel("needs-human")
    assert "$19.80 used" in _said(decision.actions[1])


def test_renamed_labels_are_used() -> None:
    config = parse_repo_config("labels:\n  design: design-me\n  approved: lgtm\n").config
    decision = decide(None, DesignRequested(Actor("x", Permission.READ), "d"), TARGET, config)
    assert decision.actions[1] == RemoveLabel("design-me")
    workflow = _workflow(Stage.DESIGN_PROPOSED)
    refused = decide(workflow, ApprovalRequested(WRITER, "d", "other"), TARGET, config)
    assert refused.actions[1] == RemoveLabel("lgtm")
