"""The commits Triad made, by workflow round: only these count as Triad's work on a branch.

A commit message is no proof of authorship (anyone who can push may write `Triad-Round: 1`),
so a retried round goes on from a commit only when its SHA is recorded here, written before
the branch is moved to it.
"""

from __future__ import annotations

from bot.store.base import Store


class CommitLog:
    """The `triad_commits` table on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(
        self, repository: str, issue_number: int, round_: int, sha: str, branch: str
    ) -> None:
        now = self.store.clock()
        await self.store.run(
            lambda tx: tx.execute(
                "INSERT INTO triad_commits (repository, issue_number, round, sha, branch,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (repository, issue_number, round_, sha, branch, now),
            )
        )

    async def round_of(self, repository: str, issue_number: int, sha: str) -> int | None:
        """The round Triad made `sha` for on this issue, or None when Triad did not make it."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT round FROM triad_commits WHERE repository = ? AND issue_number = ?"
                " AND sha = ?",
                (repository, issue_number, sha),
            )
        )
        return int(row["round"]) if row else None
