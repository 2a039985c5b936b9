"""What a call is given: context parts (fenced as data), and the token estimate budgets use."""

from __future__ import annotations

from dataclasses import dataclass

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A cheap, provider-neutral estimate (about four characters a token)."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class ContextPart:
    """One piece of context; parts are kept in priority order until the budget is spent."""

    label: str
    text: str
    #: may be cut short rather than dropped
    truncatable: bool = True
