"""An issue's workflow ends with its issue or its pull request, and Triad's check run follows
its review, without a network."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.repo_config import RepoConfig
from bot.workflow.actions import PULL, AddLabel, PostComment, RemoveLabel, RunStage, SetCheckRun
from bot.workflow.commands import Command
from bot.workflow.engine import decide
from bot.workflow.events import (
    CheckActionRequested,
    CommandIssued,
    IssueClosed,
    LabelAdded,
    PullClosed,
    Reopened,
    RequestVia,
    ReviewRequested,
    ReviewsFinished,
    ReviewVerdict,
)
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow

CONFIG = RepoConfig()
TARGET = Target("octo/repo", 5, 12)
WRITER = Actor("wes", Permission.WRITE)
READER = Actor("rita", Permission.READ)
SHA = "b" * 40


def at(stage: Stage, **fields: object) -> Workflow:
    base = Workflow(
        "octo/repo",
        5,
        12,
        stage,
        design_version=1,
        approved_version=1,
        approved_hash="h",
        approved_design={"problem": "p"},
        pr_number=40,
        branch="triad/issue-12",
        head_sha=SHA,
        has_ci=True,
        round=1,
        review_round=1,
        id=3,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def checks(actions: tuple[object, ...]) -> list[SetCheckRun]:
    return [a for a in actions if isinstance(a, SetCheckRun)]


@pytest.mark.parametrize("stage", [Stage.DESIGNING, Stage.TESTING, Stage.REVIEWING])
def test_closing_the_issue_stops_the_workflow_with_one_comment(stage: Stage) -> None:
    decision = decide(at(stage), IssueClosed(WRITER, "d-9"), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.STOPPED
    comments = [a for a in decision.actions if isinstance(a, PostComment)]
    assert len(comments) == 1 and "closed this issue" in comments[0].body
    assert RemoveLabel("triad:design") in decision.actions
    assert RemoveLabel("needs-human", PULL) in decision.actions
    assert not any(isinstance(a, RunStage) for a in decision.actions)


@pytest.mark.parametrize("stage", [Stage.STOPPED, Stage.DONE])
def test_closing_a_finished_workflows_issue_changes_nothing(stage: Stage) -> None:
    decision = decide(at(stage), IssueClosed(WRITER, "d"), TARGET, CONFIG)
    assert decision.workflow == at(stage) and decision.actions == ()


def test_reopening_leaves_it_stopped_and_says_how_to_start_again() -> None:
    stopped = at(Stage.STOPPED)
    decision = decide(stopped, Reopened(WRITER, "d"), TARGET, CONFIG)
    assert decision.workflow == stopped
    [comment] = decision.actions
    assert isinstance(comment, PostComment) and "`triad:design`" in comment.body
    assert decide(at(Stage.DONE), Reopened(WRITER, "d"), TARGET, CONFIG).actions == ()


def test_reopening_again_says_nothing_new_until_the_next_stop() -> None:
    stopped = replace(at(Stage.STOPPED), revision=4)
    keys = {
        a.key
        for source in ("d-1", "d-2")
        for a in decide(stopped, Reopened(WRITER, source), TARGET, CONFIG).actions
        if isinstance(a, PostComment)
    }
    assert len(keys) == 1  # a second reopen of the same stop finds the comment already made
    later = replace(stopped, revision=9)  # started again, then stopped again
    [again] = decide(later, Reopened(WRITER, "d-3"), TARGET, CONFIG).actions
    assert isinstance(again, PostComment) and again.key not in keys


def test_the_pr_closed_unmerged_stops_with_a_comment_and_merged_is_done() -> None:
    closed = decide(at(Stage.READY_FOR_QA), PullClosed(WRITER, "d", False), TARGET, CONFIG)
    assert closed.workflow is not None and closed.workflow.stage is Stage.STOPPED
    assert any("#40" in a.body for a in closed.actions if isinstance(a, PostComment))
    for stage in (Stage.TESTING, Stage.READY_FOR_QA, Stage.STOPPED):
        merged = decide(at(stage), PullClosed(WRITER, "m", True), TARGET, CONFIG)
        assert merged.workflow is not None and merged.workflow.stage is Stage.DONE
        assert not any(isinstance(a, PostComment) for a in merged.actions)


def test_the_check_run_follows_the_review_of_triads_pr() -> None:
    started = decide(
        at(Stage.AWAITING_REVIEW),
        ReviewRequested(WRITER, "c", RequestVia.COMMAND),
        TARGET,
        CONFIG,
    )
    assert started.workflow is not None and started.workflow.stage is Stage.REVIEWING
    [running] = checks(started.actions)
    assert running.conclusion is None and running.head_sha == SHA
    split = decide(
        started.workflow,
        ReviewsFinished(SHA, ReviewVerdict.DISAGREE, "side by side", 2, "report"),
        TARGET,
        CONFIG,
    )
    [asking] = checks(split.actions)
    assert asking.conclusion == "action_required"
    assert asking.buttons == ("accept", "send-back") and asking.summary == "report"
    waiting = split.workflow
    assert waiting is not None and waiting.stage is Stage.NEEDS_HUMAN
    refused = decide(waiting, CheckActionRequested(READER, "b", "accept", SHA), TARGET, CONFIG)
    assert refused.workflow == waiting and refused.actions == ()
    back = decide(waiting, CheckActionRequested(WRITER, "b", "send-back", SHA), TARGET, CONFIG)
    assert back.workflow is not None and back.workflow.stage is Stage.IMPLEMENTING
    [sent] = checks(back.actions)
    assert sent.conclusion == "failure" and sent.keep_summary
    accepted = decide(waiting, CheckActionRequested(WRITER, "b", "accept", SHA), TARGET, CONFIG)
    assert accepted.workflow is not None and accepted.workflow.stage is Stage.READY_FOR_QA
    assert AddLabel("triad:ready-for-qa", PULL) in accepted.actions
    [passing] = checks(accepted.actions)
    assert passing.conclusion == "success"
    qa = decide(accepted.workflow, LabelAdded(WRITER, "q", "triad:qa-passed"), TARGET, CONFIG)
    [passed] = checks(qa.actions)
    assert passed.conclusion == "success" and "QA passed" in passed.title


def test_stopping_a_review_cancels_its_check_run() -> None:
    decision = decide(
        at(Stage.REVIEWING), CommandIssued(WRITER, "c", Command("stop")), TARGET, CONFIG
    )
    [check] = checks(decision.actions)
    assert check.conclusion == "cancelled"


def test_review_again_from_ready_for_qa_takes_the_label_off() -> None:
    decision = decide(
        at(Stage.READY_FOR_QA, reviewed_sha=SHA),
        ReviewRequested(WRITER, "r", RequestVia.RERUN),
        TARGET,
        CONFIG,
    )
    assert decision.workflow is not None and decision.workflow.stage is Stage.REVIEWING
    assert RemoveLabel("triad:ready-for-qa", PULL) in decision.actions
    [job] = [a for a in decision.actions if isinstance(a, RunStage)]
    assert job.payload["fresh"] is True


def test_review_command_with_nothing_to_review_says_so() -> None:
    decision = decide(
        at(Stage.TESTING), ReviewRequested(WRITER, "c", RequestVia.COMMAND), TARGET, CONFIG
    )
    assert decision.workflow == at(Stage.TESTING)
    assert [type(a) for a in decision.actions] == [PostComment]
