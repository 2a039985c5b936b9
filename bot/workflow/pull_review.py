"""A person's pull request reviewed by the two reviewers (pure): who may ask, the outcome of
each review round, a human's decision, pushes, and the pull request's end.

The workflow is keyed by the PR's number. There is no design and no developer: the reviewers'
agreement is told to the author (and to branch protection, through Triad's check run), and a
writer asks again after the author pushed, unless the repository sets `review.on_push`.
"""

from __future__ import annotations

from dataclasses import replace

from bot.repo_config import RepoConfig
from bot.workflow import messages
from bot.workflow.actions import PULL, Action, EnsureLabels, PostComment, Refuse, RemoveLabel
from bot.workflow.events import (
    CheckAction,
    CheckActionRequested,
    CommandIssued,
    Event,
    HeadMoved,
    PullClosed,
    PullFacts,
    Reopened,
    RequestVia,
    ReviewRequested,
    ReviewsFinished,
    ReviewVerdict,
)
from bot.workflow.implementation import escalate
from bot.workflow.jobs import review_job
from bot.workflow.model import Stage, Target, Workflow, WorkflowKind, moved_on
from bot.workflow.outcome import Decision

#: the commands that mean something on a person's PR (besides status, which any workflow has)
_COMMANDS = ("stop", "resume")


def is_pull_review(workflow: Workflow | None, event: Event, target: Target) -> bool:
    """Whether `event` is for a person's PR: its review workflow, or a request to start one
    (a request about Triad's own PR is routed to its issue, whose number differs)."""
    if workflow is not None:
        return workflow.kind is WorkflowKind.PULL
    return (
        isinstance(event, ReviewRequested)
        and event.pull is not None
        and event.pull.number == target.issue_number
    )


def decide_pull(
    workflow: Workflow | None, event: Event, target: Target, config: RepoConfig
) -> Decision | None:
    """The decision for a PR review's own events; None for those any workflow shares (status,
    refusals, a failed stage)."""
    match event:
        case ReviewRequested():
            return review_requested(workflow, event, target, config)
        case ReviewsFinished():
            return reviews_finished(workflow, event, config)
        case CheckActionRequested():
            return check_action(workflow, event, config)
        case HeadMoved():
            return head_moved(workflow, event, config)
        case PullClosed():
            return closed(workflow, event, config)
        case Reopened():
            return reopened(workflow, event, config)
        case CommandIssued() if event.actor.permission.can_write and event.command.known:
            return command(workflow, event, config)
        case _:
            return None


def review_requested(
    workflow: Workflow | None, event: ReviewRequested, target: Target, config: RepoConfig
) -> Decision:
    """A writer's label, command or re-run, or `review.auto`: a review round on the head."""
    pull, login, labels = event.pull, event.actor.login, config.labels
    cleanup: tuple[Action, ...] = (
        (RemoveLabel(labels.review, PULL),) if event.via is RequestVia.LABEL else ()
    )
    if pull is None:
        return Decision(workflow, reason="ignored: no pull request to review")
    if event.via is RequestVia.AUTO:
        if pull.from_fork or pull.draft:
            return Decision(workflow, reason="ignored: review.auto skips drafts and forks")
    elif not event.actor.permission.can_write:
        return _refused(workflow, event, cleanup)
    if not pull.open:
        return _answer(workflow, event, messages.not_open("review it"), "the PR is not open")
    if workflow is None:
        started = Workflow(
            repository=target.repository,
            installation_id=target.installation_id,
            issue_number=pull.number,
            stage=Stage.REVIEWING,
            kind=WorkflowKind.PULL,
            pr_number=pull.number,
            branch=pull.head_ref,
            head_sha=pull.head_sha,
            from_fork=pull.from_fork,
            review_round=1,
        )
        actions = (EnsureLabels(), *cleanup, review_job(started))
        return Decision(started, actions, reason=f"review asked for by {login} ({event.via})")
    if workflow.stage is Stage.REVIEWING and workflow.head_sha == pull.head_sha:
        return Decision(workflow, cleanup, reason="ignored: the reviewers are already at work")
    if workflow.stage is Stage.DONE:
        return Decision(workflow, cleanup, reason="ignored: the pull request is merged")
    if event.via is RequestVia.AUTO and not _auto_may_review(workflow, pull):
        return Decision(workflow, reason="ignored: review.auto only starts reviews")
    return _review_again(workflow, pull, str(event.via), config, cleanup)


