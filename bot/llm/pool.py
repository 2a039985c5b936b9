"""Provider clients, built on first use per endpoint and key, with keys from the settings.

A provider's SDK is imported when its first client is built, not when Triad starts: a worker
starts in a blink, and a process that never calls a provider never loads its SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.llm.choice import ModelChoice
from bot.llm.providers.base import Provider, ProviderFailure

#: sent to endpoints that need no key (a local Ollama, the fake model server)
NO_KEY = "no-key-needed"


@dataclass(frozen=True)
class Endpoints:
    """Keys and base URLs for the two hosted providers; a base URL alone means a fake server."""

    anthropic_api_key: str | None = None
    openai_api_key: str | None = None
    anthropic_base_url: str | None = None
    openai_base_url: str | None = None


class ProviderPool:
    """Hands out one provider client per (provider, base URL, key), and closes them all."""

    def __init__(self, endpoints: Endpoints, environ: Mapping[str, str] | None = None) -> None:
        self._endpoints = endpoints
        self._environ = environ or {}
        self._clients: dict[tuple[str, str | None, str], Provider] = {}

    def __call__(self, choice: ModelChoice) -> Provider:
        base_url, key = self._where(choice)
        slot = (choice.provider, base_url, key)
        if slot not in self._clients:
            self._clients[slot] = _build(choice, base_url, key)
        return self._clients[slot]

    def secrets(self) -> list[str]:
        """Every key this pool may send, so prompts can be scrubbed of them."""
        keys = [self._endpoints.anthropic_api_key, self._endpoints.openai_api_key]
        keys += [key for _, _, key in self._clients]
        return [key for key in keys if key and key != NO_KEY]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _where(self, choice: ModelChoice) -> tuple[str | None, str]:
        """The base URL and key for `choice`.

        A hosted provider's key (ANTHROPIC_API_KEY, OPENAI_API_KEY) goes only to that
        provider's own endpoint; any other base URL gets the key its `api_key_env` names (set
        by the operator, possibly to the hosted key's variable), or none.
        """
        if choice.api_key_env:
            key = self._environ.get(choice.api_key_env) or self._hosted_key(choice.api_key_env)
            if not key:
                raise ProviderFailure(
                    f"{choice.api_key_env} is not set (the key for {choice.label()})",
                    retryable=False,
                    missing_key=choice.api_key_env,
                )
            return choice.base_url or self._own_url(choice.provider), key
        if choice.provider == "openai-compatible":
            return choice.base_url, NO_KEY
        own_url = self._own_url(choice.provider)
        if choice.base_url and choice.base_url != own_url:
            return choice.base_url, NO_KEY
        env = "ANTHROPIC_API_KEY" if choice.provider == "anthropic" else "OPENAI_API_KEY"
        key = self._hosted_key(env)
        if key:
            return own_url, key
        if own_url:
            return own_url, NO_KEY
        raise ProviderFailure(
            f"{env} is not set, so {choice.label()} cannot be called",
            retryable=False,
            missing_key=env,
        )

    def _own_url(self, provider: str) -> str | None:
        """The configured base URL of a hosted provider (a proxy, the fake server), if any."""
        endpoints = self._endpoints
        url = endpoints.anthropic_base_url if provider == "anthropic" else None
        url = endpoints.openai_base_url if provider == "openai" else url
        return url.rstrip("/") if url else None

    def _hosted_key(self, env: str) -> str | None:
        if env == "ANTHROPIC_API_KEY":
            return self._endpoints.anthropic_api_key
        if env == "OPENAI_API_KEY":
            return self._endpoints.openai_api_key
        return None


def load_sdks(providers: Iterable[str]) -> None:
    """Import the SDKs of `providers` now (a worker does it beside its first jobs, so that a
    model call never waits on it)."""
    for provider in set(providers):
        if provider == "anthropic":
            import bot.llm.providers.anthropic_messages
        else:
            import bot.llm.providers.openai_chat  # noqa: F401


def _build(choice: ModelChoice, base_url: str | None, key: str) -> Provider:
    if choice.provider == "anthropic":
        from bot.llm.providers.anthropic_messages import AnthropicProvider

        return AnthropicProvider(key, base_url)
    from bot.llm.providers.openai_chat import OpenAIProvider

    if choice.provider == "openai":
        return OpenAIProvider(key, base_url)
    # Ollama and older vLLM builds know `max_tokens` but not `max_completion_tokens`
    return OpenAIProvider(key, base_url, name="openai-compatible", token_limit_param="max_tokens")
