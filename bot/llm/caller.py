"""One structured model call: fence, redact, reserve budget, retry, repair once, fall back."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from bot.errors import ModelError
from bot.llm.choice import ModelChoice
from bot.llm.context import ContextPart, estimate_tokens
from bot.llm.errors import ModelUnavailable, OutputInvalid, clip, sanitise
from bot.llm.fencing import system_prompt, user_message
from bot.llm.prices import PriceTable
from bot.llm.providers.base import Provider, ProviderFailure, RawReply, StructuredRequest
from bot.llm.retry import Exhausted, RetryPolicy, retrying
from bot.llm.schema import InvalidAnswer, description, json_schema, parse_answer, schema_name
from bot.llm.usage import Usage, total
from bot.redaction import Redactor

T = TypeVar("T", bound=BaseModel)
log = logging.getLogger(__name__)


class Outcome:
    """What became of one reply (or one model), as stored in `llm_usage.outcome`."""

    OK = "ok"
    REPAIRED = "repaired"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    BUDGET_EXCEEDED = "budget_exceeded"


@dataclass(frozen=True)
class Estimate:
    """The most a request can cost: its input, plus every output token it may use."""

    provider: str
    model: str
    input_tokens: int
    max_output_tokens: int
    cost: float
    #: how long a reservation of this estimate must hold: every attempt, and the waits between
    hold_seconds: float = 3600.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.max_output_tokens


class Ledger(Protocol):
    """Where a call's budget is held and its usage counted (the store, for `Models`)."""

    async def reserve(self, estimate: Estimate) -> None:
        """Hold `estimate` against the budget, or raise `BudgetExceeded` if it may not fit.

        The next `record` settles the reservation (replaces it by what was used).
        """
        ...

    async def record(self, usage: Usage, outcome: str) -> None: ...

    async def release(self) -> None:
        """Drop a reservation no `record` settled (the call was cancelled or crashed)."""
        ...


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    #: every reply of this call added up (a repair round, a fallback)
    usage: Usage
    replies: tuple[Usage, ...]


