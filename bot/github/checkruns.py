"""Triad's own check run on a commit, named so branch protection can require it.

Found again by its name and Triad's App on the commit, so a retried job updates the run it
created instead of adding a second one; a creation GitHub answered 5xx is looked for (name,
commit, external id) before it is sent again. A new review round on a commit whose run is finished
starts a new run (GitHub shows the latest run of a name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.github.repo import Repo
from bot.github.writes import write_once

if TYPE_CHECKING:
    from githubkit_schemas.latest.models import CheckRun
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoCheckRunsCheckRunIdPatchBodyPropActionsItemsType as UpdatedButton,
    )
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoCheckRunsCheckRunIdPatchBodyPropOutputType as UpdatedOutput,
    )
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoCheckRunsPostBodyPropActionsItemsType as Button,
    )
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoCheckRunsPostBodyPropOutputType as Output,
    )

Conclusion = Literal["action_required", "cancelled", "failure", "neutral", "success"]
CONCLUSIONS: dict[str, Conclusion] = {
    "action_required": "action_required",
    "cancelled": "cancelled",
    "failure": "failure",
    "neutral": "neutral",
    "success": "success",
}

#: the check's name: what a branch protection rule requires ("Triad")
CHECK_NAME = "Triad"
#: GitHub's limit on a check run's summary and text, in UTF-8 bytes ("maximum bytesize")
MAX_OUTPUT = 65_535
#: identifier → (label, description) of each button; GitHub allows 20 and 40 characters
BUTTONS = {
    "accept": ("Accept as is", "Accept the change as it is"),
    "send-back": ("Send back", "Send it back to the developer"),
}


@dataclass(frozen=True)
class TriadRun:
    id: int
    head_sha: str
    status: str
    conclusion: str | None
    summary: str
    external_id: str


def own_slug(repo: Repo) -> str | None:
    """Triad's App slug, from its bot login ("triad[bot]" → "triad")."""
    if repo.me and repo.me.endswith("[bot]"):
        return repo.me.removesuffix("[bot]")
    return None


def _mine(repo: Repo, run: CheckRun) -> bool:
    return run.app is not None and run.app.slug == own_slug(repo)


def _run(run: CheckRun) -> TriadRun:
    return TriadRun(
        run.id,
        run.head_sha,
        run.status,
        run.conclusion,
        run.output.summary or "",
        run.external_id or "",
    )


async def latest(repo: Repo, head_sha: str) -> TriadRun | None:
    """Triad's newest check run on `head_sha`, if it made one."""
    listed = await repo.github.rest.checks.async_list_for_ref(
        repo.owner, repo.name, head_sha, check_name=CHECK_NAME, filter_="all", per_page=100
    )
    runs = [_run(run) for run in listed.parsed_data.check_runs if _mine(repo, run)]
    return max(runs, key=lambda run: run.id, default=None)


async def in_suite(repo: Repo, suite_id: int) -> list[TriadRun]:
    """Triad's check runs in a check suite (a re-run of the whole suite names only it)."""
    listed = await repo.github.rest.checks.async_list_for_suite(
        repo.owner, repo.name, suite_id, check_name=CHECK_NAME, per_page=100
    )
    return [_run(run) for run in listed.parsed_data.check_runs if _mine(repo, run)]


async def set_check_run(  # noqa: PLR0913 - the check run's fields, all keyword-only
    repo: Repo,
    head_sha: str,
    external_id: str,
    *,
    title: str,
    summary: str,
    conclusion: str | None = None,
    text: str = "",
    buttons: Sequence[str] = (),
    keep_summary: bool = False,
) -> int:
    """Show `title` and `summary` on Triad's check run of `head_sha`: in progress while
    `conclusion` is None, else completed with it. Returns the run's id."""
    existing = await latest(repo, head_sha)
    if keep_summary and existing is not None and existing.summary:
        summary = _above(summary, existing.summary)
    output: Output = {"title": title[:255], "summary": _clip(summary)}
    if text:
        output["text"] = _clip(text)
    actions: list[Button] = [
        {"label": BUTTONS[b][0], "description": BUTTONS[b][1], "identifier": b}
        for b in buttons
        if b in BUTTONS
    ]
    checks = repo.github.rest.checks
    owner, name = repo.owner, repo.name
    if existing is None or (conclusion is None and existing.status == "completed"):

        async def create() -> int:
            if conclusion is None:
                created = await checks.async_create(
                    owner,
                    name,
                    name=CHECK_NAME,
                    head_sha=head_sha,
                    external_id=external_id,
                    status="in_progress",
                    output=output,
                    actions=actions,
                )
            else:
                created = await checks.async_create(
                    owner,
                    name,
                    name=CHECK_NAME,
                    head_sha=head_sha,
                    external_id=external_id,
                    conclusion=CONCLUSIONS[conclusion],
                    output=output,
                    actions=actions,
                )
            return created.parsed_data.id

        async def landed() -> int | None:
            # GitHub may have created it and answered 5xx: a newer run of ours, for the same
            # workflow, on this commit is the one (never the finished run it replaces)
            found = await latest(repo, head_sha)
            newer = found is not None and (existing is None or found.id > existing.id)
            return found.id if found and newer and found.external_id == external_id else None

        return await write_once(
            create, landed, what=f"check run on {head_sha[:7]}", delay=repo.retry_delay
        )
    # the same output and buttons, in the shapes the update endpoint's types name
    updated: UpdatedOutput = {"title": output["title"], "summary": output["summary"]}
    if text:
        updated["text"] = output.get("text", "")
    kept: list[UpdatedButton] = [
        {"label": b["label"], "description": b["description"], "identifier": b["identifier"]}
        for b in actions
    ]
    if conclusion is None:
        await checks.async_update(
            owner,
            name,
            existing.id,
            external_id=external_id,
            status="in_progress",
            output=updated,
            actions=kept,
        )
    else:
        await checks.async_update(
            owner,
            name,
            existing.id,
            external_id=external_id,
            conclusion=CONCLUSIONS[conclusion],
            output=updated,
            actions=kept,
        )
    return existing.id


def _above(summary: str, earlier: str) -> str:
    """`summary` over what the run showed (once: a retried update does not stack it)."""
    if earlier.startswith(summary):
        return earlier
    return f"{summary}\n\n---\n\n{earlier}"


def _clip(text: str) -> str:
    """`text` within GitHub's limit, counted in UTF-8 bytes (a character may take four)."""
    data = text.encode()
    if len(data) <= MAX_OUTPUT:
        return text
    cut = "\n\n… (cut to GitHub's limit)"
    room = MAX_OUTPUT - len(cut.encode())
    return data[:room].decode(errors="ignore") + cut  # a character cut in two is dropped
