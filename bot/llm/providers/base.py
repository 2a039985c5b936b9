"""The provider contract: one request in, one raw reply (or a classified failure) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Message = dict[str, Any]


@dataclass(frozen=True)
class StructuredRequest:
    """A provider-neutral request for one answer that must fit `schema`."""

    system: str
    messages: list[Message]
    #: the output model's name: the forced tool's name, or the json_schema's name
    schema_name: str
    schema: dict[str, Any]
    description: str
    max_output_tokens: int
    timeout_seconds: float
    #: sent as a header so a fake server can script per role; real APIs ignore it
    role: str = ""


@dataclass(frozen=True)
class RawReply:
    #: a tool call's arguments (already an object), or text that should hold JSON
    content: dict[str, Any] | str | None
    #: the answer hit the output token limit
    truncated: bool
    input_tokens: int
    output_tokens: int
    request_id: str | None
    refusal: str | None = None
    #: provider-specific data needed to continue the conversation (e.g. a tool_use id)
    extra: dict[str, Any] = field(default_factory=dict)


class ProviderFailure(Exception):
    """A failed request, classified: may it be retried, and after how long."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class Provider(Protocol):
    name: str

    async def complete(self, request: StructuredRequest, model: str) -> RawReply:
        """Ask `model` once; raise `ProviderFailure` for any failure."""
        ...

    def repair_turns(self, reply: RawReply, problem: str) -> list[Message]:
        """The turns that show the model its last answer and what was wrong with it."""
        ...

    async def aclose(self) -> None: ...


RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds only; dates are ignored)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None
