"""What the roles need from the model layer: one structured question, accounted to a scope."""

from __future__ import annotations

from typing import Protocol, TypeVar

from pydantic import BaseModel

from bot.llm.caller import Answer
from bot.llm.context import ContextPart
from bot.llm.usage import UsageScope

T = TypeVar("T", bound=BaseModel)


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
    ) -> Answer[T]:
        """Like `ask`; the answer's `.value` and its `.usage` (which model answered, cost)."""
        ...
