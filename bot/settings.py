"""Service settings, read from the environment once at start (never at import time)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL

from bot.errors import ConfigError
from bot.private_key import normalize_private_key
from bot.redaction import key_secrets, url_secrets

DEFAULT_DATABASE_URL = "sqlite:///triad.db"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024
#: the Host headers the admin port answers unless TRIAD_ADMIN_ALLOWED_HOSTS says otherwise
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
#: a webhook secret shorter than this is refused at start: the signature is all that
#: stands between the internet and Triad's queue
MIN_WEBHOOK_SECRET = 16
#: an admin token shorter than this is refused where the admin port listens beyond loopback
MIN_ADMIN_TOKEN = 16

#: the door's limits below which real deliveries would be refused: (floor, why)
_DOOR_FLOORS = {
    "webhook_max_unverified_bytes": (
        MAX_WEBHOOK_BYTES,
        f"a cap under {MAX_WEBHOOK_BYTES} (25 MiB, GitHub's largest delivery) would refuse real"
        f" deliveries of that size, so it must be at least {MAX_WEBHOOK_BYTES}",
    ),
    "webhook_read_seconds": (
        10,
        "GitHub waits 10 s for a delivery, so a shorter deadline would cut off deliveries it is"
        " still sending",
    ),
    "webhook_max_connections": (
        16,
        "GitHub sends several deliveries at once and never retries a 503, so fewer than 16"
        " connections would lose real deliveries",
    ),
}

#: what to give for each setting a process cannot run without
_MISSING = {
    "app_id": "the GitHub App's numeric id (App settings page)",
    "private_key": "give the App's PEM key in TRIAD_PRIVATE_KEY or its file in "
    "TRIAD_PRIVATE_KEY_PATH",
    "webhook_secret": "the secret configured on the App's webhook",
}


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

    #: settings this kind of process cannot run without: named with every other problem
    required: ClassVar[frozenset[str]] = frozenset()

    app_id: int | None = Field(default=None, gt=0, validate_default=True)
    #: read by the `private_key` check below, so it comes first
    private_key_path: Path | None = None
    private_key: SecretStr | None = Field(default=None, validate_default=True)
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
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
    #: off a terminal, a line below WARNING waits this long for others to be written with it
    #: (one write, not one a line, keeps the web process's CPU down); 0 writes each at once
    log_batch_seconds: float = Field(default=0.2, ge=0, le=10)

    worker_concurrency: int = Field(default=4, ge=0, le=256)
    #: a running job keeps its lease while its worker lives (a heartbeat every sixth of it); a
    #: worker that dies loses its jobs, and the transition claims they hold, within one lease
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1, le=100)
    #: a job's first retry after GitHub was unavailable or unreachable, doubling to 10 minutes
    job_outage_retry_seconds: float = Field(default=60.0, gt=0)
    drain_seconds: float = Field(default=30.0, ge=0)
    #: how often a process that runs jobs sweeps for work no live job is doing (None: a third
    #: of a lease, between 1 and 30 s; 0: never, e.g. a test proving an event finishes it)
    sweep_seconds: float | None = Field(default=None, ge=0)

    #: the admin page and /metrics (`triad serve --admin-port`); unset: not served
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    admin_host: str = "127.0.0.1"
    #: when set, /admin and /metrics ask for it (Authorization: Bearer, or the login form);
    #: required when the admin port listens on more than loopback
    admin_token: SecretStr | None = None
    #: Host headers the admin port answers, comma-separated (`*.example.com` allowed): a page
    #: on another site that rebinds its DNS name to the admin address gets 400
    admin_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS)
    )
    #: delivery bodies are emptied this many days after they arrived (the records stay)
    delivery_retention_days: float = Field(default=14.0, gt=0)

    # -- the trust boundary (see SECURITY.md) ----------------------------------------------
    #: the webhook door, per web process (floors in `_DOOR_FLOORS`): the whole request within
    #: this many seconds (GitHub waits 10)
    webhook_read_seconds: float = Field(default=10.0, le=300)
    #: open connections on the webhook port; more are answered 503 with Retry-After
    webhook_max_connections: int = Field(default=128, le=100_000)
    #: bytes all bodies not yet verified may hold together; more: 503 with Retry-After
    webhook_max_unverified_bytes: int = 64 * 1024 * 1024
    #: the largest budget a repository's `.github/triad.yml` may give one workflow
    max_workflow_tokens: int = Field(default=10_000_000, ge=1_000)
    max_workflow_dollars: float = Field(default=100.0, gt=0)
    #: model spend per UTC day, per installation and in all (0: no cap)
    installation_daily_dollars: float = Field(default=200.0, ge=0)
    global_daily_dollars: float = Field(default=1000.0, ge=0)

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

    @field_validator("github_api_url", "anthropic_base_url", "openai_base_url", "webhook_proxy_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number or out of range)
        except ValueError:
            raise ValueError("has a port that is not a number from 1 to 65535") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or url != url.strip():
            raise ValueError("must be an http:// or https:// address, e.g. https://api.github.com")
        return url

    @field_validator("admin_token")
    @classmethod
    def _blank_is_unset(cls, token: SecretStr | None) -> SecretStr | None:
        return token if token is not None and token.get_secret_value().strip() else None

    @field_validator("admin_allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("admin_allowed_hosts")
    @classmethod
    def _host_patterns(cls, hosts: list[str]) -> list[str]:
        patterns = []
        for host in hosts:
            if "*" in host[1:] or (host.startswith("*") and host != "*" and host[:2] != "*."):
                raise ValueError(f"{host!r}: a wildcard must be a whole first label, *.example.com")
            try:  # Host headers carry IPv6 addresses in brackets
                patterns.append(f"[{ipaddress.IPv6Address(host)}]")
            except ValueError:
                patterns.append(host.lower())
        return patterns

    @field_validator("app_id", "webhook_secret")
    @classmethod
    def _present(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name not in cls.required:
            return value
        if value is None:
            raise PydanticCustomError("missing_setting", _MISSING[str(info.field_name)])
        if isinstance(value, SecretStr) and info.field_name == "webhook_secret":
            length = len(value.get_secret_value().strip())
            if length < MIN_WEBHOOK_SECRET:
                raise ValueError(
                    f"too weak ({length} characters, at least {MIN_WEBHOOK_SECRET} needed): "
                    "generate one with `python3 -c 'import secrets; "
                    "print(secrets.token_hex(32))'` and set it on the App's webhook and here"
                )
        return value

    @field_validator(*_DOOR_FLOORS)
    @classmethod
    def _door_floor(cls, value: float, info: ValidationInfo) -> float:
        floor, why = _DOOR_FLOORS[str(info.field_name)]
        if value < floor:
            raise ValueError(f"{value} is too small: {why}; leave it unset or raise it")
        return value

    @field_validator("private_key")
    @classmethod
    def _pem(cls, key: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """The key as PEM: TRIAD_PRIVATE_KEY's, or else the file TRIAD_PRIVATE_KEY_PATH names."""
        if key is not None:
            return SecretStr(normalize_private_key(key.get_secret_value()))
        path = info.data.get("private_key_path")
        if path is None:
            if "private_key" in cls.required:
                raise PydanticCustomError("missing_setting", _MISSING["private_key"])
            return None
        try:
            text = path.read_text()
        except OSError as exc:
            raise ValueError(
                f"TRIAD_PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror}"
            ) from None
        try:
            return SecretStr(normalize_private_key(text))
        except ValueError as exc:
            raise ValueError(f"TRIAD_PRIVATE_KEY_PATH: {path} {exc}") from None

    def secret_values(self) -> list[str]:
        """Every configured secret (the database password too), so the redactor knows them;
        the models file's key variables are added by `bot.llm.config.process_redactor`."""
        secrets = [
            self.private_key,
            self.webhook_secret,
            self.client_secret,
            self.anthropic_api_key,
            self.openai_api_key,
            self.admin_token,
        ]
        found = [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]
        key = self.private_key.get_secret_value() if self.private_key else None
        return [*found, *key_secrets(key), *url_secrets(self.database_url)]


class WorkerSettings(Settings):
    """`triad worker`: acts as the App on GitHub, so needs its id and key (no webhooks)."""

    required = frozenset({"app_id", "private_key"})


class ServerSettings(Settings):
    """`triad serve`: acts as the App and verifies its webhooks."""

    required = WorkerSettings.required | {"webhook_secret"}


def load_settings(kind: type[Settings] = Settings, **overrides: Any) -> Settings:
    """Read settings from the environment in one pass; raise one ConfigError naming every
    problem at once: each missing setting `kind` requires, each malformed one, a key file
    that cannot be read."""
    try:
        return kind(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = _env_name(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing_setting":
                problems.append(f"{name} is not set: {message}")
            elif message.startswith("TRIAD_") or not error["loc"]:
                problems.append(message)  # it names its variable itself
            else:
                problems.append(f"{name} is invalid: {message}")
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
