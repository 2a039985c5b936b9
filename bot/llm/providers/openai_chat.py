"""OpenAI Chat Completions, and any endpoint that speaks it (Ollama, vLLM, OpenRouter)."""

from __future__ import annotations

import json
from typing import Literal, TypedDict, cast

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONObject, ResponseFormatJSONSchema

from bot.llm.context import estimate_tokens
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
    sdk_failures,
    shape,
)
from bot.llm.schema import repair_prompt, schema_instruction, strict_schema

#: OpenAI's 429 codes for an account out of credit: waiting does not help
QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})

#: the name under which an endpoint takes the answer's token limit (older servers: max_tokens)
TokenLimitParam = Literal["max_completion_tokens", "max_tokens"]


class _TokenLimit(TypedDict, total=False):
    max_completion_tokens: int
    max_tokens: int


class OpenAIProvider:
    """One `AsyncOpenAI` client per endpoint and key, with the SDK's own retries off.

    Structured output uses `response_format` json_schema in strict mode when the schema
    allows it, else json_object with the schema spelled out in the system prompt.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        name: str = "openai",
        token_limit_param: TokenLimitParam = "max_completion_tokens",
    ) -> None:
        self.name = name
        self._token_limit_param = token_limit_param
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, request: StructuredRequest, model: str) -> RawReply:
        strict = strict_schema(request.schema)
        system = request.system
        response_format: ResponseFormatJSONSchema | ResponseFormatJSONObject
        if strict is not None:
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "description": request.description,
                    "schema": strict,
                    "strict": True,
                },
            }
        else:
            response_format = {"type": "json_object"}
            system = f"{system}\n\n{schema_instruction(request.schema)}"
        messages = [{"role": "system", "content": system}, *request.messages]
        limit: _TokenLimit = (
            {"max_tokens": request.max_output_tokens}
            if self._token_limit_param == "max_tokens"
            else {"max_completion_tokens": request.max_output_tokens}
        )
        with sdk_failures(openai, request.timeout_seconds, _failure):
            completion = await self._client.chat.completions.create(
                model=model,
                # the provider-neutral turns are written in this API's shape (role, content)
                messages=cast(list[ChatCompletionMessageParam], messages),
                response_format=response_format,
                timeout=request.timeout_seconds,
                **limit,
            )
        return _reply(completion, messages)

    def repair_turns(self, reply: RawReply, problem: str) -> list[Message]:
        said = reply.content
        if isinstance(said, dict):
            said = json.dumps(said)
        return [
            {"role": "assistant", "content": said or "(no usable answer)"},
            {"role": "user", "content": repair_prompt(problem)},
        ]

    async def aclose(self) -> None:
        await self._client.close()


def _reply(completion: object, sent: list[Message]) -> RawReply:
    """The reply in `completion`, checked: whatever the SDK built from an odd body is rejected
    as `malformed` here, not as an AttributeError later."""
    if not isinstance(completion, openai.types.chat.ChatCompletion):
        raise malformed(f"expected a chat completion object, got {shape(completion)}")
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise malformed(error_in(completion) or "the answer had no choices")
    choice = choices[0]
    message = getattr(choice, "message", None)
    if message is None or isinstance(message, str | list | int | float):
        raise malformed("the first choice has no message")
    content = getattr(message, "content", None)
    tool_calls = getattr(message, "tool_calls", None)
    if content is None and isinstance(tool_calls, list) and tool_calls:
        function = getattr(tool_calls[0], "function", None)
        content = getattr(function, "arguments", None)
    if content is not None and not isinstance(content, str):
        raise malformed(f"the message content is {type(content).__name__}, not text")
    # some compatible servers leave usage out or garble it: count it the cheap way
    usage = getattr(completion, "usage", None)
    refusal = getattr(message, "refusal", None)
    return RawReply(
        content=content,
        truncated=getattr(choice, "finish_reason", None) == "length",
        input_tokens=counted(
            getattr(usage, "prompt_tokens", None), lambda: estimate_tokens(json.dumps(sent))
        ),
        output_tokens=counted(
            getattr(usage, "completion_tokens", None), lambda: answer_tokens(content)
        ),
        request_id=completion._request_id or getattr(completion, "id", None),
        refusal=refusal if isinstance(refusal, str) else None,
    )


def _failure(exc: openai.APIStatusError) -> ProviderFailure:
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    kind = exc.type or exc.code or "error"
    detail = clip(str(body.get("message") or exc.message))
    retryable = status in RETRYABLE_STATUS or status >= 500
    if status == 429 and (exc.code in QUOTA_CODES or exc.type in QUOTA_CODES):
        retryable = False
        detail = (
            "the OpenAI account is out of quota or credit (check its plan and billing);"
            f" not retried. {detail}"
        )
    return ProviderFailure(
        f"HTTP {status} {kind}: {clip(detail)}",
        retryable=retryable,
        retry_after=parse_retry_after(exc.response.headers),
        status=status,
    )