def _auto_may_review(workflow: Workflow, pull: PullFacts) -> bool:
    """`review.auto` (a draft marked ready, say) reviews only a head never reviewed, and never
    undoes a writer's stop or a decision a human owes: a writer asks for anything more."""
    return workflow.stage not in (Stage.STOPPED, Stage.NEEDS_HUMAN) and pull.head_sha not in (
        workflow.head_sha,
        workflow.reviewed_sha,
    )


def _review_again(
    workflow: Workflow,
    pull: PullFacts,
    how: str,
    config: RepoConfig,
    cleanup: tuple[Action, ...] = (),
) -> Decision:
    limit = config.limits.reviews_per_pr
    if workflow.review_round >= limit:
        said = PostComment(f"review-limit:{limit}", messages.review_limit(limit), PULL)
        return Decision(workflow, (*cleanup, said), reason="the review limit is reached")
    again = moved_on(
        workflow,
        stage=Stage.REVIEWING,
        head_sha=pull.head_sha,
        branch=pull.head_ref or workflow.branch,
        from_fork=workflow.from_fork or pull.from_fork,  # a fork's PR stays a fork's
        review_round=workflow.review_round + 1,
    )
    actions = (*cleanup, RemoveLabel(config.labels.needs_human, PULL), review_job(again))
    return Decision(again, actions, reason=f"review round {again.review_round} ({how})")


def _refused(
    workflow: Workflow | None, event: ReviewRequested, cleanup: tuple[Action, ...]
) -> Decision:
    login = event.actor.login
    if event.via is RequestVia.RERUN:
        return Decision(workflow, reason=f"refused: {login} cannot write (re-run ignored)")
    refusal = Refuse(login, messages.not_allowed(login, "ask for a review"), event.source, PULL)
    return Decision(workflow, (refusal, *cleanup), reason=f"refused: {login} cannot write")


def _answer(workflow: Workflow | None, event: ReviewRequested, text: str, why: str) -> Decision:
    if event.via is not RequestVia.COMMAND:
        return Decision(workflow, reason=f"ignored: {why}")
    return Decision(
        workflow, (PostComment(f"nothing:{event.source}", text, PULL),), f"ignored: {why}"
    )


def reviews_finished(
    workflow: Workflow | None, event: ReviewsFinished, config: RepoConfig
) -> Decision:
    """Both approve: reviewed. Both ask for changes: the author's turn. Otherwise a human."""
    if workflow is None or workflow.stage is not Stage.REVIEWING:
        return Decision(workflow, reason="ignored: no review was running")
    if event.head_sha != workflow.head_sha or (
        event.round is not None and event.round != workflow.review_round
    ):
        return Decision(workflow, reason="ignored: the review is of an earlier round")
    reviewed = replace(workflow, reviewed_sha=event.head_sha)
    key = f"{event.head_sha}:r{workflow.review_round}"
    if event.verdict is ReviewVerdict.APPROVE:
        said = PostComment(f"reviewed:{key}", event.summary, PULL)
        return Decision(replace(reviewed, stage=Stage.REVIEWED), (said,), "both reviewers approve")
    if event.verdict is ReviewVerdict.CHANGES:
        said = PostComment(f"changes:{key}", event.summary, PULL)
        return Decision(
            replace(reviewed, stage=Stage.CHANGES_REQUESTED),
            (said,),
            "both reviewers ask the author for changes",
        )
    said = PostComment(f"disagreement:{key}", event.summary, PULL)
    return escalate(reviewed, "the reviewers disagree", config, said)


def _accept(workflow: Workflow, login: str, config: RepoConfig, how: str) -> Decision:
    accepted = moved_on(workflow, stage=Stage.REVIEWED)
    actions = (
        RemoveLabel(config.labels.needs_human, PULL),
        PostComment(
            f"accepted:{workflow.head_sha}:r{workflow.review_round}",
            messages.accepted(login),
            PULL,
        ),
    )
    return Decision(accepted, actions, reason=f"accepted as is by {login} ({how})")


def _decision_open(workflow: Workflow | None) -> bool:
    return (
        workflow is not None
        and workflow.stage is Stage.NEEDS_HUMAN
        and not workflow.escalated_failed
    )


