"""The redactor's one-scan check changes nothing it returns: every text comes out exactly as
the secret and pattern passes alone would leave it."""

from __future__ import annotations

import pytest

from bot.redaction import _PATTERNS, _URL_PASSWORD, REDACTED, Redactor

SECRETS = ["webhook-secret-of-32-characters", "adm1n-token-abcdef", "pa55word"]

TOKENS = [
    "ghp_" + "A1" * 12,
    "gho_" + "b2" * 12,
    "github_pat_" + "C3_" * 9,
    "sk-ant-" + "d4" * 10,
    "xoxb-" + "1234-" * 3,
    "AKIA" + "EXAMPLE1" * 2,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "-----begin private key-----\nMIIEow",  # lower case, and never ended
    "postgresql://triad:pa55w0rd@db.internal:5432/triad",
    "REDIS://user:hunter22@cache/0",
]


def sequential(redactor: Redactor, text: str) -> str:
    """`Redactor.text` without its check: every secret, then every pattern, in turn."""
    for secret in redactor._secrets:
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<3>", text)


def texts() -> list[str]:
    plain = [
        "",
        "delivery stored",
        "33027eef-1e3d-4fac-811f-d88d5dd20e64",
        "Codertocat/Hello-World",
        "a task-list and a skeleton key, ghp_ too short",
        "https://github.com/octo/repo/pull/7",
    ]
    found = list(plain)
    for token in TOKENS + SECRETS:
        found += [
            token,
            f"before {token} after",
            f"x{token}",  # a letter before: the patterns' look-behind refuses it
            f"]{token}",
            f"{SECRETS[0]}{token}",  # a secret right before: the passes blank it first
            f"{token}{SECRETS[1]}",
            f"{token}\n{token}",
        ]
    return found


@pytest.mark.parametrize("text", texts())
def test_the_check_returns_what_the_passes_alone_would(text: str) -> None:
    redactor = Redactor(SECRETS)
    assert redactor.text(text) == sequential(redactor, text)


@pytest.mark.parametrize("token", TOKENS + SECRETS)
def test_every_secret_and_token_is_redacted(token: str) -> None:
    redacted = Redactor(SECRETS).text(f"see {token} here")
    assert REDACTED in redacted and token not in redacted


def test_a_redactor_with_no_secrets_still_finds_tokens() -> None:
    assert Redactor().text(f"token {TOKENS[0]}") == f"token {REDACTED}"
    assert Redactor().text("nothing here") == "nothing here"
