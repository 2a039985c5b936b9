"""The review of a person's pull request, without a network: who may ask, the outcomes, the
check run's button, pushes, limits and the pull request's end."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.repo_config import RepoConfig, parse_repo_config
from bot.workflow.actions import (
    PULL,
    EnsureLabels,
    PostComment,
    Refuse,
    RemoveLabel,
    RunStage,
    SetCheckRun,
)
from bot.workflow.commands import Command
from bot.workflow.engine import decide
from bot.workflow.events import (
    CheckAction,
    CheckActionRequested,
    CommandIssued,
    HeadMoved,
    PullClosed,
    PullFacts,
    Reopened,
    RequestVia,
    ReviewRequested,
    ReviewsFinished,
    ReviewVerdict,
    StageFailed,
    StageName,
)
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow, WorkflowKind

CONFIG = RepoConfig()
TARGET = Target("octo/repo", 5, 41)
WRITER = Actor("wes", Permission.WRITE)
READER = Actor("rita", Permission.READ)
AUTHOR = Actor("carol", Permission.NONE)
SHA, NEW = "a" * 40, "b" * 40
PULL_41 = PullFacts(41, SHA, "feature")


def request(
    via: RequestVia = RequestVia.LABEL, actor: Actor = WRITER, pull: PullFacts = PULL_41
) -> ReviewRequested:
    return ReviewRequested(actor, "d-1", via, pull)


def at(stage: Stage, **fields: object) -> Workflow:
    base = Workflow(
        "octo/repo",
        5,
        41,
        stage,
        kind=WorkflowKind.PULL,
        pr_number=41,
        branch="feature",
        head_sha=SHA,
        review_round=1,
        id=7,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def job(decision_actions: tuple[object, ...]) -> RunStage:
    [found] = [a for a in decision_actions if isinstance(a, RunStage)]
    return found


def checks(actions: tuple[object, ...]) -> list[SetCheckRun]:
    return [a for a in actions if isinstance(a, SetCheckRun)]


@pytest.mark.parametrize("via", [RequestVia.LABEL, RequestVia.COMMAND, RequestVia.RERUN])
def test_a_writers_request_starts_a_review_of_the_head(via: RequestVia) -> None:
    decision = decide(None, request(via), TARGET, CONFIG)
    started = decision.workflow
    assert started is not None and started.kind is WorkflowKind.PULL
    assert (started.stage, started.pr_number, started.head_sha) == (Stage.REVIEWING, 41, SHA)
    assert job(decision.actions).payload["pr_number"] == 41
    assert EnsureLabels() in decision.actions
    [check] = checks(decision.actions)
    assert check.head_sha == SHA and check.conclusion is None  # in progress
    assert (RemoveLabel("triad:review", PULL) in decision.actions) is (via is RequestVia.LABEL)


def test_someone_who_cannot_write_starts_nothing() -> None:
    labelled = decide(None, request(RequestVia.LABEL, READER), TARGET, CONFIG)
    assert labelled.workflow is None
    assert RemoveLabel("triad:review", PULL) in labelled.actions
    # a refusal: one comment per person, issue and day
    assert any(isinstance(a, Refuse) and "rita" in a.body for a in labelled.actions)
    rerun = decide(None, request(RequestVia.RERUN, READER), TARGET, CONFIG)
    assert rerun.workflow is None and rerun.actions == ()
    assert rerun.reason.startswith("refused")


def test_review_auto_takes_non_draft_prs_from_the_repository_only() -> None:
    auto = parse_repo_config("review:\n  auto: true\n").config
    opened = decide(None, request(RequestVia.AUTO, AUTHOR), TARGET, auto)
    assert opened.workflow is not None and opened.workflow.stage is Stage.REVIEWING
    for pull in (replace(PULL_41, draft=True), replace(PULL_41, from_fork=True)):
        skipped = decide(None, request(RequestVia.AUTO, AUTHOR, pull), TARGET, auto)
        assert skipped.workflow is None and skipped.actions == ()


@pytest.mark.parametrize(
    "stage", [Stage.REVIEWED, Stage.CHANGES_REQUESTED, Stage.STOPPED, Stage.NEEDS_HUMAN]
)
def test_review_auto_never_undoes_a_stop_or_a_decision_or_pays_again(stage: Stage) -> None:
    auto = parse_repo_config("review:\n  auto: true\n").config
    reviewed = at(stage, reviewed_sha=SHA, escalated_from=Stage.REVIEWING)
    toggled = decide(reviewed, request(RequestVia.AUTO, AUTHOR), TARGET, auto)  # ready again
    assert toggled.workflow == reviewed and toggled.actions == ()
    newer = request(RequestVia.AUTO, AUTHOR, replace(PULL_41, head_sha=NEW))
    moved = decide(reviewed, newer, TARGET, auto)
    if stage in (Stage.STOPPED, Stage.NEEDS_HUMAN):
        assert moved.workflow == reviewed and moved.actions == ()
    else:  # a head never reviewed, while not stopped
        assert moved.workflow is not None and moved.workflow.stage is Stage.REVIEWING
        assert moved.workflow.head_sha == NEW


def test_a_forks_pr_is_reviewed_on_a_writers_request() -> None:
    fork = replace(PULL_41, from_fork=True)
    decision = decide(None, request(RequestVia.COMMAND, WRITER, fork), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.from_fork


def test_a_closed_pr_is_not_reviewed() -> None:
    closed = replace(PULL_41, open=False)
    decision = decide(None, request(RequestVia.COMMAND, WRITER, closed), TARGET, CONFIG)
    assert decision.workflow is None
    assert [type(a) for a in decision.actions] == [PostComment]


@pytest.mark.parametrize(
    ("verdict", "stage", "key", "conclusion"),
    [
        (ReviewVerdict.APPROVE, Stage.REVIEWED, "reviewed", "success"),
        (ReviewVerdict.CHANGES, Stage.CHANGES_REQUESTED, "changes", "failure"),
        (ReviewVerdict.DISAGREE, Stage.NEEDS_HUMAN, "disagreement", "action_required"),
    ],
)
def test_the_outcomes(verdict: ReviewVerdict, stage: Stage, key: str, conclusion: str) -> None:
    event = ReviewsFinished(SHA, verdict, "what Triad says", round=1, report="the report")
    decision = decide(at(Stage.REVIEWING), event, TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is stage
    assert decision.workflow.reviewed_sha == SHA
    assert PostComment(f"{key}:{SHA}:r1", "what Triad says", PULL) in decision.actions
    [check] = checks(decision.actions)
    assert (check.head_sha, check.conclusion, check.summary) == (SHA, conclusion, "the report")
    assert check.buttons == (("accept",) if stage is Stage.NEEDS_HUMAN else ())


def test_a_repository_may_prefer_neutral_to_failure() -> None:
    neutral = parse_repo_config("review:\n  check_on_changes: neutral\n").config
    event = ReviewsFinished(SHA, ReviewVerdict.CHANGES, "x", round=1)
    [check] = checks(decide(at(Stage.REVIEWING), event, TARGET, neutral).actions)
    assert check.conclusion == "neutral"


def test_late_or_earlier_round_results_are_ignored() -> None:
    reviewing = at(Stage.REVIEWING, review_round=2)
    for event in (
        ReviewsFinished(NEW, ReviewVerdict.APPROVE, round=2),
        ReviewsFinished(SHA, ReviewVerdict.APPROVE, round=1),
    ):
        decision = decide(reviewing, event, TARGET, CONFIG)
        assert decision.workflow == reviewing and decision.actions == ()


def test_only_a_writer_may_accept_with_the_button() -> None:
    waiting = at(Stage.NEEDS_HUMAN, escalated_from=Stage.REVIEWING, escalation="disagree")
    for who in (READER, AUTHOR):
        refused = decide(waiting, CheckActionRequested(who, "d-2", "accept", SHA), TARGET, CONFIG)
        assert refused.workflow == waiting and refused.actions == ()
        assert refused.reason.startswith("refused")
    accepted = decide(waiting, CheckActionRequested(WRITER, "d-3", "accept", SHA), TARGET, CONFIG)
    assert accepted.workflow is not None and accepted.workflow.stage is Stage.REVIEWED
    assert RemoveLabel("needs-human", PULL) in accepted.actions
    [check] = checks(accepted.actions)
    assert check.conclusion == "success" and check.keep_summary


def test_send_back_and_stale_buttons_do_nothing_on_a_persons_pr() -> None:
    waiting = at(Stage.NEEDS_HUMAN, escalated_from=Stage.REVIEWING)
    for event in (
        CheckActionRequested(WRITER, "d", CheckAction.SEND_BACK, SHA),
        CheckActionRequested(WRITER, "d", CheckAction.ACCEPT, NEW),
        CheckActionRequested(WRITER, "d", "delete-everything", SHA),
    ):
        decision = decide(waiting, event, TARGET, CONFIG)
        assert decision.workflow == waiting and decision.actions == ()


def test_resume_accepts_or_runs_failed_reviewers_again() -> None:
    resume = CommandIssued(WRITER, "c", Command("resume"))
    waiting = at(Stage.NEEDS_HUMAN, escalated_from=Stage.REVIEWING)
    assert decide(waiting, resume, TARGET, CONFIG).workflow.stage is Stage.REVIEWED  # type: ignore[union-attr]
    failed = replace(waiting, escalated_failed=True)
    again = decide(failed, resume, TARGET, CONFIG)
    assert again.workflow is not None and again.workflow.stage is Stage.REVIEWING
    assert again.workflow.review_round == 2


def test_a_forks_pr_stays_a_forks_after_resume_and_pushes() -> None:
    resume = CommandIssued(WRITER, "c", Command("resume"))
    on_push = parse_repo_config("review:\n  on_push: true\n").config
    failed = at(
        Stage.NEEDS_HUMAN, escalated_from=Stage.REVIEWING, escalated_failed=True, from_fork=True
    )
    again = decide(failed, resume, TARGET, on_push)
    assert again.workflow is not None and again.workflow.from_fork
    assert job(again.actions).payload["head_sha"] == SHA
    reviewed = replace(again.workflow, stage=Stage.REVIEWED, reviewed_sha=SHA)
    pushed = decide(reviewed, HeadMoved(AUTHOR, "p", NEW), TARGET, on_push)
    assert pushed.workflow == reviewed and not any(isinstance(a, RunStage) for a in pushed.actions)
    asked = decide(reviewed, request(pull=replace(PULL_41, head_sha=NEW)), TARGET, on_push)
    assert asked.workflow is not None and asked.workflow.from_fork


def test_a_reviewer_failing_asks_a_human() -> None:
    event = StageFailed(StageName.REVIEW, "model down", head_sha=SHA)
    decision = decide(at(Stage.REVIEWING), event, TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.NEEDS_HUMAN
    [check] = checks(decision.actions)
    assert check.conclusion == "action_required" and check.buttons == ()


@pytest.mark.parametrize("stage", [Stage.REVIEWED, Stage.CHANGES_REQUESTED, Stage.STOPPED])
def test_asking_again_reviews_the_new_head(stage: Stage) -> None:
    reviewed = at(stage, reviewed_sha=SHA)
    decision = decide(reviewed, request(pull=replace(PULL_41, head_sha=NEW)), TARGET, CONFIG)
    assert decision.workflow is not None and decision.workflow.stage is Stage.REVIEWING
    assert (decision.workflow.head_sha, decision.workflow.review_round) == (NEW, 2)
    payload = job(decision.actions).payload
    assert payload["previous_sha"] == SHA and payload["fresh"] is False


def test_asking_again_on_the_same_head_asks_the_reviewers_afresh() -> None:
    decision = decide(at(Stage.REVIEWED, reviewed_sha=SHA), request(), TARGET, CONFIG)
    assert job(decision.actions).payload["fresh"] is True


def test_a_push_is_reviewed_only_with_on_push() -> None:
    push = HeadMoved(AUTHOR, "p", NEW)
    reviewed = at(Stage.REVIEWED, reviewed_sha=SHA)
    ignored = decide(reviewed, push, TARGET, CONFIG)
    assert ignored.workflow == reviewed and ignored.actions == ()
    on_push = parse_repo_config("review:\n  on_push: true\n").config
    again = decide(reviewed, push, TARGET, on_push)
    assert again.workflow is not None and again.workflow.head_sha == NEW
    assert again.workflow.stage is Stage.REVIEWING
    fork = replace(reviewed, from_fork=True)
    assert decide(fork, push, TARGET, on_push).workflow == fork


def test_a_push_while_reviewing_supersedes_the_older_check() -> None:
    on_push = parse_repo_config("review:\n  on_push: true\n").config
    decision = decide(at(Stage.REVIEWING), HeadMoved(AUTHOR, "p", NEW), TARGET, on_push)
    old, new = checks(decision.actions)
    assert (old.head_sha, old.conclusion) == (SHA, "cancelled")
    assert (new.head_sha, new.conclusion) == (NEW, None)


def test_reviews_per_pr_bounds_the_rounds() -> None:
    limited = parse_repo_config("limits:\n  reviews_per_pr: 2\n").config
    spent = at(Stage.REVIEWED, review_round=2)
    decision = decide(spent, request(pull=replace(PULL_41, head_sha=NEW)), TARGET, limited)
    assert decision.workflow == spent
    assert PostComment("review-limit:2", decision.actions[-1].body, PULL) in decision.actions  # type: ignore[union-attr]


def test_closing_stops_and_merging_finishes() -> None:
    reviewing = at(Stage.REVIEWING)
    closed = decide(reviewing, PullClosed(AUTHOR, "c", merged=False), TARGET, CONFIG)
    assert closed.workflow is not None and closed.workflow.stage is Stage.STOPPED
    assert any(isinstance(a, PostComment) and "closed" in a.body for a in closed.actions)
    [check] = checks(closed.actions)
    assert check.conclusion == "cancelled"
    merged = decide(at(Stage.REVIEWED), PullClosed(WRITER, "m", merged=True), TARGET, CONFIG)
    assert merged.workflow is not None and merged.workflow.stage is Stage.DONE
    reopened = decide(closed.workflow, Reopened(AUTHOR, "r", pull=True), TARGET, CONFIG)
    assert reopened.workflow == closed.workflow
    assert any("/triad review" in a.body for a in reopened.actions if isinstance(a, PostComment))
    twice = decide(closed.workflow, Reopened(AUTHOR, "r2", pull=True), TARGET, CONFIG)
    assert twice.actions == reopened.actions  # once per stop, whatever delivery says it


def test_the_developers_commands_have_nothing_to_do_on_a_persons_pr() -> None:
    for name in ("fix", "revise", "redesign"):
        decision = decide(
            at(Stage.REVIEWED), CommandIssued(WRITER, "c", Command(name)), TARGET, CONFIG
        )
        assert decision.workflow == at(Stage.REVIEWED)
        assert [type(a) for a in decision.actions] == [PostComment]
    stop = decide(at(Stage.REVIEWED), CommandIssued(WRITER, "c", Command("stop")), TARGET, CONFIG)
    assert stop.workflow is not None and stop.workflow.stage is Stage.STOPPED
