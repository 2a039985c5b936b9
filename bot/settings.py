"""Service settings, read from the environment once at start (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL

from bot.errors import ConfigError
from bot.private_key import normalize_private_key

DEFAULT_DATABASE_URL = "sqlite:///triad.db"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024


class Settings(BaseSettings):
    """Everything a Triad process needs to know about its deployment."""

    #: the environment wins over `.env` (the file `triad setup` writes), as with Probot
    model_config = SettingsConfigDict(
        env_prefix="TRIAD_",
        extra="ignore",
        populate_by_name=True,
        env_file=".env",
        env_file_encoding="utf-8",
    )

    app_id: int | None = Field(default=None, gt=0)
    private_key: SecretStr | None = None
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    github_api_url: str = "https://api.github.com"
    bot_login: str | None = None
    #: the App's OAuth client (written by `triad setup`; Triad itself does not use it)
    client_id: str | None = None
    client_secret: SecretStr | None = None
    #: a smee.io-compatible channel whose events are relayed to this server (development)
    webhook_proxy_url: str | None = None
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
    job_lease_seconds: float = Field(default=300.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1, le=100)
    drain_seconds: float = Field(default=30.0, ge=0)

    #: the admin page and /metrics (`triad serve --admin-port`); unset: not served
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    admin_host: str = "127.0.0.1"
    #: when set, /admin and /metrics ask for it (Authorization: Bearer, or the login form)
    admin_token: SecretStr | None = None
    #: delivery bodies are emptied this many days after they arrived (the records stay)
    delivery_retention_days: float = Field(default=14.0, gt=0)

    #: every variable of the `.env` file read: the models file names key variables of its own
    _dotenv: dict[str, str] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        given = values.get("_env_file", ENV_FILE_SENTINEL)
        self._dotenv = _read_env_files(
            self.model_config.get("env_file") if given == ENV_FILE_SENTINEL else given
        )

    def environment(self) -> dict[str, str]:
        """The process environment over `.env`'s variables (the environment wins, as for the
        settings themselves): where a key named in the models file (OPENROUTER_API_KEY) is."""
        return {**self._dotenv, **os.environ}

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return url

    @field_validator("private_key")
    @classmethod
    def _pem(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None:
            return None
        return SecretStr(normalize_private_key(key.get_secret_value()))

    @model_validator(mode="after")
    def _load_private_key_file(self) -> Settings:
        if self.private_key is None and self.private_key_path is not None:
            try:
                text = self.private_key_path.read_text()
            except OSError as exc:
                raise ValueError(
                    f"TRIAD_PRIVATE_KEY_PATH: cannot read {self.private_key_path}: {exc.strerror}"
                ) from exc
            try:
                self.private_key = self._pem(SecretStr(text))
            except ValueError as exc:
                raise ValueError(f"TRIAD_PRIVATE_KEY_PATH: {self.private_key_path} {exc}") from None
        return self

    def secret_values(self) -> list[str]:
        """Every configured secret, so logs and model prompts can redact them."""
        secrets = [
            self.private_key,
            self.webhook_secret,
            self.client_secret,
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
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            # a check across fields names its variables itself
            problems.append(
                f"{_env_name(error['loc'])} is invalid: {message}" if error["loc"] else message
            )
        raise ConfigError("; ".join(problems)) from None


def _read_env_files(files: object) -> dict[str, str]:
    if files is None:
        return {}
    paths = [files] if isinstance(files, str | os.PathLike) else files
    found: dict[str, str] = {}
    for path in paths if isinstance(paths, Sequence) else []:
        if Path(path).is_file():
            values = dotenv_values(path, encoding="utf-8")
            found.update({k: v for k, v in values.items() if v is not None})
    return found


def _env_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "settings"
    aliases = {"anthropic_api_key": "ANTHROPIC_API_KEY", "openai_api_key": "OPENAI_API_KEY"}
    if field in aliases or field.isupper():
        return aliases.get(field, field)
    return f"TRIAD_{field.upper()}"
