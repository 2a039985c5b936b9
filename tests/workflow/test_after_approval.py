"""The transitions after the design gate: developer rounds, CI loop, review, QA (pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.repo_config import RepoConfig, parse_repo_config
from bot.workflow.actions import (
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
from bot.workflow.events import (
    ChecksCompleted,
    CommandIssued,
    DesignIsWrong,
    HeadMoved,
    ImplementationPushed,
    LabelAdded,
    ReviewsFinished,
    ReviewVerdict,
    StageFailed,
    StageName,
)
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow
from bot.workflow.outcome import Decision

CONFIG = RepoConfig()
LABEL_GATE = parse_repo_config("gates:\n  review: label\n").config
TARGET = Target("octo/repo", 5, 12)
WRITER = Actor("wes", Permission.WRITE)
READER = Actor("rita", Permission.READ)
SHA, OLD = "b" * 40, "a" * 40


def at(stage: Stage, **fields: Any) -> Workflow:
    base = Workflow(
        "octo/repo",
        5,
        12,
        stage,
        design_version=1,
        approved_version=1,
        approved_hash="h",
        pr_number=40,
        branch="triad/issue-12",
        head_sha=SHA,
        has_ci=True,
        round=1,
        id=3,
    )
    return replace(base, **fields)


def job(decision_actions: tuple[object, ...]) -> RunStage:
    [found] = [a for a in decision_actions if isinstance(a, RunStage)]
    return found


def test_a_push_with_ci_waits_for_it() -> None:
    working = at(Stage.IMPLEMENTING, pr_number=None, head_sha=None)
    pushed = ImplementationPushed(1, 40, "triad/issue-12", SHA, has_ci=True)
    decision = decide(working, pushed, TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.TESTING
    assert (decision.workflow.pr_number, decision.workflow.head_sha) == (40, SHA)
    watch, look = [a for a in decision.actions if isinstance(a, RunStage)]
    assert watch.kind == "ci-watch" and watch.delay_seconds == 3600  # the CI deadline
    # and a look now, for CI that reported before the push was recorded
    assert look.kind == "ci-watch" and look.delay_seconds == 0 and look.payload["look_only"]


def test_a_push_without_ci_says_qa_has_not_run_and_waits_for_a_human() -> None:
    pushed = ImplementationPushed(1, 40, "triad/issue-12", SHA, has_ci=False)
    decision = decide(at(Stage.IMPLEMENTING), pushed, TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.AWAITING_REVIEW
    [notice, progress] = decision.actions
    assert isinstance(notice, PostComment) and notice.on == PULL and "QA has not run" in notice.body
    assert progress == UpdateProgress()


def test_a_push_of_an_older_round_is_ignored() -> None:
    pushed = ImplementationPushed(1, 40, "triad/issue-12", SHA, has_ci=True)
    working = at(Stage.IMPLEMENTING, round=2)
    assert decide(working, pushed, TARGET, CONFIG).workflow == working


def test_green_ci_starts_review_or_waits_for_the_label() -> None:
    decision = decide(at(Stage.TESTING), ChecksCompleted(SHA, True), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.REVIEWING
    review = job(decision.actions)
    assert review.kind == "review" and review.key == f"review:octo/repo#12:{SHA}:r1"
    gated = decide(at(Stage.TESTING), ChecksCompleted(SHA, True), TARGET, LABEL_GATE)
    assert gated.workflow is not None and gated.workflow.stage is Stage.AWAITING_REVIEW


def test_red_ci_sends_the_developer_back_with_the_report() -> None:
    decision = decide(at(Stage.TESTING), ChecksCompleted(SHA, False, "boom"), TARGET, CONFIG)
    assert decision.workflow is not None
    assert (decision.workflow.stage, decision.workflow.round) == (Stage.IMPLEMENTING, 2)
    assert decision.workflow.ci_fixes == 1
    fix = job(decision.actions)
    assert fix.key == "developer:octo/repo#12:r2"
    assert fix.payload["reason"] == "ci" and fix.payload["feedback"] == "boom"


def test_red_ci_after_the_last_attempt_escalates() -> None:
    spent = at(Stage.TESTING, ci_fixes=2, round=3)
    decision = decide(spent, ChecksCompleted(SHA, False, "boom"), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.NEEDS_HUMAN
    assert decision.workflow.escalated_from is Stage.TESTING
    assert decision.actions[0] == AddLabel("needs-human", PULL)


@pytest.mark.parametrize("stage", [Stage.IMPLEMENTING, Stage.REVIEWING, Stage.NEEDS_HUMAN])
def test_ci_results_outside_testing_or_for_old_commits_are_ignored(stage: Stage) -> None:
    assert decide(at(stage), ChecksCompleted(SHA, False), TARGET, CONFIG).actions == ()
    old = decide(at(Stage.TESTING), ChecksCompleted(OLD, False), TARGET, CONFIG)
    assert old.actions == () and old.workflow == at(Stage.TESTING)


def test_the_review_label_needs_a_writer() -> None:
    waiting = at(Stage.AWAITING_REVIEW)
    started = decide(waiting, LabelAdded(WRITER, "d", "triad:review"), TARGET, CONFIG)
    assert started.workflow is not None and started.workflow.stage is Stage.REVIEWING
    refused = decide(waiting, LabelAdded(READER, "d", "triad:review"), TARGET, CONFIG)
    assert refused.workflow == waiting
    assert RemoveLabel("triad:review", PULL) in refused.actions


def test_review_outcomes() -> None:
    reviewing = at(Stage.REVIEWING, review_round=1)
    approve = decide(reviewing, ReviewsFinished(SHA, ReviewVerdict.APPROVE), TARGET, CONFIG)
    assert approve.workflow is not None and approve.workflow.stage is Stage.READY_FOR_QA
    assert approve.actions == (
        AddLabel("triad:ready-for-qa", PULL),
        SetCheckRun(SHA, "Both reviewers approve", "", "success"),
        UpdateProgress(),
    )
    changes = decide(
        reviewing, ReviewsFinished(SHA, ReviewVerdict.CHANGES, "fix x"), TARGET, CONFIG
    )
    assert changes.workflow is not None and changes.workflow.review_fixes == 1
    assert job(changes.actions).payload == job(changes.actions).payload | {"reason": "review"}
    spent = replace(reviewing, review_fixes=2)
    escalated = decide(spent, ReviewsFinished(SHA, ReviewVerdict.CHANGES, "fix x"), TARGET, CONFIG)
    assert escalated.workflow is not None and escalated.workflow.stage is Stage.NEEDS_HUMAN
    split = decide(
        reviewing, ReviewsFinished(SHA, ReviewVerdict.DISAGREE, "side by side"), TARGET, CONFIG
    )
    assert split.workflow is not None and split.workflow.stage is Stage.NEEDS_HUMAN
    assert PostComment(f"disagreement:{SHA}", "side by side", PULL) in split.actions
    stale = decide(reviewing, ReviewsFinished(OLD, ReviewVerdict.APPROVE), TARGET, CONFIG)
    assert stale.workflow == reviewing


def test_qa_gate() -> None:
    ready = at(Stage.READY_FOR_QA)
    passed = decide(ready, LabelAdded(WRITER, "d", "triad:qa-passed"), TARGET, CONFIG)
    assert passed.workflow is not None and passed.workflow.stage is Stage.DONE
    assert MarkReady() in passed.actions
    failed = decide(
        ready, LabelAdded(WRITER, "d", "triad:qa-failed", "the flag is ignored"), TARGET, CONFIG
    )
    assert failed.workflow is not None and failed.workflow.stage is Stage.IMPLEMENTING
    assert job(failed.actions).payload["feedback"] == "the flag is ignored"
    systemic = decide(
        ready, LabelAdded(WRITER, "d", "triad:qa-failed", "the design is wrong"), TARGET, CONFIG
    )
    assert systemic.workflow is not None and systemic.workflow.stage is Stage.DESIGNING
    assert job(systemic.actions).kind == "architect"
    refused = decide(ready, LabelAdded(READER, "d", "triad:qa-passed"), TARGET, CONFIG)
    assert refused.workflow == ready


def command(name: str, argument: str = "") -> CommandIssued:
    return CommandIssued(WRITER, "c-1", Command(name, argument))


def test_fix_redesign_and_resume() -> None:
    fix = decide(at(Stage.TESTING), command("fix", "rename it"), TARGET, CONFIG)
    assert fix.workflow is not None and fix.workflow.stage is Stage.IMPLEMENTING
    assert job(fix.actions).payload["reason"] == "human"
    no_pr = decide(at(Stage.DESIGN_PROPOSED, pr_number=None), command("fix"), TARGET, CONFIG)
    assert [type(a) for a in no_pr.actions] == [PostComment]
    redesign = decide(at(Stage.TESTING), command("redesign", "use a flag"), TARGET, CONFIG)
    assert redesign.workflow is not None and redesign.workflow.design_version == 2
    assert RemoveLabel("triad:approved") in redesign.actions
    assert job(redesign.actions).payload["feedback"] == "use a flag"
    split = at(Stage.NEEDS_HUMAN, escalated_from=Stage.REVIEWING)
    accepted = decide(split, command("resume"), TARGET, CONFIG)
    assert accepted.workflow is not None and accepted.workflow.stage is Stage.READY_FOR_QA
    decided = decide(split, command("resume", "keep reviewer A's way"), TARGET, CONFIG)
    assert decided.workflow is not None and decided.workflow.stage is Stage.IMPLEMENTING
    ci = at(Stage.NEEDS_HUMAN, escalated_from=Stage.TESTING, ci_fixes=2)
    again = decide(ci, command("resume", "pin the version"), TARGET, CONFIG)
    assert again.workflow is not None and again.workflow.ci_fixes == 0
    assert decide(at(Stage.TESTING), command("resume"), TARGET, CONFIG).workflow == at(
        Stage.TESTING
    )


def test_a_design_the_developer_finds_wrong_goes_back_for_approval() -> None:
    decision = decide(at(Stage.IMPLEMENTING), DesignIsWrong(1, "no such API"), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.DESIGNING
    assert RemoveLabel("triad:approved") in decision.actions
    assert job(decision.actions).payload["feedback"] == "no such API"


def test_a_person_pushing_to_the_pr_sends_it_back_through_ci_and_review() -> None:
    ready = at(Stage.READY_FOR_QA)
    moved = decide(ready, HeadMoved(WRITER, "d", "c" * 40), TARGET, CONFIG)
    assert moved.workflow is not None
    assert (moved.workflow.stage, moved.workflow.head_sha) == (Stage.TESTING, "c" * 40)
    assert RemoveLabel("triad:ready-for-qa", PULL) in moved.actions
    own = decide(ready, HeadMoved(Actor("triad[bot]", is_self=True), "d", "c" * 40), TARGET, CONFIG)
    assert own.workflow == ready
    same = decide(ready, HeadMoved(WRITER, "d", SHA), TARGET, CONFIG)
    assert same.workflow == ready
    working = at(Stage.IMPLEMENTING)
    assert decide(working, HeadMoved(WRITER, "d", "c" * 40), TARGET, CONFIG).workflow == working


def test_a_branch_moved_back_to_an_earlier_head_waits_for_ci_again() -> None:
    """Keyed by the head alone, the CI jobs of a head seen before were taken for its earlier
    ones (done): no deadline and no look, and the workflow waited for CI for ever."""
    ready = at(Stage.READY_FOR_QA)
    first = decide(ready, HeadMoved(WRITER, "d-1", "c" * 40), TARGET, CONFIG)
    assert first.workflow is not None
    away = decide(first.workflow, HeadMoved(WRITER, "d-2", "e" * 40), TARGET, CONFIG)
    assert away.workflow is not None
    back = decide(away.workflow, HeadMoved(WRITER, "d-3", "c" * 40), TARGET, CONFIG)

    def keys(decision: Decision) -> set[str]:
        return {action.key for action in decision.actions if isinstance(action, RunStage)}

    assert len(keys(first)) == 2 and len(keys(back)) == 2
    assert not keys(first) & keys(back)


def test_resume_after_the_reviewers_failed_runs_them_again() -> None:
    failed = decide(
        at(Stage.REVIEWING, review_round=1), StageFailed(StageName.REVIEW, "down"), TARGET, CONFIG
    )
    assert failed.workflow is not None and failed.workflow.escalated_failed
    resumed = decide(failed.workflow, command("resume"), TARGET, CONFIG)
    assert resumed.workflow is not None and resumed.workflow.stage is Stage.REVIEWING
    assert job(resumed.actions).key == f"review:octo/repo#12:{SHA}:r2"


def test_qa_failed_needs_a_note() -> None:
    ready = at(Stage.READY_FOR_QA)
    decision = decide(ready, LabelAdded(WRITER, "d", "triad:qa-failed", ""), TARGET, CONFIG)
    assert decision.workflow == ready
    assert RemoveLabel("triad:qa-failed", PULL) in decision.actions
    cosmetic = LabelAdded(WRITER, "d", "triad:qa-failed", "The button design is 2px off")
    back = decide(ready, cosmetic, TARGET, CONFIG).workflow
    assert back is not None and back.stage is Stage.IMPLEMENTING


def test_every_change_after_approval_updates_the_progress_comment_last() -> None:
    """The progress comment is an action of the transition, so a retry never loses it."""
    waiting = at(Stage.AWAITING_REVIEW)
    started = decide(waiting, LabelAdded(WRITER, "d", "triad:review"), TARGET, CONFIG)
    assert started.actions[-1] == UpdateProgress()
    unchanged = decide(waiting, LabelAdded(READER, "d", "triad:review"), TARGET, CONFIG)
    assert UpdateProgress() not in unchanged.actions


def test_config_problems_are_told_once_to_people_who_act() -> None:
    problems = ["limits.ci_fix_attempts: must be a number; the default (2) is used"]
    waiting = at(Stage.AWAITING_REVIEW)
    told = decide(waiting, LabelAdded(WRITER, "d", "triad:review"), TARGET, CONFIG, problems)
    first = told.actions[0]
    assert isinstance(first, PostComment) and first.key.startswith("config:")
    assert problems[0] in first.body
    again = decide(waiting, LabelAdded(READER, "e", "triad:review"), TARGET, CONFIG, problems)
    assert again.actions[0] == first  # the same key: posted once
    ci = decide(at(Stage.TESTING), ChecksCompleted(SHA, passed=True), TARGET, CONFIG, problems)
    assert all(not isinstance(a, PostComment) for a in ci.actions)  # no person acted
