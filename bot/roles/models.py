"""What the roles need from the model layer: one structured question, accounted to a scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from bot.roles.context_budget import ContextPart

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class UsageScope:
    """Where a call's tokens and cost are counted (and its budget checked)."""

    installation_id: int
    repository: str
    workflow_id: int | None
    stage: str
    #: the workflow's budget (from .github/triad.yml); a call that would exceed it is not made
    budget_tokens: int | None = None
    budget_dollars: float | None = None
    #: per-repository model choices from .github/triad.yml: role -> {provider, model, ...}
    model_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class RoleModels(Protocol):
    async def ask(
        self,
        role: str,
        system: str,
        context: list[ContextPart],
        output: type[T],
        scope: UsageScope,
    ) -> T:
        """Ask `role`'s model; the context parts are passed as fenced, untrusted data."""
        ...

    async def ask_with_usage(
        self,
        role: str,
        system: str,
        context: list[ContextPart],
        output: type[T],
        scope: UsageScope,
    ) -> Any:
        """Like `ask`; the answer's `.value` and its `.usage` (which model answered, cost)."""
        ...
