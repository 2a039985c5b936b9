"""Which model answers for each role: the defaults, and a repository's validated overrides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.llm.errors import InvalidModelChoice, clip

ProviderName = Literal["anthropic", "openai", "openai-compatible"]
ROLES = ("architect", "developer", "reviewer_a", "reviewer_b")


class ModelChoice(BaseModel):
    """One model on one provider, with an optional fallback used when it stays unavailable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName
    model: str = Field(min_length=1, max_length=200)
    #: an OpenAI-compatible endpoint (Ollama, vLLM, OpenRouter), or another Anthropic/OpenAI URL
    base_url: str | None = None
    #: the environment variable that holds this endpoint's key (default: the provider's own)
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    fallback: ModelChoice | None = None
    max_output_tokens: int = Field(default=8192, ge=16, le=200_000)
    timeout_seconds: float = Field(default=300.0, gt=0, le=3600)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/") if url else url

    @model_validator(mode="after")
    def _complete(self) -> ModelChoice:
        if self.provider == "openai-compatible" and not self.base_url:
            raise ValueError("an openai-compatible provider needs a base_url")
        if self.fallback is not None and self.fallback.fallback is not None:
            raise ValueError("a fallback cannot have a fallback of its own")
        return self

    def label(self) -> str:
        """How a user reads this choice in a message, e.g. `anthropic/claude-sonnet-4-6`."""
        return f"{self.provider}/{self.model}"


#: Strong designer, cost-efficient developer, and two reviewers on two different providers.
DEFAULT_CHOICES: dict[str, ModelChoice] = {
    "architect": ModelChoice(
        provider="anthropic",
        model="claude-opus-4-6",
        max_output_tokens=16_000,
        fallback=ModelChoice(
            provider="anthropic", model="claude-sonnet-4-6", max_output_tokens=16_000
        ),
    ),
    "developer": ModelChoice(
        provider="anthropic",
        model="claude-sonnet-4-6",
        max_output_tokens=32_000,
        timeout_seconds=600,
        fallback=ModelChoice(
            provider="anthropic",
            model="claude-opus-4-6",
            max_output_tokens=32_000,
            timeout_seconds=600,
        ),
    ),
    "reviewer_a": ModelChoice(
        provider="anthropic",
        model="claude-sonnet-4-6",
        fallback=ModelChoice(provider="anthropic", model="claude-opus-4-6"),
    ),
    "reviewer_b": ModelChoice(
        provider="openai",
        model="gpt-5.2",
        # reasoning models count their thinking against this limit
        max_output_tokens=16_000,
        fallback=ModelChoice(provider="openai", model="gpt-5-mini", max_output_tokens=16_000),
    ),
}


#: an operator-approved endpoint: (provider, base_url)
Endpoint = tuple[str, str]


def trusted_endpoints(choices: Mapping[str, ModelChoice]) -> dict[Endpoint, str | None]:
    """(provider, base_url) -> api_key_env of every endpoint the operator's choices name."""
    found: dict[Endpoint, str | None] = {}
    for choice in choices.values():
        for each in (choice, choice.fallback):
            if each is not None and each.base_url:
                found[(each.provider, each.base_url)] = each.api_key_env
    return found


def resolve_choice(
    role: str,
    overrides: Mapping[str, object],
    defaults: Mapping[str, ModelChoice] = DEFAULT_CHOICES,
    trusted: Mapping[Endpoint, str | None] | None = None,
    allowed: Mapping[str, Sequence[str]] | None = None,
) -> ModelChoice:
    """The choice for `role`: the repository's override when it gives one, else the default.

    An override is a complete choice (its `provider` defaults to the default's). A repository
    may not point a role at an endpoint the operator did not configure (`trusted`, plus the
    defaults' own), nor name an environment variable: otherwise a `.github/triad.yml` could
    send the operator's key or code elsewhere. Nor may it raise the output limit or timeout
    above the operator's for that role: those bound what one call can cost and hold a worker.
    Where the operator lists the models a role may use (`allowed`), an override picks among
    them (or the operator's own choice for the role).
    """
    if role not in defaults:
        raise InvalidModelChoice(f"no model is configured for role {role!r}")
    default = defaults[role]
    override = overrides.get(role)
    if override is None:
        return default
    where = f".github/triad.yml `models.{role}`"
    if not isinstance(override, Mapping):
        raise InvalidModelChoice(f"{where} must be a mapping with `provider` and `model`")
    data = {"provider": default.provider, **override}
    try:
        choice = ModelChoice.model_validate(data)
    except ValidationError as exc:
        raise InvalidModelChoice(f"{where} is invalid: {describe_errors(exc)}") from None
    endpoints = {**trusted_endpoints(defaults), **(trusted or {})}
    fallback = choice.fallback and _capped(
        _endpoint(choice.fallback, endpoints, where), default, f"{where[:-1]}.fallback`"
    )
    choice = _capped(_endpoint(choice, endpoints, where), default, where)
    permitted = (allowed or {}).get(role)
    if permitted is not None:
        # the operator's own choice for the role is allowed too (its fallback only as one)
        main = {*permitted, default.model}
        spare = main | ({default.fallback.model} if default.fallback else set())
        for each, may in ((choice, main), (choice.fallback, spare)):
            if each is not None and each.model not in may:
                raise InvalidModelChoice(
                    f"{where}: {clip(each.model)} is not among the models the operator allows"
                    f" for {role}: {', '.join(sorted(may))}"
                )
    return choice.model_copy(update={"fallback": fallback})


def _capped(choice: ModelChoice, default: ModelChoice, where: str) -> ModelChoice:
    """Refuse limits above the operator's for the role; lower unset ones to them."""
    updates: dict[str, Any] = {}
    for name, unit in (("max_output_tokens", " tokens"), ("timeout_seconds", "s")):
        cap = max(getattr(default, name), getattr(default.fallback, name, 0))
        value = getattr(choice, name)
        if value <= cap:
            continue
        if name in choice.model_fields_set:
            raise InvalidModelChoice(
                f"{where}: {name} may be at most {cap:,g}{unit} (the operator's limit for"
                f" this role), not {value:,g}"
            )
        updates[name] = cap
    return choice.model_copy(update=updates) if updates else choice


def _endpoint(
    choice: ModelChoice, trusted: Mapping[Endpoint, str | None], where: str
) -> ModelChoice:
    """Accept only operator-configured endpoints, and use the key the operator paired with them."""
    if choice.api_key_env is not None:
        raise InvalidModelChoice(
            f"{where}: api_key_env can only be set by the operator, not in the repository"
        )
    if choice.base_url is None:
        return choice
    endpoint = (choice.provider, choice.base_url)
    if endpoint not in trusted:
        raise InvalidModelChoice(
            f"{where}: base_url {clip(choice.base_url)} is not an endpoint this Triad"
            f" installation is configured for with provider {choice.provider}; ask the"
            " operator to add it"
        )
    return choice.model_copy(update={"api_key_env": trusted[endpoint]})


def describe_errors(exc: ValidationError, limit: int = 5) -> str:
    """Pydantic's errors as one readable line: `field.path: message (got value)`."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(piece) for piece in error["loc"]) or "(root)"
        got = error.get("input")
        shown = (
            f" (got {clip(repr(got))})"
            if error["type"] != "missing" and not isinstance(got, dict)
            else ""
        )
        parts.append(f"{where}: {error['msg']}{shown}")
    more = len(exc.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
