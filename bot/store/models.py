"""Plain records the store reads and writes: deliveries and jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DeliveryOutcome(StrEnum):
    """What the webhook endpoint decided about a delivery."""

    QUEUED = "queued"
    IGNORED = "ignored"
    PING = "ping"
    #: a byte-identical copy of an earlier delivery's body under a new delivery id (a replay)
    DUPLICATE = "duplicate"
    #: validly signed, but Triad's models of the event cannot read it (kept to replay later)
    UNREADABLE = "unreadable"


class JobState(StrEnum):
    """A job's life: queued → running → done, or back to queued to retry, or dead."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as GitHub sent it, keyed by its X-GitHub-Delivery id."""

    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    sender: str | None
    outcome: DeliveryOutcome
    body: bytes
    received_at: float = 0.0
    #: when the retention rule emptied `body` (the record itself is kept)
    body_pruned_at: float | None = None
    #: sha256 of the body as received: the same body under a new delivery id is a replay
    body_hash: str | None = None
    #: why it was not acted on (ignored, unreadable, a replay)
    reason: str | None = None


@dataclass(frozen=True)
class NewJob:
    """A unit of work to enqueue; a second job with the same idempotency key is dropped."""

    kind: str
    idempotency_key: str
    payload: dict[str, Any] = field(default_factory=dict)
    max_attempts: int | None = None
    delay_seconds: float = 0.0
    #: a delivery job's repository (the door asks what is pending per repository)
    repository: str | None = None


@dataclass(frozen=True)
class Job:
    """A job as stored; `attempts` counts claims, including the one in progress."""

    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    state: JobState
    attempts: int
    max_attempts: int
    run_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    last_error: str | None
    created_at: float
    finished_at: float | None
    #: when and how its death was last reported (see `told`)
    reported_at: float | None = None
    reported_how: str | None = None

    @property
    def told(self) -> str | None:
        """For a dead job, how a human was told of its death: `workflow` (needs-human and a
        comment), `comment` (on its delivery's issue), `log` (nobody on GitHub to tell), or
        `no` (not yet: the workers' sweep will); None for a job that is not dead."""
        if self.state is not JobState.DEAD:
            return None
        if self.reported_at is None or self.reported_at < (self.finished_at or 0.0):
            return "no"
        return self.reported_how or "workflow"
