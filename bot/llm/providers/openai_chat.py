"""OpenAI Chat Completions, and any endpoint that speaks it (Ollama, vLLM, OpenRouter)."""

from __future__ import annotations

import json
from typing import Any

import openai

from bot.llm.providers.base import (
    RETRYABLE_STATUS,
    Message,
    ProviderFailure,
    RawReply,
    StructuredRequest,
    parse_retry_after,
)
from bot.llm.schema import repair_prompt, schema_instruction, strict_schema
from bot.roles.context_budget import estimate_tokens


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
        token_limit_param: str = "max_completion_tokens",
    ) -> None:
        self.name = name
        self._token_limit_param = token_limit_param
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, request: StructuredRequest, model: str) -> RawReply:
        strict = strict_schema(request.schema)
        system = request.system
        if strict is not None:
            response_format: dict[str, Any] = {
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
        try:
            completion = await self._client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                response_format=response_format,  # type: ignore[arg-type]
                timeout=request.timeout_seconds,
                extra_headers={"x-triad-role": request.role} if request.role else None,
                **{self._token_limit_param: request.max_output_tokens},  # type: ignore[arg-type]
            )
        except openai.APITimeoutError:
            raise ProviderFailure(
                f"no answer within {request.timeout_seconds:g}s", retryable=True
            ) from None
        except openai.APIConnectionError as exc:
            raise ProviderFailure(f"connection failed: {exc}", retryable=True) from None
        except openai.APIStatusError as exc:
            raise _failure(exc) from None
        except openai.OpenAIError as exc:
            raise ProviderFailure(f"unexpected answer: {exc}", retryable=False) from None
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


def _reply(completion: Any, sent: list[Message]) -> RawReply:
    if not completion.choices:
        raise ProviderFailure("the answer had no choices", retryable=True)
    choice = completion.choices[0]
    message = choice.message
    content = message.content
    if content is None and message.tool_calls:
        content = message.tool_calls[0].function.arguments
    usage = completion.usage
    if usage is not None:
        input_tokens, output_tokens = usage.prompt_tokens, usage.completion_tokens
    else:  # some compatible servers leave usage out: count it the cheap way
        input_tokens = estimate_tokens(json.dumps(sent))
        output_tokens = estimate_tokens(content or "")
    return RawReply(
        content=content,
        truncated=choice.finish_reason == "length",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        request_id=completion._request_id or completion.id,
        refusal=getattr(message, "refusal", None),
    )


def _failure(exc: openai.APIStatusError) -> ProviderFailure:
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    kind = exc.type or exc.code or "error"
    detail = body.get("message") or exc.message
    return ProviderFailure(
        f"HTTP {status} {kind}: {detail}"[:500],
        retryable=status in RETRYABLE_STATUS or status >= 500,
        retry_after=parse_retry_after(exc.response.headers),
        status=status,
    )