class ModelCaller:
    """Asks a chosen model for an instance of a pydantic model, over any provider."""

    def __init__(
        self,
        providers: Callable[[ModelChoice], Provider],
        *,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._providers = providers
        self._prices = prices or PriceTable()
        self._retry = retry or RetryPolicy()
        self._redactor = redactor or Redactor()
        self._clock = clock

    @property
    def redactor(self) -> Redactor:
        return self._redactor

    async def ask(
        self,
        choice: ModelChoice,
        system: str,
        context: list[ContextPart],
        output: type[T],
        *,
        ledger: Ledger | None = None,
        repository_choice: bool = False,
    ) -> Answer[T]:
        """The parsed answer; `OutputInvalid`, `ModelUnavailable` or `BudgetExceeded` if not.

        `repository_choice`: the repository's configuration chose `choice`, so a missing key
        is also something the repository can avoid. Every `ModelError` leaves redacted and
        bounded: stages post it in public comments.
        """
        try:
            return await self._ask_any(choice, system, context, output, ledger, repository_choice)
        except ModelError as error:
            sanitise(error, self._redactor)
            raise
        finally:
            if ledger is not None:
                await ledger.release()

    async def _ask_any(
        self,
        choice: ModelChoice,
        system: str,
        context: list[ContextPart],
        output: type[T],
        ledger: Ledger | None,
        repository_choice: bool,
    ) -> Answer[T]:
        """The main choice, then its fallback."""
        request = StructuredRequest(
            system=self._redactor.text(system_prompt(system)),
            messages=[{"role": "user", "content": self._redactor.text(user_message(context))}],
            schema_name=schema_name(output),
            schema=json_schema(output),
            description=description(output),
            max_output_tokens=choice.max_output_tokens,
            timeout_seconds=choice.timeout_seconds,
        )
        failures: list[str] = []
        #: per candidate tried, the key it lacked (None: it failed for another reason)
        lacked: list[str | None] = []
        for candidate in (choice, choice.fallback):
            if candidate is None:
                continue
            try:
                provider = self._providers(candidate)
            except ProviderFailure as failure:
                failures.append(f"{candidate.label()}: {self._echo(str(failure))}")
                lacked.append(failure.missing_key)
                continue
            try:
                return await self._ask(provider, candidate, request, output, ledger)
            except Exhausted as exhausted:
                failures.append(f"{candidate.label()}: {self._echo(exhausted.describe())}")
                lacked.append(exhausted.failure.missing_key)
                if ledger is not None:
                    await ledger.record(
                        _nothing(provider.name, candidate.model), Outcome.UNAVAILABLE
                    )
        if lacked and all(lacked):  # nothing was even called: no key for any candidate
            keys = [key for key in dict.fromkeys(lacked) if key]
            raise _no_key(choice, failures, keys, repository_choice)
        raise ModelUnavailable(
            "the model could not answer: " + "; ".join(failures) + ". Retry later, or choose"
            " another model in `.github/triad.yml`."
        )

    async def _ask(
        self,
        provider: Provider,
        choice: ModelChoice,
        request: StructuredRequest,
        output: type[T],
        ledger: Ledger | None,
    ) -> Answer[T]:
        request = replace(
            request,
            max_output_tokens=choice.max_output_tokens,
            timeout_seconds=choice.timeout_seconds,
        )
        messages = list(request.messages)
        replies: list[Usage] = []
        for repair_round in (False, True):
            current = replace(request, messages=self._redactor.scrub(messages))
            if ledger is not None:
                await ledger.reserve(self.estimate(provider.name, choice.model, current))
            attempt = functools.partial(self._timed, provider, current, choice.model)
            reply, latency_ms = await retrying(attempt, self._retry)
            usage = Usage(
                provider=provider.name,
                model=choice.model,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                cost=self._prices.cost(
                    choice.model, reply.input_tokens, reply.output_tokens, provider.name
                ),
                latency_ms=latency_ms,
                request_id=reply.request_id,
            )
            replies.append(usage)
            try:
                value = parse_answer(
                    reply.content,
                    output,
                    truncated=reply.truncated,
                    refusal=reply.refusal,
                    max_output_tokens=choice.max_output_tokens,
                )
            except InvalidAnswer as problem:
                if ledger is not None:
                    await ledger.record(usage, Outcome.INVALID)
                if repair_round:
                    raise OutputInvalid(
                        f"{choice.label()} twice gave an answer that does not fit"
                        f" {request.schema_name}: {self._echo(str(problem), 600)}"
                    ) from None
                messages += provider.repair_turns(reply, str(problem))
                continue
            if ledger is not None:
                await ledger.record(usage, Outcome.REPAIRED if repair_round else Outcome.OK)
            return Answer(value, total(replies), tuple(replies))
        raise AssertionError("unreachable: the repair round either returns or raises")

    async def _timed(
        self, provider: Provider, request: StructuredRequest, model: str
    ) -> tuple[RawReply, int]:
        """One attempt within a total deadline; any failure becomes a `ProviderFailure`.

        The SDKs' timeouts bound each read, not the whole answer: a body trickling in would
        hold the worker forever. Anything else that escapes an adapter (an SDK surprised by a
        body) is a retryable failure too, so the job is never lost to an AttributeError.
        """
        started = self._clock()
        try:
            async with asyncio.timeout(request.timeout_seconds):
                reply = await provider.complete(request, model)
        except TimeoutError:
            raise ProviderFailure(
                f"no complete answer within {request.timeout_seconds:g}s", retryable=True
            ) from None
        except ProviderFailure:
            raise
        except Exception as exc:
            log.warning("unexpected failure in a model adapter", exc_info=True)
            raise ProviderFailure(
                f"malformed answer: {type(exc).__name__}: {clip(str(exc))}", retryable=True
            ) from None
        return reply, round((self._clock() - started) * 1000)

    def estimate(self, provider: str, model: str, request: StructuredRequest) -> Estimate:
        sent = request.system + json.dumps(request.messages) + json.dumps(request.schema)
        input_tokens = estimate_tokens(sent)
        cost = self._prices.cost(model, input_tokens, request.max_output_tokens, provider)
        policy = self._retry
        hold = (
            policy.attempts * request.timeout_seconds
            + (policy.attempts - 1) * max(policy.max_delay, policy.max_retry_after)
            + 60
        )
        return Estimate(provider, model, input_tokens, request.max_output_tokens, cost, hold)

    def _echo(self, text: str, limit: int = 300) -> str:
        """Text from a provider or a model, redacted and cut before it joins a message."""
        return clip(text, limit, self._redactor)


def _no_key(
    choice: ModelChoice, failures: list[str], keys: list[str], repository_choice: bool
) -> ModelUnavailable:
    """Who can fix a model that lacks its key: the operator, or the repository that chose it."""
    named = " and ".join(f"`{key}`" for key in keys)
    said = "the model could not be called: " + "; ".join(failures) + "."
    if repository_choice:
        return ModelUnavailable(
            f"{said} `.github/triad.yml` chooses {choice.label()} here, and this Triad "
            "installation holds no key for it: choose a model there whose provider it has a "
            f"key for, or ask its operator to set {named} and restart it."
        )
    return ModelUnavailable(
        f"{said} The operator of this Triad installation must set {named} and restart it "
        "(the repository's configuration cannot fix this)."
    )


def _nothing(provider: str, model: str) -> Usage:
    return Usage(provider, model, 0, 0, 0.0, 0, None)
