"""What can happen to a workflow, already interpreted: labels and comments become intents.

Handlers build these from webhook deliveries and stage results (resolving the actor's
permission and the design comment's current hash first), so the engine needs no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.workflow.commands import Command
from bot.workflow.model import Actor


@dataclass(frozen=True)
class DesignRequested:
    """The design label was added to the issue."""

    actor: Actor
    source: str


@dataclass(frozen=True)
class ApprovalRequested:
    """The approval label was added; `current_hash` is the design comment's hash now."""

    actor: Actor
    source: str
    current_hash: str | None


@dataclass(frozen=True)
class CommandIssued:
    actor: Actor
    source: str
    command: Command


@dataclass(frozen=True)
class DesignPublished:
    """The architect posted design `version`; its comment's content hash is `content_hash`."""

    version: int
    comment_id: int
    content_hash: str
    has_questions: bool


@dataclass(frozen=True)
class StageFailed:
    """A stage could not finish (model unavailable, output never fit, budget spent)."""

    stage: str
    reason: str


Event = DesignRequested | ApprovalRequested | CommandIssued | DesignPublished | StageFailed
