"""The workflow budget rule: a call that could take spending past the limit is not made."""

from __future__ import annotations

from bot.llm.errors import BudgetExceeded


def check_budget(  # noqa: PLR0913 (keyword-only: spent, next, limit and held, each in tokens and dollars)
    *,
    spent_tokens: int,
    spent_dollars: float,
    next_tokens: int,
    next_dollars: float,
    limit_tokens: int | None,
    limit_dollars: float | None,
    held_tokens: int = 0,
    held_dollars: float = 0.0,
    what: str = "the next model call",
) -> None:
    """Raise `BudgetExceeded` (saying spent / limit) when the next call might not fit.

    `held_*` is what calls still in flight may use: counted, so concurrent calls cannot
    together pass the limit.
    """
    if limit_tokens is not None and spent_tokens + held_tokens + next_tokens > limit_tokens:
        held = f" ({held_tokens:,} more held by calls in progress)" if held_tokens else ""
        raise BudgetExceeded(
            f"the workflow's model budget is used up: {spent_tokens:,} of {limit_tokens:,}"
            f" tokens spent{held}, and {what} could use up to {next_tokens:,} more."
            " Raise `budget.tokens` in .github/triad.yml to go on."
        )
    if limit_dollars is not None and spent_dollars + held_dollars + next_dollars > limit_dollars:
        held = f" (${held_dollars:.2f} more held by calls in progress)" if held_dollars else ""
        raise BudgetExceeded(
            f"the workflow's model budget is used up: ${spent_dollars:.2f} of"
            f" ${limit_dollars:.2f} spent{held}, and {what} could cost up to"
            f" ${next_dollars:.2f} more. Raise `budget.dollars` in .github/triad.yml to go on."
        )
