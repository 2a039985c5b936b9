"""Refusals said to people who may not act: one comment per person, issue and UTC day, and at
most `PER_PERSON_DAILY` per person and day across an installation.

Beyond that, refusals are counted here (and in the `triad_refusals` metric) and logged, so a
person without write access cannot make Triad post comments, or spend the installation's write
allowance, by repeating a command, on one issue or on fifty.
"""

from __future__ import annotations

from bot.store.base import Store, Transaction

DAY = 86400
#: refusal comments one person gets per UTC day on one installation, whatever the issues
PER_PERSON_DAILY = 3
#: the class half of PostgreSQL's two-key advisory lock that serialises one person's refusals
_LOCK_CLASS = 0x72656673  # "refs"


class RefusalLog:
    """The `refusals` table on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def note(
        self,
        repository: str,
        issue_number: int,
        login: str,
        source: str,
        *,
        installation_id: int | None = None,
    ) -> bool:
        """Count a refusal of `login` on the issue; True when it should be said: the first on
        the issue today while the person's daily refusals on the installation are not used up
        (and the same answer again when its job is retried)."""
        day = int(self.store.clock() // DAY)
        installation = installation_id or 0
        issue = (repository, issue_number, login, day)

        def operation(tx: Transaction) -> bool:
            self._lock(tx, login)
            row = tx.fetchone(
                "SELECT first_source, said FROM refusals WHERE repository = ?"
                " AND issue_number = ? AND login = ? AND day = ?",
                issue,
            )
            if row is not None:
                if row["first_source"] == source:
                    return bool(row["said"])
                tx.execute(
                    "UPDATE refusals SET attempts = attempts + 1 WHERE repository = ?"
                    " AND issue_number = ? AND login = ? AND day = ?",
                    issue,
                )
                return False
            told = tx.fetchone(
                "SELECT COUNT(*) AS n FROM refusals WHERE login = ? AND day = ?"
                " AND installation_id = ? AND said = 1",
                (login, day, installation),
            )
            said = told is None or int(told["n"]) < PER_PERSON_DAILY
            tx.execute(
                "INSERT INTO refusals (repository, issue_number, login, day, attempts,"
                " first_source, installation_id, said) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
                (*issue, source, installation, int(said)),
            )
            return said

        return await self.store.run(operation)

    def _lock(self, tx: Transaction, login: str) -> None:
        """PostgreSQL: one person's refusals are decided one at a time, so concurrent jobs
        cannot together pass the daily cap (SQLite's transactions are serial already)."""
        if self.store.dialect == "postgresql":
            tx.execute(
                "SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), hashtext(?))",
                (_LOCK_CLASS, login),
            )

    async def totals(self) -> tuple[int, int]:
        """(refusals said, refusals only counted) over all time."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT COALESCE(SUM(said), 0) AS said, COALESCE(SUM(attempts), 0) AS tried"
                " FROM refusals"
            )
        )
        said, tried = (int(row["said"]), int(row["tried"])) if row else (0, 0)
        return said, tried - said
