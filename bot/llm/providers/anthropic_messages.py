"""Anthropic's Messages API: structured output through one forced tool call."""

from __future__ import annotations

from typing import Any, cast

import anthropic
from anthropic.types import MessageParam

from bot.llm.errors import clip
from bot.llm.providers.base import (
    RETRYABLE_STATUS,
    Message,
    ProviderFailure,
    RawReply,
    StructuredRequest,
    answer_tokens,
    counted,
    error_in,
    malformed,
    parse_retry_after,
    request_tokens,
    sdk_failures,
    shape,
    should_retry,
)
from bot.llm.schema import repair_prompt


class AnthropicProvider:
    """One `AsyncAnthropic` client per endpoint and key, with the SDK's own retries off."""

    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None) -> None:
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, request: StructuredRequest, model: str) -> RawReply:
        with sdk_failures(anthropic, request.timeout_seconds, _failure):
            message = await self._client.messages.create(
                model=model,
                max_tokens=request.max_output_tokens,
                system=request.system,
                # the provider-neutral turns are written in this API's shape (role, content)
                messages=cast(list[MessageParam], request.messages),
                tools=[
                    {
                        "name": request.schema_name,
                        "description": request.description,
                        "input_schema": request.schema,
                    }
                ],
                tool_choice={"type": "tool", "name": request.schema_name},
                timeout=request.timeout_seconds,
            )
        return _reply(message, request)

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


def _reply(message: object, request: StructuredRequest) -> RawReply:
    """The reply in `message`, checked: whatever the SDK built from an odd body is rejected
    as `malformed` here, not as an AttributeError later."""
    if not isinstance(message, anthropic.types.Message):
        raise malformed(f"expected a message object, got {shape(message)}")
    blocks = getattr(message, "content", None)
    if not isinstance(blocks, list):
        raise malformed(error_in(message) or "the message has no content blocks")
    content: dict[str, Any] | str | None = None
    extra: dict[str, Any] = {}
    texts = []
    for block in blocks:
        kind = getattr(block, "type", None)
        if not isinstance(kind, str):
            raise malformed("a content block has no type")
        name = getattr(block, "name", None)
        if kind == "tool_use" and name == request.schema_name and content is None:
            data = getattr(block, "input", None)
            content = data if isinstance(data, dict) else None
            extra = {"tool_use_id": getattr(block, "id", None), "tool_name": name}
        elif kind == "text" and isinstance(getattr(block, "text", None), str):
            texts.append(block.text)
    if content is None and texts:
        content = "".join(texts)
    usage = getattr(message, "usage", None)
    stop = getattr(message, "stop_reason", None)
    return RawReply(
        content=content,
        truncated=stop == "max_tokens",
        input_tokens=counted(getattr(usage, "input_tokens", None), lambda: request_tokens(request)),
        output_tokens=counted(
            getattr(usage, "output_tokens", None), lambda: answer_tokens(content)
        ),
        request_id=message._request_id or getattr(message, "id", None),
        refusal="the model refused" if stop == "refusal" else None,
        extra=extra,
    )


def _failure(exc: anthropic.APIStatusError) -> ProviderFailure:
    status = exc.status_code
    kind = exc.type or "error"
    detail = clip(exc.api_message or exc.message)
    retryable = status in RETRYABLE_STATUS or status >= 500
    told = should_retry(exc.response.headers)
    if told is not None:  # the server knows better than the status (the SDK's own rule)
        if retryable and not told:
            detail += " (the server said not to retry)"
        retryable = told
    return ProviderFailure(
        f"HTTP {status} {kind}: {detail}",
        retryable=retryable,
        retry_after=parse_retry_after(exc.response.headers),
        status=status,
    )
