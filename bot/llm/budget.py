"""The workflow budget rule: a call that could take spending past the limit is not made."""

from __future__ import annotations

from bot.llm.errors import BudgetExceeded


def check_budget(
    *,
    spent_tokens: int,
    spent_dollars: float,
    next_tokens: int,
    next_dollars: float,
    limit_tokens: int | None,
    limit_dollars: float | None,
    what: str = "the next model call",
) -> None:
    """Raise `BudgetExceeded` (saying spent / limit) when the next call might not fit."""
    if limit_tokens is not None and spent_tokens + next_tokens > limit_tokens:
        raise BudgetExceeded(
            f"the workflow's model budget is used up: {spent_tokens:,} of {limit_tokens:,}"
            f" tokens spent, and {what} could use up to {next_tokens:,} more."
            " Raise `budget.tokens` in .github/triad.yml to go on."
        )
    if limit_dollars is not None and spent_dollars + next_dollars > limit_dollars:
        raise BudgetExceeded(
            f"the workflow's model budget is used up: ${spent_dollars:.2f} of"
            f" ${limit_dollars:.2f} spent, and {what} could cost up to ${next_dollars:.2f} more."
            " Raise `budget.dollars` in .github/triad.yml to go on."
        )
