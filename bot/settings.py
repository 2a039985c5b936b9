"""Service settings, read from the environment once at start (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///triad.db"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024


class Settings(BaseSettings):
    """Everything a Triad process needs to know about its deployment."""

    model_config = SettingsConfigDict(env_prefix="TRIAD_", extra="ignore", populate_by_name=True)

    app_id: int | None = Field(default=None, gt=0)
    private_key: SecretStr | None = None
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    github_api_url: str = "https://api.github.com"
    bot_login: str | None = None
    #: content-creating requests a minute per installation (GitHub's secondary limit is ~80)
    github_writes_per_minute: float = Field(default=80.0, ge=0)

    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    #: replace a provider's own endpoint: a proxy, or the fake model server in the demo
    anthropic_base_url: str | None = None
    openai_base_url: str | None = None
    #: the operator's models file: models per role, endpoints, prices (see `bot.llm.config`)
    models_file: Path | None = None

    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    worker_concurrency: int = Field(default=4, ge=0, le=256)
    #: a running job keeps its lease while its worker lives (a heartbeat every third of it); a
    #: worker that dies loses its jobs, and the transition claims they hold, within one lease
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1, le=100)
    drain_seconds: float = Field(default=30.0, ge=0)

    #: the admin page and /metrics (`triad serve --admin-port`); unset: not served
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    admin_host: str = "127.0.0.1"
    #: when set, /admin and /metrics ask for it (Authorization: Bearer, or the login form)
    admin_token: SecretStr | None = None
    #: delivery bodies are emptied this many days after they arrived (the records stay)
    delivery_retention_days: float = Field(default=14.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return url

    @field_validator("private_key")
    @classmethod
    def _pem(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and "PRIVATE KEY-----" not in key.get_secret_value():
            raise ValueError(
                "is not a PEM private key (expected '-----BEGIN ... PRIVATE KEY-----')"
            )
        return key

    @model_validator(mode="after")
    def _load_private_key_file(self) -> Settings:
        if self.private_key is None and self.private_key_path is not None:
            try:
                text = self.private_key_path.read_text()
            except OSError as exc:
                raise ValueError(
                    f"private_key_path: cannot read {self.private_key_path}: {exc.strerror}"
                ) from exc
            self.private_key = self._pem(SecretStr(text))
        return self

    def secret_values(self) -> list[str]:
        """Every configured secret, so logs and model prompts can redact them."""
        secrets = [
            self.private_key,
            self.webhook_secret,
            self.anthropic_api_key,
            self.openai_api_key,
            self.admin_token,
        ]
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]

    def require_github_app(self) -> None:
        """Fail with one line naming every missing setting a production server needs."""
        missing = []
        if self.app_id is None:
            missing.append(
                "TRIAD_APP_ID is not set: the GitHub App's numeric id (App settings page)"
            )
        if self.private_key is None:
            missing.append(
                "TRIAD_PRIVATE_KEY is not set: give the App's PEM key in TRIAD_PRIVATE_KEY "
                "or its file in TRIAD_PRIVATE_KEY_PATH"
            )
        if self.webhook_secret is None:
            missing.append(
                "TRIAD_WEBHOOK_SECRET is not set: the secret configured on the App's webhook"
            )
        if missing:
            raise ConfigError("; ".join(missing))


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise one ConfigError naming every bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            f"{_env_name(error['loc'])} is invalid: {error['msg']}" for error in exc.errors()
        ]
        raise ConfigError("; ".join(problems)) from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "settings"
    aliases = {"anthropic_api_key": "ANTHROPIC_API_KEY", "openai_api_key": "OPENAI_API_KEY"}
    if field in aliases or field.isupper():
        return aliases.get(field, field)
    return f"TRIAD_{field.upper()}"
