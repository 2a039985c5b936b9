"""The model layer a runtime uses: `Models.ask` with per-purpose choices, budgets and usage.

A purpose is a key of the operator's model choices (e.g. "architect", "reviewer_b"): it picks
the model and labels the usage rows, nothing more. Without API keys Triad cannot call
Anthropic or OpenAI; give `build_models` the base URL of the fake model server
(`triad_lab.simulator.model_server`) instead, as the demo and tests do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel

from bot.llm.budget import DailyCaps, check_budget, check_daily
from bot.llm.caller import Answer, Estimate, ModelCaller, Outcome
from bot.llm.choice import (
    DEFAULT_CHOICES,
    Endpoint,
    ModelChoice,
    resolve_choice,
    trusted_endpoints,
)
from bot.llm.config import key_variables
from bot.llm.context import ContextPart
from bot.llm.errors import BudgetExceeded, InvalidModelChoice, sanitise
from bot.llm.pool import Endpoints, ProviderPool
from bot.llm.prices import PriceTable
from bot.llm.retry import RetryPolicy
from bot.llm.usage import Usage, UsageScope
from bot.redaction import Redactor
from bot.settings import Settings
from bot.store import Store
from bot.store.usage import Committed, UsageRecord, UsageStore

T = TypeVar("T", bound=BaseModel)
log = logging.getLogger(__name__)

#: told of each model call that was made: (role, provider, outcome, latency in ms)
CallObserver = Callable[[str, str, str, int], None]


class ScopeLedger:
    """Holds a scope's budget for each call, and records usage.

    For a workflow in the store, each call reserves its estimate in one transaction that also
    sums what the workflow spent and what its other calls in flight hold, so concurrent calls
    (the two reviewers, several workers) cannot together pass the limit. A scope without a
    workflow is checked against what this one ask spent. The call's purpose is what usage rows
    and logs call its `role`.
    """

    def __init__(
        self,
        usage: UsageStore | None,
        scope: UsageScope,
        purpose: str,
        observe: CallObserver | None = None,
        daily: DailyCaps | None = None,
    ) -> None:
        self._usage = usage
        self._daily = daily or DailyCaps()
        self._observe = observe
        self._scope = scope
        self._purpose = purpose
        #: spent in this ask, for a scope without a workflow (whose rows cannot be summed)
        self._tokens = 0
        self._dollars = 0.0
        #: the reservation the next `record` settles
        self._reservation: int | None = None

    async def reserve(self, estimate: Estimate) -> None:
        scope, daily = self._scope, self._daily
        if scope.budget_tokens is None and scope.budget_dollars is None and not daily.any:
            return
        what = f"the next {self._purpose} call ({estimate.provider}/{estimate.model})"

        def check(spent_tokens: int, spent_dollars: float, held: int, held_cost: float) -> None:
            check_budget(
                spent_tokens=spent_tokens,
                spent_dollars=spent_dollars,
                held_tokens=held,
                held_dollars=held_cost,
                next_tokens=estimate.tokens,
                next_dollars=estimate.cost,
                limit_tokens=scope.budget_tokens,
                limit_dollars=scope.budget_dollars,
                what=what,
            )

        def check_all(at: Committed) -> None:
            check(at.spent.tokens, at.spent.cost, at.held_tokens, at.held_cost)
            if daily.any:
                check_daily(
                    installation_today=at.installation_today,
                    everyone_today=at.everyone_today,
                    next_dollars=estimate.cost,
                    caps=daily,
                )

        try:
            if self._usage is not None and scope.workflow_id is not None:
                self._reservation = await self._usage.reserve(
                    scope.workflow_id,
                    self._purpose,
                    estimate.tokens,
                    estimate.cost,
                    estimate.hold_seconds,
                    check_all,
                    installation_id=scope.installation_id,
                    daily=daily.any,
                )
            else:
                check(self._tokens, self._dollars, 0, 0.0)
        except BudgetExceeded:
            nothing = Usage(estimate.provider, estimate.model, 0, 0, 0.0, 0, None)
            await self.record(nothing, Outcome.BUDGET_EXCEEDED)
            raise

    async def release(self) -> None:
        reservation, self._reservation = self._reservation, None
        if reservation is not None and self._usage is not None:
            await self._usage.release(reservation)

    async def record(self, usage: Usage, outcome: str) -> None:
        self._tokens += usage.tokens
        self._dollars += usage.cost
        log.info(
            "model call",
            extra={
                "role": self._purpose,
                "stage": self._scope.stage,
                "model": f"{usage.provider}/{usage.model}",
                "outcome": outcome,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost": round(usage.cost, 6),
                "latency_ms": usage.latency_ms,
            },
        )
        if self._observe is not None and outcome != Outcome.BUDGET_EXCEEDED:
            self._observe(self._purpose, usage.provider, outcome, usage.latency_ms)
        if self._usage is None:
            return
        scope = self._scope
        await self._usage.record(
            UsageRecord(
                installation_id=scope.installation_id,
                repository=scope.repository,
                workflow_id=scope.workflow_id,
                stage=scope.stage,
                role=self._purpose,
                provider=usage.provider,
                model=usage.model,
                request_id=usage.request_id,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost=usage.cost,
                latency_ms=usage.latency_ms,
                outcome=outcome,
            ),
            settles=self._reservation,
        )
        self._reservation = None  # only now: if storing failed, `release` still drops it


class Models:
    """Structured calls by purpose: the purpose's model (or the scope's override of it), the
    scope's budget held for each call, and its usage stored."""

    def __init__(
        self,
        caller: ModelCaller,
        usage: UsageStore | None = None,
        *,
        defaults: Mapping[str, ModelChoice] = DEFAULT_CHOICES,
        trusted: Mapping[Endpoint, str | None] | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        observe: CallObserver | None = None,
        daily: DailyCaps | None = None,
        allowed: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._caller = caller
        #: the operator's daily spend caps, checked with every reservation
        self._daily = daily or DailyCaps()
        #: the models a repository may pick, per purpose (absent: any on a trusted endpoint)
        self._allowed = dict(allowed or {})
        self._observe = observe
        self._usage = usage
        self._defaults = defaults
        self._trusted = trusted or {}
        self._on_close = on_close

    def providers(self) -> set[str]:
        """The providers the operator's choices (and their fallbacks) call."""
        return {
            each.provider
            for choice in self._defaults.values()
            for each in (choice, choice.fallback)
            if each is not None
        }

    def choice(self, purpose: str, scope: UsageScope) -> ModelChoice:
        """The model `purpose` uses in `scope` (raises `InvalidModelChoice` for a bad override)."""
        try:
            return resolve_choice(
                purpose, scope.model_overrides, self._defaults, self._trusted, self._allowed
            )
        except InvalidModelChoice as error:  # it echoes the repository's file: keep it short
            raise sanitise(error, self._caller.redactor) from None

    async def ask(
        self,
        purpose: str,
        system: str,
        context: list[ContextPart],
        output: type[T],
        scope: UsageScope,
    ) -> T:
        """An instance of `output` from `purpose`'s model; the context goes as fenced data."""
        return (await self.ask_with_usage(purpose, system, context, output, scope)).value

    async def ask_with_usage(
        self,
        purpose: str,
        system: str,
        context: list[ContextPart],
        output: type[T],
        scope: UsageScope,
    ) -> Answer[T]:
        """Like `ask`, with the usage of the call."""
        choice = self.choice(purpose, scope)
        ledger = ScopeLedger(self._usage, scope, purpose, self._observe, self._daily)
        return await self._caller.ask(
            choice,
            system,
            context,
            output,
            ledger=ledger,
            repository_choice=purpose in scope.model_overrides,
        )

    async def aclose(self) -> None:
        if self._on_close is not None:
            await self._on_close()


def build_models(  # noqa: PLR0913 (the composition root: keyword-only parts, each optional)
    settings: Settings,
    store: Store | None,
    *,
    anthropic_base_url: str | None = None,
    openai_base_url: str | None = None,
    choices: Mapping[str, ModelChoice] | None = None,
    trusted: Mapping[Endpoint, str | None] | None = None,
    prices: PriceTable | None = None,
    retry: RetryPolicy | None = None,
    environ: Mapping[str, str] | None = None,
    observe: CallObserver | None = None,
    redactor: Redactor | None = None,
    allowed: Mapping[str, Sequence[str]] | None = None,
) -> Models:
    """The model layer a runtime uses.

    Keys come from ANTHROPIC_API_KEY and OPENAI_API_KEY, and from the variables the models
    file names, looked up in `environ` (default: the process environment over `.env`). A base
    URL given here replaces the provider's own (a proxy, or the fake model server); with
    neither a key nor a base URL, a call to that provider fails with a `ModelUnavailable` that
    names the missing variable.
    `choices`, `trusted` and `prices` come from the operator's models file (`bot.llm.config`).
    """
    environ = settings.environment() if environ is None else environ
    choices = dict(choices or DEFAULT_CHOICES)
    trusted = {**trusted_endpoints(choices), **(trusted or {})}
    anthropic_key = _secret(settings.anthropic_api_key)
    openai_key = _secret(settings.openai_api_key)
    pool = ProviderPool(
        Endpoints(anthropic_key, openai_key, anthropic_base_url, openai_base_url), environ
    )
    for provider, key, url in (
        ("anthropic", anthropic_key, anthropic_base_url),
        ("openai", openai_key, openai_base_url),
    ):
        if not key and not url and any(c.provider == provider for c in choices.values()):
            log.warning("no API key for a model provider", extra={"provider": provider})
    if redactor is None:
        named_keys = [environ.get(env, "") for env in key_variables(choices, trusted)]
        secrets = [*settings.secret_values(), *named_keys]
        redactor = Redactor(secrets)
    caller = ModelCaller(pool, prices=prices, retry=retry, redactor=redactor)
    usage = UsageStore(store) if store is not None else None
    daily = DailyCaps(
        settings.installation_daily_dollars or None, settings.global_daily_dollars or None
    )
    return Models(
        caller,
        usage,
        defaults=choices,
        trusted=trusted,
        on_close=pool.aclose,
        observe=observe,
        daily=daily,
        allowed=allowed,
    )


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None
