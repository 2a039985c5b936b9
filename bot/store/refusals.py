"""Refusals said to people who may not act: one comment per person, issue and UTC day.

The first refusal of the day is said on GitHub; later ones are counted here (and in the
`triad_refusals_total` metric) and logged, so a person without write access cannot make Triad
post comments, or spend the installation's write allowance, by repeating a command.
"""

from __future__ import annotations

from bot.store.base import Store, Transaction

DAY = 86400


class RefusalLog:
    """The `refusals` table on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def note(self, repository: str, issue_number: int, login: str, source: str) -> bool:
        """Count a refusal of `login` on the issue; True when it should be said (the first
        today, or the first one again when its job is retried)."""
        day = int(self.store.clock() // DAY)

        def operation(tx: Transaction) -> bool:
            row = tx.fetchone(
                "SELECT first_source FROM refusals WHERE repository = ? AND issue_number = ?"
                " AND login = ? AND day = ?",
                (repository, issue_number, login, day),
            )
            if row is None:
                tx.execute(
                    "INSERT INTO refusals (repository, issue_number, login, day, attempts,"
                    " first_source) VALUES (?, ?, ?, ?, 1, ?)",
                    (repository, issue_number, login, day, source),
                )
                return True
            if row["first_source"] == source:
                return True
            tx.execute(
                "UPDATE refusals SET attempts = attempts + 1 WHERE repository = ?"
                " AND issue_number = ? AND login = ? AND day = ?",
                (repository, issue_number, login, day),
            )
            return False

        return await self.store.run(operation)

    async def totals(self) -> tuple[int, int]:
        """(refusals said, refusals only counted) over all time."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT COUNT(*) AS said, COALESCE(SUM(attempts), 0) AS tried FROM refusals"
            )
        )
        said, tried = (int(row["said"]), int(row["tried"])) if row else (0, 0)
        return said, tried - said
