"""Walk the engine over every stage and a sample of every kind of event, to learn which stage
changes it makes (the workflow graphs docs/architecture.md draws: an issue's workflow, and the
review of a person's pull request)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import product

from bot.repo_config import RepoConfig, parse_repo_config
from bot.workflow.commands import KNOWN_COMMANDS, Command
from bot.workflow.engine import decide
from bot.workflow.events import (
    ApprovalRequested,
    CheckAction,
    CheckActionRequested,
    ChecksCompleted,
    CommandIssued,
    DesignIsWrong,
    DesignPublished,
    DesignRequested,
    Event,
    HeadMoved,
    ImplementationPushed,
    IssueClosed,
    LabelAdded,
    PullClosed,
    PullFacts,
    Reopened,
    RequestVia,
    ReviewRequested,
    ReviewsFinished,
    ReviewVerdict,
    StageFailed,
    StageName,
    StageRetried,
)
from bot.workflow.model import Actor, Permission, Stage, Target, Workflow, WorkflowKind

TARGET = Target("octo/repo", 5, 12)
#: a person's pull request, reviewed in a workflow of its own
PULL_TARGET = Target("octo/repo", 5, 41)
#: stages only the review of a person's pull request reaches
PULL_ONLY = {Stage.REVIEWED, Stage.CHANGES_REQUESTED}
PULL_STAGES = (
    Stage.REVIEWING,
    Stage.REVIEWED,
    Stage.CHANGES_REQUESTED,
    Stage.NEEDS_HUMAN,
    Stage.STOPPED,
    Stage.DONE,
)
WRITER = Actor("wes", Permission.WRITE)
SHA, NEW = "b" * 40, "c" * 40
CONFIGS = (
    RepoConfig(),
    parse_repo_config("gates:\n  review: label\n  auto_merge: true\n").config,
    parse_repo_config("limits:\n  ci_fix_attempts: 0\n  review_fix_rounds: 0\n").config,
    parse_repo_config(
        "review:\n  auto: true\n  on_push: true\nlimits:\n  reviews_per_pr: 1\n"
    ).config,
)


#: stages a workflow can be in before its PR exists
BEFORE_THE_PR = {
    Stage.DESIGNING,
    Stage.DESIGN_PROPOSED,
    Stage.IMPLEMENTING,
    Stage.STOPPED,
}


def workflows() -> Iterator[Workflow | None]:
    yield None
    for stage in Stage:
        if stage in PULL_ONLY:
            continue
        base = Workflow(
            "octo/repo",
            5,
            12,
            stage,
            design_version=1,
            design_comment_id=9,
            proposed_hash="h",
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
        yield base
        if stage in BEFORE_THE_PR:
            yield replace(base, approved_version=None, pr_number=None, head_sha=None, has_ci=None)
        if stage is Stage.NEEDS_HUMAN:
            for before in Stage:
                for failed in (False, True):
                    yield replace(base, escalated_from=before, escalated_failed=failed)
                # a stage job that died: the operator may run it again
                yield replace(base, escalated_from=before, escalated_failed=True, escalated_job=7)


def events() -> Iterator[Event]:
    labels = RepoConfig().labels
    yield DesignRequested(WRITER, "s")
    yield ApprovalRequested(WRITER, "s", "h")
    for name in (*KNOWN_COMMANDS, "resume"):
        for argument in ("", "the design is wrong: use a queue"):
            yield CommandIssued(WRITER, "s", Command(name, argument))
    for questions in (False, True):
        yield DesignPublished(1, 9, "h", questions, {"problem": "p"})
        yield DesignPublished(2, 9, "h", questions, {"problem": "p"})
    for stage_name in StageName:
        yield StageFailed(stage_name, "down", round=1, head_sha=SHA)
        yield StageFailed(stage_name, "out of attempts", round=1, head_sha=SHA, job_id=7)
        yield StageRetried(stage_name, 7)
    for has_ci in (False, True):
        yield ImplementationPushed(1, 40, "triad/issue-12", NEW, has_ci)
    yield DesignIsWrong(1, "it cannot work")
    for passed in (False, True):
        yield ChecksCompleted(SHA, passed, "report")
    for label in (labels.review, labels.qa_passed, labels.qa_failed):
        yield LabelAdded(WRITER, "s", label, "the login page is blank")
        yield LabelAdded(WRITER, "s", label, "systemic: the design is wrong")
    for verdict in ReviewVerdict:
        yield ReviewsFinished(SHA, verdict, "summary")
    yield HeadMoved(Actor("pat", Permission.WRITE), "s", NEW)
    yield from lifecycle_events()
    for number in (40, PULL_TARGET.issue_number):
        for via in RequestVia:
            for sha in (SHA, NEW):
                yield ReviewRequested(WRITER, "s", via, PullFacts(number, sha, "feature"))
        yield ReviewRequested(WRITER, "s", RequestVia.COMMAND, PullFacts(number, NEW, open=False))
    for action in CheckAction:
        yield CheckActionRequested(WRITER, "s", action, SHA)


def lifecycle_events() -> Iterator[Event]:
    yield IssueClosed(WRITER, "s")
    for merged in (False, True):
        yield PullClosed(WRITER, "s", merged)
    for pull in (False, True):
        yield Reopened(WRITER, "s", pull)


def pull_workflows() -> Iterator[Workflow | None]:
    yield None
    for stage in PULL_STAGES:
        base = Workflow(
            "octo/repo",
            5,
            PULL_TARGET.issue_number,
            stage,
            kind=WorkflowKind.PULL,
            pr_number=PULL_TARGET.issue_number,
            branch="feature",
            head_sha=SHA,
            review_round=1,
            id=4,
        )
        yield base
        if stage is Stage.NEEDS_HUMAN:
            for failed in (False, True):
                yield replace(base, escalated_from=Stage.REVIEWING, escalated_failed=failed)


def observed_transitions() -> set[tuple[str, str]]:
    """Every (from, to) stage change the engine makes to an issue's workflow; "start" is no
    workflow yet."""
    return _observed(workflows(), TARGET, WorkflowKind.ISSUE)


def observed_pull_transitions() -> set[tuple[str, str]]:
    """The same for the review of a person's pull request."""
    return _observed(pull_workflows(), PULL_TARGET, WorkflowKind.PULL)


def _observed(
    found: Iterator[Workflow | None], target: Target, kind: WorkflowKind
) -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    for workflow, event, config in product(list(found), list(events()), CONFIGS):
        after = decide(workflow, event, target, config).workflow
        before_stage = workflow.stage.value if workflow else "start"
        if after is not None and after.stage.value != before_stage and after.kind is kind:
            seen.add((before_stage, after.stage.value))
    return seen