def check_action(
    workflow: Workflow | None, event: CheckActionRequested, config: RepoConfig
) -> Decision:
    """ "Accept as is" on the check run; anyone but a writer gets nothing done (logged)."""
    login = event.actor.login
    if not event.actor.permission.can_write:
        return Decision(workflow, reason=f"refused: {login} cannot write; the button did nothing")
    if event.action != CheckAction.ACCEPT:
        return Decision(workflow, reason=f"ignored: check run action {event.action!r}")
    if not _decision_open(workflow) or workflow is None or workflow.head_sha != event.head_sha:
        return Decision(workflow, reason="ignored: the check run's question is no longer open")
    return _accept(workflow, login, config, "check run")


def command(workflow: Workflow | None, event: CommandIssued, config: RepoConfig) -> Decision | None:
    """`/triad stop` and `/triad resume` on a PR review; the commands of Triad's own workflow
    (revise, fix, redesign) have nothing to act on here."""
    name, login = event.command.name, event.actor.login
    if name == "status":
        return None
    if name not in _COMMANDS or workflow is None:
        reply = PostComment(f"nothing:{event.source}", messages.pull_has_no_developer(name), PULL)
        return Decision(workflow, (reply,), reason=f"ignored: /triad {name} on a person's PR")
    if name == "stop":
        if workflow.stage in (Stage.STOPPED, Stage.DONE):
            return Decision(workflow, reason=f"ignored: already {workflow.stage}")
        said = PostComment(f"stopped:{event.source}", messages.stopped(login), PULL)
        return _stop(workflow, config, said, f"stopped by {login}")
    if workflow.stage is not Stage.NEEDS_HUMAN:
        reply = PostComment(
            f"nothing:{event.source}", messages.nothing_to_do(name, workflow.stage), PULL
        )
        return Decision(workflow, (reply,), reason=f"ignored: resume while {workflow.stage}")
    if workflow.escalated_failed:  # the reviewers failed to run: run them again
        pull = PullFacts(
            workflow.pr_number or 0,
            workflow.head_sha or "",
            workflow.branch or "",
            from_fork=workflow.from_fork,
        )
        return _review_again(workflow, pull, f"resumed by {login}", config)
    return _accept(workflow, login, config, "/triad resume")


def head_moved(workflow: Workflow | None, event: HeadMoved, config: RepoConfig) -> Decision:
    """A push is reviewed again only where the repository set `review.on_push`."""
    if workflow is None or event.head_sha == workflow.head_sha:
        return Decision(workflow, reason="ignored: not a new head")
    if workflow.stage in (Stage.STOPPED, Stage.DONE):
        return Decision(workflow, reason=f"ignored: a push while {workflow.stage}")
    if not config.review.on_push or workflow.from_fork:
        return Decision(workflow, reason="ignored: pushes are reviewed on request")
    pull = PullFacts(
        workflow.pr_number or 0, event.head_sha, workflow.branch or "", from_fork=workflow.from_fork
    )
    return _review_again(workflow, pull, f"pushed by {event.actor.login}", config)


def _stop(workflow: Workflow, config: RepoConfig, comment: PostComment, reason: str) -> Decision:
    labels = config.labels
    removals = (RemoveLabel(labels.needs_human, PULL), RemoveLabel(labels.review, PULL))
    return Decision(replace(workflow, stage=Stage.STOPPED), (*removals, comment), reason=reason)


def closed(workflow: Workflow | None, event: PullClosed, config: RepoConfig) -> Decision:
    """Merged: done. Closed without merging: Triad stops reviewing it and says so."""
    if workflow is None or workflow.stage in (Stage.STOPPED, Stage.DONE):
        return Decision(workflow, reason="ignored: no review running on the closed PR")
    login = event.actor.login
    if event.merged:
        done = moved_on(workflow, stage=Stage.DONE)
        cleanup = (RemoveLabel(config.labels.needs_human, PULL),)
        return Decision(done, cleanup, reason=f"the pull request was merged by {login}")
    comment = PostComment(f"pr-closed:{event.source}", messages.review_closed(login), PULL)
    return _stop(workflow, config, comment, f"the pull request was closed by {login}")


def reopened(workflow: Workflow | None, event: Reopened, config: RepoConfig) -> Decision:
    if workflow is None or workflow.stage is not Stage.STOPPED:
        return Decision(workflow, reason="ignored: nothing stopped to say about")
    # once per stop: the stopped workflow's revision holds until a writer asks again
    said = messages.review_reopened(config.labels)
    comment = PostComment(f"reopened:r{workflow.revision}", said, PULL)
    return Decision(workflow, (comment,), reason=f"reopened by {event.actor.login}")
