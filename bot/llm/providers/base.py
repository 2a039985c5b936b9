"""The provider contract: one request in, one raw reply (or a classified failure) out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from bot.llm.context import estimate_tokens
from bot.llm.errors import clip

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
        missing_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        #: the operator's variable that is not set (only the operator can fix that)
        self.missing_key = missing_key


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


@contextmanager
def sdk_failures(
    sdk: ModuleType, timeout: float, status_failure: Callable[[Any], ProviderFailure]
) -> Iterator[None]:
    """Turn an SDK's errors into ProviderFailures. The anthropic and openai SDKs are generated
    alike: the same error classes, each SDK's own module (`sdk`); `status_failure` reads an
    error status in that provider's own way."""
    try:
        yield
    except sdk.APITimeoutError:
        raise ProviderFailure(f"no answer within {timeout:g}s", retryable=True) from None
    except sdk.APIConnectionError as exc:
        raise ProviderFailure(f"connection failed: {exc}", retryable=True) from None
    except sdk.APIStatusError as exc:
        raise status_failure(exc) from None
    except sdk.APIResponseValidationError as exc:
        raise malformed(str(exc)) from None
    except sdk.APIError as exc:
        raise ProviderFailure(f"unexpected answer: {clip(str(exc))}", retryable=False) from None
    except ValueError as exc:  # the body said JSON but was not (json.JSONDecodeError)
        raise malformed(f"the body is not valid JSON ({exc})") from None


def malformed(problem: str) -> ProviderFailure:
    """A successful status with a body the API never promised (an HTML page from a proxy,
    broken JSON, an object without content): retried, then the fallback, never a crash."""
    return ProviderFailure(f"malformed answer: {clip(problem)}", retryable=True)


def shape(value: Any) -> str:
    """What an unexpected body was, briefly, for a `malformed` message."""
    if isinstance(value, str):
        return f"text {clip(value, 100)!r}"
    return type(value).__name__


def error_in(reply: Any) -> str | None:
    """The `error` object a gateway put in a 200 answer, as text, if there is one."""
    extra = getattr(reply, "model_extra", None) or {}
    error = extra.get("error") if isinstance(extra, dict) else None
    if error is None:
        return None
    if isinstance(error, dict):
        error = error.get("message") or json.dumps(error)
    return f"the answer is an error: {clip(str(error))}"


def counted(value: Any, estimate: Callable[[], int]) -> int:
    """A reported token count, or an estimate when the provider left it out or garbled it."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return estimate()


def request_tokens(request: StructuredRequest) -> int:
    """About how many input tokens `request` is, for a reply that does not say."""
    return estimate_tokens(
        request.system + json.dumps(request.messages) + json.dumps(request.schema)
    )


def answer_tokens(content: dict[str, Any] | str | None) -> int:
    if content is None:
        return 0
    return estimate_tokens(content if isinstance(content, str) else json.dumps(content))


def should_retry(headers: Any) -> bool | None:
    """Anthropic's `x-should-retry` header: the server's own word on retrying, if it gave one."""
    value = headers.get("x-should-retry") if headers is not None else None
    if value == "true":
        return True
    if value == "false":
        return False
    return None


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
