"""The budget rules: a call that could take spending past a limit is not made — the workflow's
budget, and the operator's daily caps per installation and in all."""

from __future__ import annotations

from dataclasses import dataclass

from bot.llm.errors import BudgetExceeded


@dataclass(frozen=True)
class DailyCaps:
    """Dollars model calls may cost per UTC day: per installation and in all (None: no cap)."""

    installation: float | None = None
    everyone: float | None = None

    @property
    def any(self) -> bool:
        return self.installation is not None or self.everyone is not None


def check_daily(
    *, installation_today: float, everyone_today: float, next_dollars: float, caps: DailyCaps
) -> None:
    """Raise `BudgetExceeded` when the next call might pass a daily cap (what calls in flight
    hold is counted in the spend)."""
    for spent, cap, whose, setting in (
        (installation_today, caps.installation, "this installation's", "INSTALLATION"),
        (everyone_today, caps.everyone, "this Triad's", "GLOBAL"),
    ):
        if cap is not None and spent + next_dollars > cap:
            raise BudgetExceeded(
                f"{whose} daily model spend cap is reached: ${spent:.2f} of ${cap:.2f} spent or"
                f" held today (UTC), and the next call could cost up to ${next_dollars:.2f}. It"
                f" resets at midnight UTC; the operator sets it in TRIAD_{setting}_DAILY_DOLLARS."
            )


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
