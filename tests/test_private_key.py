"""The App's private key: PEM, `\\n`-escaped PEM or base64 accepted; anything else stops the
start with one line naming the variable; `.env` is read, the environment wins over it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.cli import main
from bot.errors import ConfigError
from bot.private_key import PrivateKeyError, normalize_private_key
from bot.settings import ServerSettings, load_settings

VARIABLES = (
    "TRIAD_APP_ID",
    "TRIAD_PRIVATE_KEY",
    "TRIAD_PRIVATE_KEY_PATH",
    "TRIAD_WEBHOOK_SECRET",
    "TRIAD_WEBHOOK_PROXY_URL",
    "ANTHROPIC_API_KEY",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def test_plain_escaped_and_base64_keys_give_the_same_pem(pem: str) -> None:
    escaped = pem.strip().replace("\n", "\\n")
    encoded = base64.b64encode(pem.encode()).decode()
    wrapped = "\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64))
    for given in (pem, escaped, f'"{escaped}"', encoded, wrapped, pem.replace("\n", "\r\n")):
        assert normalize_private_key(given) == pem


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "is empty"),
        ("not a key", "neither PEM"),
        (base64.b64encode(b"hello").decode(), "not a PEM private key"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END RSA PRIVATE KEY-----\n",
            "not a readable PEM private key",
        ),
    ],
)
def test_what_is_not_a_key_is_refused_without_echoing_it(given: str, reason: str) -> None:
    with pytest.raises(PrivateKeyError, match=reason) as raised:
        normalize_private_key(given)
    assert given.strip() == "" or given not in str(raised.value)


def test_a_non_rsa_key_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(PrivateKeyError, match="not an RSA key"):
        normalize_private_key(text)


def test_settings_hold_the_parsed_key(monkeypatch: pytest.MonkeyPatch, pem: str) -> None:
    monkeypatch.setenv("TRIAD_PRIVATE_KEY", pem.strip().replace("\n", "\\n"))
    settings = load_settings()
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value() == pem


def test_a_key_file_with_garbage_names_the_path_variable(tmp_path: Path) -> None:
    bad = tmp_path / "app.pem"
    bad.write_text("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n")
    os.environ["TRIAD_PRIVATE_KEY_PATH"] = str(bad)
    try:
        with pytest.raises(ConfigError, match=r"^TRIAD_PRIVATE_KEY_PATH: .*app.pem is not"):
            load_settings()
    finally:
        del os.environ["TRIAD_PRIVATE_KEY_PATH"]


def test_dot_env_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pem: str
) -> None:
    escaped = pem.strip().replace("\n", "\\n")
    (tmp_path / ".env").write_text(
        f'TRIAD_APP_ID=42\nTRIAD_PRIVATE_KEY="{escaped}"\nTRIAD_WEBHOOK_SECRET=from-file\n'
        "ANTHROPIC_API_KEY=sk-from-file\n"
    )
    monkeypatch.setenv("TRIAD_WEBHOOK_SECRET", "from-environment")
    settings = load_settings(ServerSettings)
    assert settings.app_id == 42
    assert settings.private_key is not None and settings.private_key.get_secret_value() == pem
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == "from-environment"
    assert settings.anthropic_api_key is not None


def test_serve_with_a_bad_key_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIAD_APP_ID", "1")
    monkeypatch.setenv("TRIAD_WEBHOOK_SECRET", "s")
    monkeypatch.setenv(
        "TRIAD_PRIVATE_KEY",
        "-----BEGIN RSA PRIVATE KEY-----\\ngarbage\\n-----END RSA PRIVATE KEY-----",
    )
    assert main(["serve", "--port", "3999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("triad: error: TRIAD_PRIVATE_KEY is invalid: is not a readable PEM")
    assert "garbage" not in err[0]
