"""Settings: read from the environment, and one clear line naming whatever is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.redaction import key_secrets
from bot.settings import DEFAULT_DATABASE_URL, ServerSettings, WorkerSettings, load_settings
from triad_lab.keys import throwaway_pem

_pem = throwaway_pem


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TRIAD_APP_ID",
        "TRIAD_PRIVATE_KEY",
        "TRIAD_PRIVATE_KEY_PATH",
        "TRIAD_WEBHOOK_SECRET",
        "TRIAD_DATABASE_URL",
        "TRIAD_WEBHOOK_PROXY_URL",
        "TRIAD_GITHUB_API_URL",
        "TRIAD_OPENAI_BASE_URL",
        "TRIAD_ADMIN_ALLOWED_HOSTS",
        "TRIAD_ADMIN_TOKEN",
        "TRIAD_LOG_FORMAT",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings read `.env` from the working directory: run each test in an empty one."""
    monkeypatch.chdir(tmp_path)


def test_defaults_run_embedded_on_sqlite() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///triad.db"
    assert settings.app_id is None


def test_a_complete_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    pem = _pem()
    monkeypatch.setenv("TRIAD_APP_ID", "1234")
    monkeypatch.setenv("TRIAD_PRIVATE_KEY", pem)
    monkeypatch.setenv("TRIAD_WEBHOOK_SECRET", "hunter2-secret-long")
    monkeypatch.setenv("TRIAD_DATABASE_URL", "postgresql://triad:db%2Fpass@db/triad")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    settings = load_settings(ServerSettings)
    assert settings.app_id == 1234 and settings.database_url.startswith("postgresql://")
    assert set(settings.secret_values()) == {
        pem,
        "hunter2-secret-long",
        "sk-ant-test",
        "db%2Fpass",  # the database password, as written and decoded
        "db/pass",
        *key_secrets(pem),  # the key as base64 and its long lines
    }
    assert "hunter2" not in repr(settings) and "sk-ant" not in repr(settings)


def test_the_private_key_can_come_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(_pem())
    monkeypatch.setenv("TRIAD_PRIVATE_KEY_PATH", str(key_file))
    settings = load_settings()
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value() == key_file.read_text()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRIAD_APP_ID", "twelve", "TRIAD_APP_ID is invalid"),
        ("TRIAD_APP_ID", "-3", "TRIAD_APP_ID is invalid"),
        (
            "TRIAD_PRIVATE_KEY",
            "not a key",
            "TRIAD_PRIVATE_KEY is invalid: is neither PEM",
        ),
        ("TRIAD_PRIVATE_KEY_PATH", "/nowhere/app.pem", "cannot read /nowhere/app.pem"),
        ("TRIAD_DATABASE_URL", "mysql://x", "TRIAD_DATABASE_URL is invalid"),
        ("TRIAD_LOG_FORMAT", "xml", "TRIAD_LOG_FORMAT is invalid"),
        ("TRIAD_GITHUB_API_URL", "api.github.com", "TRIAD_GITHUB_API_URL is invalid: must be"),
        ("TRIAD_GITHUB_API_URL", "https://", "TRIAD_GITHUB_API_URL is invalid: must be"),
        ("TRIAD_GITHUB_API_URL", "https://ghe:99999/api/v3", "TRIAD_GITHUB_API_URL is invalid"),
        ("TRIAD_OPENAI_BASE_URL", "localhost:8080/v1", "TRIAD_OPENAI_BASE_URL is invalid"),
        ("TRIAD_ADMIN_ALLOWED_HOSTS", "a*.example.com", "TRIAD_ADMIN_ALLOWED_HOSTS is invalid"),
    ],
)
def test_a_malformed_setting_fails_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings()
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, "TRIAD_APP_ID"),
        ({"TRIAD_APP_ID": "1"}, "TRIAD_PRIVATE_KEY"),
        ({"TRIAD_APP_ID": "1", "TRIAD_PRIVATE_KEY": "PEM"}, "TRIAD_WEBHOOK_SECRET"),
    ],
)
def test_a_server_without_app_credentials_names_the_missing_one(
    monkeypatch: pytest.MonkeyPatch, present: dict[str, str], missing: str
) -> None:
    for name, value in present.items():
        monkeypatch.setenv(name, _pem() if value == "PEM" else value)
    with pytest.raises(ConfigError, match=f"^{missing} is not set"):
        load_settings(ServerSettings)


