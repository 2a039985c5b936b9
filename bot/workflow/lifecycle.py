"""The end of an issue's workflow (pure): `/triad stop`, the issue closed or reopened, its pull
request closed or merged by a person.

A closed issue stops its workflow: the stage jobs still queued find it stopped and do nothing.
Reopening leaves it stopped (a writer starts it again with the design label); a pull request
merged by a person is the workflow done, whatever stage it was in.
"""

from __future__ import annotations

from dataclasses import replace

from bot.repo_config import RepoConfig
from bot.workflow import messages
from bot.workflow.actions import PULL, Action, PostComment, RemoveLabel
from bot.workflow.events import IssueClosed, PullClosed, Reopened
from bot.workflow.model import Stage, Workflow, moved_on
from bot.workflow.outcome import Decision

_OVER = (Stage.STOPPED, Stage.DONE)


def stop(workflow: Workflow, config: RepoConfig, comment: PostComment, reason: str) -> Decision:
    """Stopped: Triad's labels come off the issue and its PR, and `comment` says why."""
    labels = config.labels
    removals = tuple(
        RemoveLabel(name)
        for name in (labels.design, labels.design_proposed, labels.approved, labels.needs_human)
    ) + tuple(
        RemoveLabel(name, PULL)
        for name in (labels.needs_human, labels.ready_for_qa, labels.review)
        if workflow.pr_number
    )
    stopped = replace(workflow, stage=Stage.STOPPED)
    return Decision(stopped, (*removals, comment), reason=reason)


def issue_closed(workflow: Workflow | None, event: IssueClosed, config: RepoConfig) -> Decision:
    if workflow is None or workflow.stage in _OVER:
        return Decision(workflow, reason="ignored: no running workflow on the closed issue")
    login = event.actor.login
    comment = PostComment(f"closed:{event.source}", messages.issue_closed(login, config.labels))
    return stop(workflow, config, comment, f"the issue was closed by {login}")


def pull_closed(workflow: Workflow | None, event: PullClosed, config: RepoConfig) -> Decision:
    """Merged by a person: done. Closed without merging: stopped, with a comment."""
    if workflow is None or workflow.pr_number is None:
        return Decision(workflow, reason="ignored: no workflow on the pull request")
    login, labels = event.actor.login, config.labels
    if event.merged:
        if workflow.stage is Stage.DONE:
            return Decision(workflow, reason="ignored: the workflow is already done")
        done = moved_on(workflow, stage=Stage.DONE)
        cleanup: tuple[Action, ...] = (
            RemoveLabel(labels.needs_human, PULL),
            RemoveLabel(labels.ready_for_qa, PULL),
        )
        return Decision(done, cleanup, reason=f"the pull request was merged by {login}")
    if workflow.stage in _OVER:
        return Decision(workflow, reason=f"ignored: the workflow is already {workflow.stage}")
    comment = PostComment(
        f"pr-closed:{event.source}", messages.pull_closed(login, workflow.pr_number, labels)
    )
    return stop(workflow, config, comment, f"the pull request was closed by {login}")


def reopened(workflow: Workflow | None, event: Reopened, config: RepoConfig) -> Decision:
    """The workflow stays stopped; Triad says how to start it again."""
    if workflow is None or workflow.stage is not Stage.STOPPED:
        return Decision(workflow, reason="ignored: nothing stopped to say about")
    where = PULL if event.pull else "issue"
    # once per stop: the stopped workflow's revision holds until something starts it again
    comment = PostComment(
        f"reopened:r{workflow.revision}", messages.reopened_stays_stopped(config.labels), where
    )
    return Decision(workflow, (comment,), reason=f"reopened by {event.actor.login}: stays stopped")
