"""Anthropic's Messages API: structured output through one forced tool call."""

from __future__ import annotations

from typing import Any

import anthropic

from bot.llm.providers.base import (
    RETRYABLE_STATUS,
    Message,
    ProviderFailure,
    RawReply,
    StructuredRequest,
    parse_retry_after,
)
from bot.llm.schema import repair_prompt


class AnthropicProvider:
    """One `AsyncAnthropic` client per endpoint and key, with the SDK's own retries off."""

    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None) -> None:
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, request: StructuredRequest, model: str) -> RawReply:
        try:
            message = await self._client.messages.create(
                model=model,
                max_tokens=request.max_output_tokens,
                system=request.system,
                messages=request.messages,  # type: ignore[arg-type]
                tools=[
                    {
                        "name": request.schema_name,
                        "description": request.description,
                        "input_schema": request.schema,
                    }
                ],
                tool_choice={"type": "tool", "name": request.schema_name},
                timeout=request.timeout_seconds,
                extra_headers={"x-triad-role": request.role} if request.role else None,
            )
        except anthropic.APITimeoutError:
            raise ProviderFailure(
                f"no answer within {request.timeout_seconds:g}s", retryable=True
            ) from None
        except anthropic.APIConnectionError as exc:
            raise ProviderFailure(f"connection failed: {exc}", retryable=True) from None
        except anthropic.APIStatusError as exc:
            raise _failure(exc) from None
        except anthropic.AnthropicError as exc:
            raise ProviderFailure(f"unexpected answer: {exc}", retryable=False) from None
        return _reply(message, request.schema_name)

    def repair_turns(self, reply: RawReply, problem: str) -> list[Message]:
        tool_id = reply.extra.get("tool_use_id")
        if tool_id and isinstance(reply.content, dict):
            return [
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": tool_id,
                            "name": reply.extra["tool_name"],
                            "input": reply.content,
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_id,
                            "is_error": True,
                            "content": repair_prompt(problem),
                        }
                    ],
                },
            ]
        said = reply.content if isinstance(reply.content, str) and reply.content.strip() else None
        return [
            {"role": "assistant", "content": said or "(no usable answer)"},
            {"role": "user", "content": repair_prompt(problem)},
        ]

    async def aclose(self) -> None:
        await self._client.close()


def _reply(message: anthropic.types.Message, tool_name: str) -> RawReply:
    content: dict[str, Any] | str | None = None
    extra: dict[str, Any] = {}
    texts = []
    for block in message.content:
        if block.type == "tool_use" and block.name == tool_name and content is None:
            content = block.input if isinstance(block.input, dict) else None
            extra = {"tool_use_id": block.id, "tool_name": block.name}
        elif block.type == "text":
            texts.append(block.text)
    if content is None and texts:
        content = "".join(texts)
    return RawReply(
        content=content,
        truncated=message.stop_reason == "max_tokens",
        input_tokens=message.usage.input_tokens,
        output_tokens=message.usage.output_tokens,
        request_id=message._request_id or message.id,
        refusal="the model refused" if message.stop_reason == "refusal" else None,
        extra=extra,
    )


def _failure(exc: anthropic.APIStatusError) -> ProviderFailure:
    status = exc.status_code
    kind = exc.type or "error"
    detail = exc.api_message or exc.message
    return ProviderFailure(
        f"HTTP {status} {kind}: {detail}"[:500],
        retryable=status in RETRYABLE_STATUS or status >= 500,
        retry_after=parse_retry_after(exc.response.headers),
        status=status,
    )