def test_missing_malformed_and_an_unreadable_key_file_are_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIAD_PRIVATE_KEY_PATH", "/nowhere/app.pem")
    monkeypatch.setenv("TRIAD_LOG_FORMAT", "xml")
    monkeypatch.setenv("TRIAD_GITHUB_API_URL", "api.github.com")
    with pytest.raises(ConfigError) as raised:
        load_settings(ServerSettings)
    problems = str(raised.value).split("; ")
    assert [problem.split(":")[0] for problem in problems] == [
        "TRIAD_APP_ID is not set",
        "TRIAD_PRIVATE_KEY_PATH",
        "TRIAD_WEBHOOK_SECRET is not set",
        "TRIAD_GITHUB_API_URL is invalid",
        "TRIAD_LOG_FORMAT is invalid",
    ]
    assert "TRIAD_PRIVATE_KEY_PATH: cannot read /nowhere/app.pem: No such file" in problems[1]


def test_a_worker_needs_no_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_APP_ID", "1")
    monkeypatch.setenv("TRIAD_PRIVATE_KEY", _pem())
    settings = load_settings(WorkerSettings)
    assert settings.webhook_secret is None
    monkeypatch.delenv("TRIAD_APP_ID")
    with pytest.raises(ConfigError, match=r"^TRIAD_APP_ID is not set: [^;]*$"):
        load_settings(WorkerSettings)


def test_admin_allowed_hosts_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().admin_allowed_hosts == ["127.0.0.1", "localhost", "[::1]"]
    monkeypatch.setenv("TRIAD_ADMIN_ALLOWED_HOSTS", "Admin.Example.com, ::1,*.internal")
    hosts = load_settings().admin_allowed_hosts
    assert hosts == ["admin.example.com", "[::1]", "*.internal"]


def test_a_blank_admin_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_ADMIN_TOKEN", " ")
    assert load_settings().admin_token is None


@pytest.mark.parametrize("secret", ["", "   ", "abc", "fifteen-chars!!"])
def test_an_empty_or_short_webhook_secret_stops_the_server_saying_how_to_make_one(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("TRIAD_APP_ID", "1")
    monkeypatch.setenv("TRIAD_PRIVATE_KEY", _pem())
    monkeypatch.setenv("TRIAD_WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError, match=r"^TRIAD_WEBHOOK_SECRET is invalid: too weak") as raised:
        load_settings(ServerSettings)
    assert "secrets.token_hex(32)" in str(raised.value) and "\n" not in str(raised.value)
    load_settings(WorkerSettings)  # a worker verifies no webhook
    monkeypatch.setenv("TRIAD_WEBHOOK_SECRET", "sixteen-chars-ok")
    load_settings(ServerSettings)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TRIAD_WEBHOOK_MAX_UNVERIFIED_BYTES", "1048576", "25 MiB, GitHub's largest delivery"),
        ("TRIAD_WEBHOOK_MAX_UNVERIFIED_BYTES", "26214399", "at least 26214400"),
        ("TRIAD_WEBHOOK_READ_SECONDS", "2", "GitHub waits 10 s"),
        ("TRIAD_WEBHOOK_MAX_CONNECTIONS", "2", "several deliveries at once"),
    ],
)
def test_door_limits_that_would_refuse_real_deliveries_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name} is invalid: ") as raised:
        load_settings()
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_door_limits_at_their_floor_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAD_WEBHOOK_MAX_UNVERIFIED_BYTES", str(25 * 1024 * 1024))
    monkeypatch.setenv("TRIAD_WEBHOOK_READ_SECONDS", "10")
    monkeypatch.setenv("TRIAD_WEBHOOK_MAX_CONNECTIONS", "16")
    settings = load_settings()
    assert settings.webhook_max_unverified_bytes == 25 * 1024 * 1024
