"""What one model reply used (tokens, dollars, time, who answered), and where it is counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


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
    #: per-repository model choices from .github/triad.yml: purpose -> {provider, model, ...}
    model_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    #: dollars, from the price table
    cost: float
    latency_ms: int
    request_id: str | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def total(usages: Sequence[Usage]) -> Usage:
    """The sum of several replies (a repair round, a fallback), named after the last one."""
    if not usages:
        raise ValueError("no usage to add up")
    last = usages[-1]
    return Usage(
        provider=last.provider,
        model=last.model,
        input_tokens=sum(u.input_tokens for u in usages),
        output_tokens=sum(u.output_tokens for u in usages),
        cost=sum(u.cost for u in usages),
        latency_ms=sum(u.latency_ms for u in usages),
        request_id=last.request_id,
    )
