"""The operator's models file, named by `TRIAD_MODELS_FILE`: models per role, endpoints, prices.

Without the file Triad uses its defaults (`bot.llm.choice.DEFAULT_CHOICES`, the list prices in
`bot.llm.prices`). The file is YAML; every section is optional:

```yaml
roles:                    # any of: architect, developer, reviewer_a, reviewer_b
  architect:
    provider: anthropic   # anthropic | openai | openai-compatible
    model: claude-opus-4-6
    max_output_tokens: 16000   # also the most a repository override may ask for
    timeout_seconds: 300       # a total deadline per attempt; also a cap for overrides
    fallback: {provider: anthropic, model: claude-sonnet-4-6}
  reviewer_b:
    provider: openai-compatible
    model: meta-llama/llama-3.3-70b-instruct
    base_url: https://openrouter.ai/api/v1   # its key: from `endpoints` below

endpoints:                # endpoints roles (and repositories' overrides) may use
  - provider: openai-compatible
    base_url: https://openrouter.ai/api/v1
    api_key_env: OPENROUTER_API_KEY   # the environment variable that holds its key
  - provider: openai-compatible
    base_url: http://ollama.internal:11434/v1   # no api_key_env: no key is sent
  - provider: anthropic
    base_url: https://llm-proxy.internal/anthropic
    api_key_env: ANTHROPIC_API_KEY    # send the hosted key here: only when said so

prices:                   # dollars per million tokens; adds to or replaces the list prices
  meta-llama/llama-3.3-70b-instruct: {input: 0.13, output: 0.40}

allowed:                  # optional: the models a repository's .github/triad.yml may pick,
  developer: [claude-sonnet-4-6]      # per role (the role's own choice is always allowed);
  reviewer_b: [gpt-5.2, gpt-5-mini]   # a role left out: any model on a listed endpoint
```

Roles the file leaves out keep their defaults. A role's own `base_url` is trusted like a listed
endpoint; its key comes from its `api_key_env`, else from the matching `endpoints` entry, else
none is sent. ANTHROPIC_API_KEY and OPENAI_API_KEY go only to their provider's own API (or to
TRIAD_ANTHROPIC_BASE_URL / TRIAD_OPENAI_BASE_URL), never to another base URL unless an entry
names them in `api_key_env`. A repository's `.github/triad.yml` may pick any listed endpoint
by its provider and base URL, but never a key variable. A bad file stops Triad at start with
a ConfigError naming the file and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError
from bot.llm.choice import (
    DEFAULT_CHOICES,
    ROLES,
    Endpoint,
    ModelChoice,
    ProviderName,
    trusted_endpoints,
)
from bot.llm.prices import Price
from bot.redaction import Redactor
from bot.settings import Settings


@dataclass(frozen=True)
class ModelsConfig:
    """What the models file says, ready for `build_models`."""

    choices: dict[str, ModelChoice] = field(default_factory=lambda: dict(DEFAULT_CHOICES))
    #: (provider, base_url) -> the environment variable with its key (None: no key)
    endpoints: dict[Endpoint, str | None] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    #: per role, the models a repository may choose from (absent: any)
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def key_variables(self) -> set[str]:
        """Every environment variable the file names as holding a model key."""
        return key_variables(self.choices, self.endpoints)


def key_variables(
    choices: Mapping[str, ModelChoice], endpoints: Mapping[Endpoint, str | None]
) -> set[str]:
    """Every environment variable named as holding a model key."""
    named = {env for env in endpoints.values() if env}
    for choice in choices.values():
        for each in (choice, choice.fallback):
            if each is not None and each.api_key_env:
                named.add(each.api_key_env)
    return named


def process_redactor(settings: Settings, environ: Mapping[str, str] | None = None) -> Redactor:
    """The process's one redactor (prompts, GitHub comments, logs): every configured secret,
    the database password, and the value of every key variable the models file names."""
    environ = os.environ if environ is None else environ
    named = load_models_file(settings.models_file).key_variables()
    return Redactor(
        [
            *settings.secret_values(),
            *(environ.get(env, "") for env in sorted(named)),
        ]
    )


class _Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName
    base_url: str
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")


class _Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, ModelChoice] = Field(default_factory=dict)
    endpoints: list[_Endpoint] = Field(default_factory=list)
    prices: dict[str, _Price] = Field(default_factory=dict)
    allowed: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("roles", "allowed")
    @classmethod
    def _known_roles(cls, roles: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}; the roles are {', '.join(ROLES)}")
        return roles


def load_models_file(path: Path | None) -> ModelsConfig:
    """The configuration in `path`; the defaults when `path` is None."""
    if path is None:
        return ModelsConfig()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"TRIAD_MODELS_FILE: cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    return parse_models_config(data if data is not None else {}, str(path))


def parse_models_config(data: Any, source: str = "the models file") -> ModelsConfig:
    """Validate the file's content; a ConfigError names `source` and the first bad key."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: must be a mapping with roles, endpoints and prices")
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(piece) for piece in error["loc"]) or "(top level)"
        raise ConfigError(f"{source}: {key}: {error['msg']}") from None
    endpoints: dict[Endpoint, str | None] = {
        (each.provider, each.base_url): each.api_key_env for each in parsed.endpoints
    }
    choices = dict(DEFAULT_CHOICES)
    for role, choice in parsed.roles.items():
        choices[role] = _keyed(choice, endpoints)
    for endpoint, key_env in trusted_endpoints(choices).items():
        endpoints.setdefault(endpoint, key_env)
    prices = {name: Price(p.input, p.output) for name, p in parsed.prices.items()}
    allowed = {role: tuple(models) for role, models in parsed.allowed.items()}
    return ModelsConfig(choices, endpoints, prices, allowed)


def _keyed(choice: ModelChoice, endpoints: Mapping[Endpoint, str | None]) -> ModelChoice:
    """`choice` (and its fallback) with the key variable of its listed endpoint, if unset."""
    fallback = choice.fallback and _keyed(choice.fallback, endpoints)
    update: dict[str, Any] = {"fallback": fallback}
    if choice.base_url and choice.api_key_env is None:
        update["api_key_env"] = endpoints.get((choice.provider, choice.base_url))
    return choice.model_copy(update=update)
