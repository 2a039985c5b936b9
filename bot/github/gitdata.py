"""Commits through the Git Data API: blobs, a tree on a base commit, a commit, a ref.

Triad never force-pushes: a branch is created once and then only fast-forwarded. A commit
carries a `Triad-Round` trailer, so a retried job can tell that its commit already landed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.errors import GitHubNotFound, GitHubRefused
from bot.github.repo import Repo
from bot.github.writes import write_once

if TYPE_CHECKING:
    from githubkit_schemas.latest.types import (
        ReposOwnerRepoGitTreesPostBodyPropTreeItemsType as TreeEntry,
    )

FILE_MODE: Final = "100644"


class BranchMoved(Exception):
    """The branch changed under Triad (someone pushed); the job retries from the new head."""


@dataclass(frozen=True)
class HeadCommit:
    sha: str
    tree: str
    message: str
    #: when it was committed, as str(datetime) (comparable with other githubkit times)
    date: str


async def branch_head(repo: Repo, branch: str) -> HeadCommit | None:
    """The commit a branch points at, or None when the branch does not exist."""
    try:
        ref = await repo.github.rest.git.async_get_ref(repo.owner, repo.name, f"heads/{branch}")
    except GitHubNotFound:
        return None
    return await commit_at(repo, ref.parsed_data.object_.sha)


async def commit_at(repo: Repo, sha: str) -> HeadCommit:
    data = (await repo.github.rest.git.async_get_commit(repo.owner, repo.name, sha)).parsed_data
    return HeadCommit(data.sha, data.tree.sha, data.message, str(data.committer.date))


async def commit_files(
    repo: Repo, parent: HeadCommit, changes: Mapping[str, str | None], message: str
) -> str:
    """One commit on top of `parent` that writes (or, for None, deletes) the given files."""
    git = repo.github.rest.git
    entries: list[TreeEntry] = []
    for path, text in sorted(changes.items()):
        if text is None:
            entries.append({"path": path, "mode": FILE_MODE, "type": "blob", "sha": None})
            continue
        blob = await git.async_create_blob(repo.owner, repo.name, content=text, encoding="utf-8")
        entries.append(
            {"path": path, "mode": FILE_MODE, "type": "blob", "sha": blob.parsed_data.sha}
        )
    tree = await git.async_create_tree(repo.owner, repo.name, base_tree=parent.tree, tree=entries)
    commit = await git.async_create_commit(
        repo.owner, repo.name, message=message, tree=tree.parsed_data.sha, parents=[parent.sha]
    )
    return commit.parsed_data.sha


async def publish(repo: Repo, branch: str, sha: str, existed: bool) -> None:
    """Point `branch` at `sha`: create it, or fast-forward it (never forced). After an answer
    that leaves it unknown, the branch head tells whether it moved."""
    git = repo.github.rest.git

    async def write() -> bool:
        if existed:
            await git.async_update_ref(
                repo.owner, repo.name, f"heads/{branch}", sha=sha, force=False
            )
        else:
            await git.async_create_ref(repo.owner, repo.name, ref=f"refs/heads/{branch}", sha=sha)
        return True

    async def landed() -> bool | None:
        head = await branch_head(repo, branch)
        return True if head is not None and head.sha == sha else None

    try:
        await write_once(write, landed, what=f"branch {branch}", delay=repo.retry_delay)
    except GitHubRefused as exc:  # not a fast forward, or created meanwhile
        if await landed():  # an earlier try that failed to answer had moved it
            return
        raise BranchMoved(f"{branch} changed while Triad was committing") from exc


async def paths_at(repo: Repo, ref: str) -> list[str]:
    return [path for path, _ in await repo.tree(ref)]
