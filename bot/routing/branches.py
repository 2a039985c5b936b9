"""Door checks for deliveries about branches: only Triad's own `triad/issue-N` branches in the
repository itself concern it (a fork's branch may carry the same name)."""

from __future__ import annotations

from bot.github.events import PullRequestEvent
from bot.routing.intake import issue_of_branch
from bot.routing.router import DoorFacts, Ignored


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
