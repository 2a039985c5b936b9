"""A stage whose job died reaches a human, and the operator's retry takes the workflow back;
late actions are reconciled with the workflow as it stands (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.repo_config import RepoConfig
from bot.workflow.actions import (
    ISSUE,
    PULL,
    AddLabel,
    MarkReady,
    PostComment,
    RemoveLabel,
    RunStage,
    SetCheckRun,
    UpdateProgress,
)
from bot.workflow.commands import Command
from bot.workflow.engine import decide
from bot.workflow.events import CommandIssued, StageFailed, StageName, StageRetried
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow
from bot.workflow.reconcile import still_wanted

CONFIG = RepoConfig()
LABELS = CONFIG.labels
TARGET = Target("octo/repo", 5, 12)
SHA = "b" * 40
WRITER = Actor("wes", Permission.WRITE)


def at(stage: Stage, **fields: object) -> Workflow:
    base = Workflow(
        "octo/repo",
        5,
        12,
        stage,
        design_version=2,
        approved_version=2,
        approved_hash="h",
        pr_number=40,
        head_sha=SHA,
        has_ci=True,
        round=3,
        id=3,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_dead_developer_job_asks_a_human_naming_the_stage_why_and_how_to_retry() -> None:
    died = StageFailed(StageName.DEVELOPER, "its job ran out of attempts (5)", round=3, job_id=77)
    decision = decide(at(Stage.IMPLEMENTING), died, TARGET, CONFIG)
    stuck = decision.workflow
    assert stuck is not None and stuck.stage is Stage.NEEDS_HUMAN
    assert (stuck.escalated_from, stuck.escalated_failed, stuck.escalated_job) == (
        Stage.IMPLEMENTING,
        True,
        77,
    )
    label, comment, _ = decision.actions
    assert label == AddLabel(LABELS.needs_human, PULL)
    assert isinstance(comment, PostComment)
    assert "The developer could not finish: its job ran out of attempts (5)" in comment.body
    assert "`/triad resume`" in comment.body and "`triad jobs retry 77`" in comment.body


@pytest.mark.parametrize(
    ("workflow", "died"),
    [
        (at(Stage.IMPLEMENTING), StageFailed(StageName.DEVELOPER, "x", round=2, job_id=1)),
        (at(Stage.DESIGNING), StageFailed(StageName.ARCHITECT, "x", version=1, job_id=1)),
        (at(Stage.REVIEWING), StageFailed(StageName.REVIEW, "x", head_sha="a" * 40, job_id=1)),
        (at(Stage.TESTING), StageFailed(StageName.DEVELOPER, "x", round=3, job_id=1)),
    ],
)
def test_a_job_that_died_after_the_workflow_moved_on_changes_nothing(
    workflow: Workflow, died: StageFailed
) -> None:
    decision = decide(workflow, died, TARGET, CONFIG)
    assert decision.workflow == workflow and decision.actions == ()
    assert decision.reason.startswith("ignored")


def test_the_operators_retry_takes_the_workflow_back_to_the_stage() -> None:
    stuck = at(
        Stage.NEEDS_HUMAN,
        escalated_from=Stage.REVIEWING,
        escalated_failed=True,
        escalated_job=77,
        escalation="review failed",
    )
    decision = decide(stuck, StageRetried(StageName.REVIEW, 77), TARGET, CONFIG)
    back = decision.workflow
    assert back is not None and back.stage is Stage.REVIEWING
    assert (back.escalation, back.escalated_from, back.escalated_job) == (None, None, None)
    # (Triad's check run shows the review in progress again)
    assert [a for a in decision.actions if not isinstance(a, SetCheckRun)] == [
        RemoveLabel(LABELS.needs_human, PULL),
        RemoveLabel(LABELS.needs_human),
        UpdateProgress(),
    ]
    # no job is queued: the retried job is the one running
    assert not any(isinstance(a, RunStage) for a in decision.actions)


@pytest.mark.parametrize(
    "event", [StageRetried(StageName.REVIEW, 78), StageRetried(StageName.DEVELOPER, 77)]
)
def test_a_retry_of_another_job_changes_nothing(event: StageRetried) -> None:
    stuck = at(
        Stage.NEEDS_HUMAN, escalated_from=Stage.REVIEWING, escalated_failed=True, escalated_job=77
    )
    assert decide(stuck, event, TARGET, CONFIG).workflow == stuck


def test_a_late_label_the_current_stage_does_not_want_is_not_added_back() -> None:
    late = (
        AddLabel(LABELS.design_proposed),
        PostComment("design", "v1"),
        RunStage("developer", "k"),
        UpdateProgress(),
    )
    kept = still_wanted(late, at(Stage.DONE), LABELS)
    assert kept == late[1:]


def test_a_late_removal_keeps_a_label_the_current_stage_shows() -> None:
    now = at(Stage.NEEDS_HUMAN)
    late = (
        RemoveLabel(LABELS.needs_human, PULL),  # where the current escalation put it
        RemoveLabel(LABELS.needs_human, ISSUE),  # not there: removing is harmless
        RemoveLabel(LABELS.approved),  # a person's label: the decision stands
        AddLabel(LABELS.needs_human, PULL),
        AddLabel(LABELS.ready_for_qa, PULL),
    )
    assert still_wanted(late, now, LABELS) == (late[1], late[2], late[3])
    no_pr = replace(now, pr_number=None)
    assert still_wanted((RemoveLabel(LABELS.needs_human, PULL),), no_pr, LABELS) == ()


def test_the_pr_is_marked_ready_only_while_the_workflow_is_done() -> None:
    assert still_wanted((MarkReady(),), at(Stage.TESTING), LABELS) == ()
    assert still_wanted((MarkReady(),), at(Stage.DONE), LABELS) == (MarkReady(),)


def _comment_keys(actions: tuple[object, ...]) -> list[str]:
    return [action.key for action in actions if isinstance(action, PostComment)]


def test_operator_retry_then_second_death_same_round_gets_a_new_comment() -> None:
    """Each escalation is said anew: a comment keyed on the round alone would be found already
    posted, and the second death would go untold."""
    first = StageFailed(StageName.DEVELOPER, "ran out of attempts: 503", round=3, job_id=77)
    told = decide(at(Stage.IMPLEMENTING), first, TARGET, CONFIG)
    back = decide(told.workflow, StageRetried(StageName.DEVELOPER, 77), TARGET, CONFIG)
    assert back.workflow is not None and back.workflow.stage is Stage.IMPLEMENTING
    second = StageFailed(StageName.DEVELOPER, "ran out of attempts: 401", round=3, job_id=77)
    again = decide(back.workflow, second, TARGET, CONFIG)
    assert again.workflow is not None and again.workflow.stage is Stage.NEEDS_HUMAN
    assert _comment_keys(again.actions) and _comment_keys(told.actions)
    assert _comment_keys(told.actions) != _comment_keys(again.actions)


def test_ci_never_reports_twice_after_resume_gets_a_second_comment() -> None:
    first = StageFailed(StageName.CI, "no CI result within 30 minutes", head_sha=SHA)
    told = decide(at(Stage.TESTING), first, TARGET, CONFIG)
    assert told.workflow is not None and told.workflow.stage is Stage.NEEDS_HUMAN
    resume = CommandIssued(WRITER, "c-9", Command("resume"))
    resumed = decide(told.workflow, resume, TARGET, CONFIG)
    assert resumed.workflow is not None and resumed.workflow.stage is Stage.TESTING
    again = decide(resumed.workflow, first, TARGET, CONFIG)
    assert again.workflow is not None and again.workflow.stage is Stage.NEEDS_HUMAN
    assert _comment_keys(again.actions) and _comment_keys(told.actions)
    assert _comment_keys(told.actions) != _comment_keys(again.actions)
