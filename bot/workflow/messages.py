"""The words Triad says on GitHub when the engine refuses, stops or explains."""

from __future__ import annotations

from bot.repo_config import Labels

WRITERS = "people with write, maintain or admin access to this repository"


def not_allowed(login: str, what: str) -> str:
    return f"@{login} only {WRITERS} can {what}, so Triad did nothing."


def approval_refused_edited(login: str, labels: Labels) -> str:
    return (
        f"@{login} the design comment was edited after Triad proposed it, so the approval was "
        f"refused and `{labels.approved}` removed: what would be approved is not what was "
        "proposed. Ask for a new version with `/triad revise`, then approve that one."
    )


def approval_refused_no_design(login: str, labels: Labels) -> str:
    return (
        f"@{login} there is no proposed design to approve yet, so `{labels.approved}` was "
        f"removed. Add `{labels.design}` to ask the architect for one."
    )


def stopped(login: str) -> str:
    return f"Stopped by @{login}: nothing more runs on this issue, and Triad's labels are removed."


def unknown_command(name: str) -> str:
    return (
        f"Triad does not know `/triad {name}`. Commands: `/triad status`, `/triad revise` "
        "(a new design version that takes your comments into account), `/triad stop`."
    )


def revisions_exhausted(limit: int) -> str:
    return (
        f"This issue reached its limit of {limit} design versions (`limits.design_revisions` "
        "in `.github/triad.yml`); a human should take it from here."
    )


def stage_failed(stage: str, reason: str) -> str:
    return (
        f"The {stage} could not finish: {reason}\n\n"
        "Nothing was changed. Retry with `/triad revise` once the cause is fixed."
    )


def nothing_to_revise() -> str:
    return "There is no design to revise on this issue yet; the design label starts one."
