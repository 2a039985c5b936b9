"""Door checks and facts about pull requests' branches: Triad's own `triad/issue-N` branches in
the repository itself are its workflows' PRs; every other PR (a fork's too, whatever its branch
is called) is a person's."""

from __future__ import annotations

from bot.github.events import PullRequest, PullRequestEvent
from bot.github.pulls import PullInfo
from bot.routing.intake import issue_of_branch
from bot.routing.router import DoorFacts, Ignored
from bot.workflow.events import PullFacts


def not_triads_pull(event: PullRequestEvent, _facts: DoorFacts) -> Ignored | None:
    head = event.pull_request.head
    if head.repo is None or event.repository is None:
        return Ignored("the pull request's head repository is gone", "not_triads_branch")
    if head.repo.full_name != event.repository.full_name:
        return Ignored("a pull request from a fork is not Triad's", "not_triads_branch")
    return not_triads_branch(head.ref)


def not_triads_branch(branch: str | None) -> Ignored | None:
    if issue_of_branch(branch or "") is None:
        return Ignored(f"branch {branch!r} is not a Triad branch", "not_triads_branch")
    return None


def from_fork(event: PullRequestEvent) -> bool:
    """The head is in another repository (or the fork is gone)."""
    head = event.pull_request.head
    return (
        head.repo is None
        or event.repository is None
        or head.repo.full_name != event.repository.full_name
    )


def triads_issue(event: PullRequestEvent) -> int | None:
    """The issue a pull request implements when it is Triad's own, else None."""
    if from_fork(event):
        return None
    return issue_of_branch(event.pull_request.head.ref)


def workflow_of(event: PullRequestEvent) -> int:
    """The workflow a pull request belongs to: Triad's PR its issue's, a person's PR its own
    review's (keyed by the PR's number)."""
    issue = triads_issue(event)
    return issue if issue is not None else event.pull_request.number


def facts_of(pull: PullRequest, repository: str) -> PullFacts:
    """A pull request as its delivery shows it."""
    head = pull.head
    return PullFacts(
        number=pull.number,
        head_sha=head.sha,
        head_ref=head.ref,
        from_fork=head.repo is None or head.repo.full_name != repository,
        open=pull.state == "open",
        draft=pull.draft,
    )


def facts_from(info: PullInfo, repository: str) -> PullFacts:
    """A pull request as GitHub's API shows it now."""
    return PullFacts(
        number=info.number,
        head_sha=info.head_sha,
        head_ref=info.head_ref,
        from_fork=info.head_repo != repository,
        open=info.state == "open",
        draft=info.draft,
    )


def is_triads(info: PullInfo, repository: str) -> int | None:
    """The issue `info` implements when it is Triad's own pull request, else None."""
    if info.head_repo != repository:
        return None
    return issue_of_branch(info.head_ref)
