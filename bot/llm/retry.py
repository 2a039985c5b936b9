"""Bounded retries with exponential backoff and full jitter, honouring `retry-after`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.llm.providers.base import ProviderFailure

R = TypeVar("R")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one model is asked before giving up on it.

    The SDKs' own retries are off, so this is the only retry loop and tests can drive it with
    a `sleep` that only records.
    """

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    #: a server asking for a longer pause than this is treated as unavailable right away
    max_retry_after: float = 120.0
    sleep: Sleep = asyncio.sleep
    random: Callable[[], float] = field(default=random.random)

    def delay(self, retry: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `retry` (1-based); None: do not retry."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return self.random() * ceiling


class Exhausted(Exception):
    """The last failure of a model after its retries, and how many attempts were made."""

    def __init__(self, failure: ProviderFailure, attempts: int) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.attempts = attempts

    def describe(self) -> str:
        tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
        return f"{self.failure} ({tries})"


async def retrying(operation: Callable[[], Awaitable[R]], policy: RetryPolicy) -> R:
    """Run `operation`, retrying transient provider failures; raise `Exhausted` at the end."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return await operation()
        except ProviderFailure as failure:
            wait = policy.delay(attempt, failure.retry_after) if failure.retryable else None
            if wait is None or attempt == policy.attempts:
                raise Exhausted(failure, attempt) from failure
            await policy.sleep(wait)
    raise AssertionError("unreachable: attempts must be at least 1")
