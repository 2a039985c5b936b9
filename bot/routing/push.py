"""Pushes to the default branch that change `.github/triad.yml`: the repository's cached config
is read again at the new head. Every other push (another branch, or no change to the file) is
dropped at the door.

CI's pushes and Triad's own merges count like anyone's: a merge may change the file too.
"""

from __future__ import annotations

from bot.github.events import PushEvent
from bot.repo_config import CONFIG_PATH
from bot.routing.intake import Intake
from bot.routing.router import NO_ACTION, Done, DoorFacts, Ignored, Router

router = Router()

#: GitHub lists at most this many commits in a push; a longer push may hide a change
MAX_LISTED_COMMITS = 2048


def _door(event: PushEvent, _facts: DoorFacts) -> Ignored | None:
    if event.repository is None or event.ref != f"refs/heads/{event.repository.default_branch}":
        return Ignored("a push to a branch other than the default branch", "not_default_branch")
    if event.deleted:
        return Ignored("the default branch was deleted", "not_default_branch")
    if not _may_change_config(event):
        return Ignored(f"the push does not change {CONFIG_PATH}", "config_unchanged")
    return None


def _may_change_config(event: PushEvent) -> bool:
    """Whether the push may have changed the file: it lists a commit that does, or its list
    cannot tell (a forced push, a push of no new commit that moved the branch, a list of
    commits or of a commit's paths GitHub cut short)."""
    commits = event.commits
    if event.forced or not commits or len(commits) >= MAX_LISTED_COMMITS:
        return True
    head = [event.head_commit] if event.head_commit is not None else []
    return any(commit.may_touch(CONFIG_PATH) for commit in [*commits, *head])


@router.register("push", NO_ACTION, PushEvent, door=_door, by_people=False)
async def pushed(_event: PushEvent, intake: Intake) -> Done:
    """Read the config again at the default branch's head (and keep it for the jobs)."""
    commit = await intake.refresh_config()
    return Done(f"{CONFIG_PATH} read again at {commit[:12]}")
