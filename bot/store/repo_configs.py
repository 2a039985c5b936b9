"""Each repository's `.github/triad.yml` as read at its default branch's commit, and what the
webhook door may learn of a repository from the store in one indexed read.

The cache spares jobs and the door a GitHub request per delivery; it is refreshed when a push
to the default branch changes the file (`bot.routing.push`) and read again when older than
`MAX_AGE` (a push Triad never received must not pin an old config for ever).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bot.store.base import Row, Store, Transaction
from bot.store.models import JobState
from bot.workflow.jobs import JobKind

#: how long a cached config is trusted without a push saying it changed
MAX_AGE = 3600.0


@dataclass(frozen=True)
class CachedConfig:
    """`.github/triad.yml` at `commit` of the default branch (`text` None: no such file);
    `read_at` is when the read began."""

    repository: str
    commit: str
    text: str | None
    read_at: float


@dataclass(frozen=True)
class StoreFacts:
    """What the store knows of a repository for the door, as of one read."""

    #: the cached config, when there is one young enough to trust
    config: CachedConfig | None
    #: whether a workflow exists for the number asked about (None: not asked)
    workflow: bool | None
    #: a delivery of the repository still waits for its job: it may create a workflow or
    #: change the config, so what the store says now may be about to change
    pending: bool


class ConfigCache:
    """The `repo_configs` table on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, repository: str) -> CachedConfig | None:
        """The cached config when it is younger than `MAX_AGE` and no push of the repository
        waits for its job (it may change the file: the caller reads it from GitHub), else None."""
        row = await self.store.run(lambda tx: tx.fetchone(_CURRENT, (repository, repository)))
        if row is None or row["pushed"]:
            return None
        return _young(repository, row, self.store.clock())

    async def stored(self, repository: str) -> CachedConfig | None:
        """The cached row whatever its age (what the door may have decided on)."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT commit_sha, text, read_at FROM repo_configs WHERE repository = ?",
                (repository,),
            )
        )
        if row is None:
            return None
        return CachedConfig(repository, str(row["commit_sha"]), row["text"], float(row["read_at"]))

    async def put(self, cached: CachedConfig) -> bool:
        """Keep `cached` unless a read that began later is already stored; True if kept."""

        def operation(tx: Transaction) -> bool:
            return bool(
                tx.execute(
                    "INSERT INTO repo_configs (repository, commit_sha, text, read_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (repository) DO UPDATE SET"
                    " commit_sha = excluded.commit_sha, text = excluded.text,"
                    " read_at = excluded.read_at WHERE repo_configs.read_at < excluded.read_at",
                    (cached.repository, cached.commit, cached.text, cached.read_at),
                )
            )

        return await self.store.run(operation)

    async def forget(self, repository: str) -> None:
        await self.store.run(
            lambda tx: tx.execute("DELETE FROM repo_configs WHERE repository = ?", (repository,))
        )


def _pending(repository_column: str) -> str:
    """Whether a delivery job of the repository (`j.repository = <repository_column>`, a
    column or a placeholder, never a value) is queued or running: one probe of the partial
    index `jobs_pending_deliveries` (its predicate is spelt out, not bound, so both databases
    see the query implies it)."""
    return (
        f"SELECT 1 FROM jobs j WHERE j.repository = {repository_column}"
        f" AND j.kind = '{JobKind.DELIVERY.value}'"
        f" AND j.state IN ('{JobState.QUEUED.value}', '{JobState.RUNNING.value}')"
    )


@cache
def facts_query(questions: int) -> str:
    """One statement for `questions` (repository, number) pairs: for each, the config row by
    its key, a workflow by its unique key, and whether a delivery of the repository waits for
    its job. Each is a probe per pair: a scalar subquery with LIMIT 1, where an EXISTS would
    let PostgreSQL hash every pending job instead (1.7 ms a batch with 6,500 queued). Planned
    each time it runs: a plan kept from when `repo_configs` was empty would scan it in every
    batch, and each batch size is a statement of its own (never a pile of prepared ones)."""
    asked = ", ".join(["(?, ?, ?)"] * questions)
    return (
        f"WITH asked (question, repository, number) AS (VALUES {asked})"
        " SELECT a.question, c.commit_sha, c.text, c.read_at,"
        " (SELECT 1 FROM workflows w WHERE w.repository = a.repository"
        " AND w.issue_number = a.number LIMIT 1) IS NOT NULL AS workflow,"
        f" ({_pending('a.repository')} LIMIT 1) IS NOT NULL AS pending"
        " FROM asked a LEFT JOIN repo_configs c ON c.repository = a.repository"
    )


#: the cached row, and whether a push delivery of the repository waits for its job (its
#: delivery by its key: `delivery:<id>` is the delivery job's idempotency key)
_CURRENT = (
    "SELECT c.commit_sha, c.text, c.read_at,"
    f" EXISTS ({_pending('?')} AND EXISTS (SELECT 1 FROM deliveries d"
    " WHERE d.id = substr(j.idempotency_key, 10) AND d.event = 'push')) AS pushed"
    " FROM repo_configs c WHERE c.repository = ?"
)

#: a question the door asks the store: a repository, and the workflow number it is about
Question = tuple[str, int | None]


def door_facts(tx: Transaction, repository: str, number: int | None, now: float) -> StoreFacts:
    """What the store knows of `repository` (and of the workflow `number`), in one read inside
    the caller's transaction (the webhook's admitting one)."""
    return door_facts_of(tx, [(repository, number)], now)[repository, number]


def door_facts_of(
    tx: Transaction, questions: list[Question], now: float
) -> dict[Question, StoreFacts]:
    """`door_facts` for each of `questions` (no two alike), in one read: a batch of deliveries
    asks in one statement, not one per repository and number."""
    if not questions:
        return {}
    params = [
        value
        for index, (repository, number) in enumerate(questions)
        for value in (index, repository, -1 if number is None else number)  # no issue is -1
    ]
    answers = tx.fetchall(facts_query(len(questions)), params, planned_each_time=True)
    rows = {int(row["question"]): row for row in answers}
    known: dict[Question, StoreFacts] = {}
    for index, (repository, number) in enumerate(questions):
        row = rows[index]
        config = _young(repository, row if row["commit_sha"] is not None else None, now)
        known[repository, number] = StoreFacts(
            config=config,
            workflow=None if number is None else bool(row["workflow"]),
            pending=bool(row["pending"]),
        )
    return known


def _young(repository: str, row: Row | None, now: float) -> CachedConfig | None:
    if row is None or now - float(row["read_at"]) >= MAX_AGE:
        return None
    return CachedConfig(repository, str(row["commit_sha"]), row["text"], float(row["read_at"]))
