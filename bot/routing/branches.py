"""Door checks for deliveries about branches: only Triad's own `triad/issue-N` branches in the
repository itself concern it (a fork's branch may carry the same name)."""

from __future__ import annotations

from bot.github.events import PullRequestEvent
from bot.routing.intake import issue_of_branch
from bot.routing.router import DoorFacts


def not_triads_pull(event: PullRequestEvent, _facts: DoorFacts) -> str | None:
    head = event.pull_request.head
    if head.repo is None or event.repository is None:
        return "the pull request's head repository is gone"
    if head.repo.full_name != event.repository.full_name:
        return "a pull request from a fork is not Triad's"
    if issue_of_branch(head.ref) is None:
        return f"branch {head.ref!r} is not a Triad branch"
    return None


def not_triads_branch(branch: str | None) -> str | None:
    if issue_of_branch(branch or "") is None:
        return f"branch {branch!r} is not a Triad branch"
    return None
