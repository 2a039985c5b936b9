"""The redactor's one-scan check changes nothing it returns (every text comes out exactly as
the secret and pattern passes alone would leave it), and no text makes it take long."""

from __future__ import annotations

import random
import time

import pytest

from bot.redaction import REDACTED, Redactor

SECRETS = ["webhook-secret-of-32-characters", "adm1n-token-abcdef", "pa55word", "p4ss.w*rd(x)|a+b?"]

TOKENS = [
    "ghp_" + "A1" * 12,
    "gho_" + "b2" * 12,
    "github_pat_" + "C3_" * 9,
    "sk-ant-" + "d4" * 10,
    "xoxb-" + "1234-" * 3,
    "AKIA" + "EXAMPLE1" * 2,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "eyJ" + "x5c" * 1000 + ".eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",  # a 3 kB header
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "-----begin private key-----\nMIIEow",  # lower case, and never ended
    "postgresql://triad:pa55w0rd@db.internal:5432/triad",
    "REDIS://user:hunter22@cache/0",
]


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
    assert redactor.text(text) == redactor._passes(text)


@pytest.mark.parametrize("token", TOKENS + SECRETS)
def test_every_secret_and_token_is_redacted(token: str) -> None:
    redacted = Redactor(SECRETS).text(f"see {token} here")
    assert REDACTED in redacted and token not in redacted


def test_a_redactor_with_no_secrets_still_finds_tokens() -> None:
    assert Redactor().text(f"token {TOKENS[0]}") == f"token {REDACTED}"
    assert Redactor().text("nothing here") == "nothing here"


def test_random_fragments_come_out_as_the_passes_alone_leave_them() -> None:
    redactor = Redactor(SECRETS)
    fragments = [*TOKENS, *SECRETS, "-", "_", "x", " ", "]", ":", "@", "//", ".", "eyJ", "gh"]
    rng = random.Random(14)
    for _ in range(3000):
        text = "".join(rng.choice(fragments)[: rng.randint(1, 40)] for _ in range(8))
        assert redactor.text(text) == redactor._passes(text), text


@pytest.mark.parametrize("unit", ["a-", "-eyJ", "eyJ", "://a:", "-----BEGIN ", "sk-", "AKIA"])
def test_no_text_takes_long_to_redact(unit: str) -> None:
    """60 kB of a pattern's start repeated (issue text reaches prompts): "a-" took 6 s when
    the URL pattern matched the scheme, "-eyJ" 0.4 s with a JWT's header unbounded."""
    text = unit * (60_000 // len(unit))
    started = time.perf_counter()
    for given in (text, f"{TOKENS[0]} {text}"):  # the check alone, and the passes too
        Redactor(SECRETS).text(given)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text", ["delivery stored", "Codertocat/Hello-World", "p4ssXwwrdx", "aab"])
def test_a_text_with_nothing_to_redact_is_scanned_once(text: str) -> None:
    """Secrets are found as written: a metacharacter in one matches only itself."""
    redactor = Redactor(SECRETS)
    assert redactor._suspect.search(text) is None and redactor.text(text) is text


def test_code_that_builds_a_url_keeps_its_placeholders() -> None:
    """What a model reads of a diff: no scheme before the `://`, nothing to redact."""
    code = 'url = f"{scheme}://{user}:{password}@{host}"'
    assert Redactor(SECRETS).text(code) == code
