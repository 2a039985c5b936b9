"""The one redactor: configured secrets and token-shaped strings are blanked out of everything
Triad sends a model, writes on GitHub or logs (formatted exceptions included).

Built once per process from the settings and the models file (`bot.llm.config.
process_redactor`): the providers' keys, the App's private key (as base64 and each long PEM
line too), the webhook secret, the admin token, the database password and every key variable
the models file names; GitHub's token formats (`ghs_`, `ghp_`, `github_pat_`), other
well-known key shapes and PEM keys are matched by pattern whatever their value.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

REDACTED = "[REDACTED]"
#: shorter configured values are not matched literally: they would blank ordinary words
MIN_SECRET_LENGTH = 6

#: not preceded by a letter or digit: `TOKEN_ghs_…` and `key=sk-…` match, `task-…` does not
_START = r"(?<![A-Za-z0-9])"

_PATTERNS = [
    # PEM keys (`RSA PRIVATE KEY`, `PRIVATE KEY`) and PGP ones (`PGP PRIVATE KEY BLOCK`)
    re.compile(
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.DOTALL | re.IGNORECASE,
    ),
    re.compile(_START + r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(_START + r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(_START + r"sk-[A-Za-z0-9_\-]{16,}"),
    re.compile(_START + r"xox[abprs]-[A-Za-z0-9\-]{10,}"),
    re.compile(_START + r"AKIA[0-9A-Z]{16}\b"),
    # JSON Web Tokens (a GitHub App's, an installation's OIDC): header.payload.signature; a
    # header is at most 2 kB here, as unbounded it took quadratic time on "-eyJ" repeated
    re.compile(_START + r"eyJ[A-Za-z0-9_-]{6,2048}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*"),
    # ... and the payload and signature of one with a longer header (a certificate chain):
    # a payload holds no ".", so each try stops at the next one
    re.compile(r"\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{16,}"),
]
#: the password in `scheme://user:password@host`, found from the `://` on (a scheme's
#: character before it): matching the scheme too took quadratic time on long runs of word
#: characters (60 kB: 6 s); code that builds a URL (`{scheme}://{user}:{password}@`) is left
_URL_PASSWORD = re.compile(r"(://(?<=[A-Za-z0-9+.-]://)[^\s:/@]*:)([^\s/@]+)(@)")


#: a PEM body line this long is key material, never an ordinary word
MIN_KEY_LINE = 40


def key_secrets(pem: str | None) -> list[str]:
    """A PEM key's other forms to redact: base64 of the whole key (how operators often give
    it) and each long body line (a key quoted in part, which the PEM pattern cannot see)."""
    if not pem:
        return []
    whole = pem.strip()
    encoded = [base64.b64encode(form.encode()).decode() for form in (whole, whole + "\n")]
    lines = [line.strip() for line in whole.splitlines() if not line.startswith("-----")]
    return [*encoded, *(line for line in lines if len(line) >= MIN_KEY_LINE)]


def url_secrets(url: str | None) -> list[str]:
    """The password in a URL (TRIAD_DATABASE_URL), as written and decoded, to redact."""
    if not url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


class Redactor:
    """Replaces configured secret values and well-known token formats with `[REDACTED]`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {value.strip() for value in secrets if len(value.strip()) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(values, key=len, reverse=True)
        self._suspect = _suspect(self._secrets)

    def text(self, text: str) -> str:
        if self._suspect.search(text) is None:  # nothing to redact: one scan, not one each
            return text
        return self._passes(text)

    def _passes(self, text: str) -> str:
        """Every secret, then every pattern, in turn (what `text` returns, unchecked)."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<3>", text)

    def scrub(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value (messages, tool inputs)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(item) for item in value]
        return value


_FLAGS = ((re.IGNORECASE, "i"), (re.DOTALL, "s"))


def _suspect(secrets: list[str]) -> re.Pattern[str]:
    """One pattern that finds something wherever `Redactor._passes` would change a text: each
    secret, each token pattern without its look-behind (so it matches at least where the
    pattern does, and a scan spends no look-behind at every position) and the URL password.
    When it finds nothing, no pass matches the text as given, so none changes it: each log
    line's fields and every prompt are then scanned once rather than once per secret and
    pattern (six of them took 13 µs a log line)."""
    alternatives = [re.escape(secret) for secret in secrets]
    for pattern in (*_PATTERNS, _URL_PASSWORD):
        if pattern.flags & ~(re.UNICODE | re.IGNORECASE | re.DOTALL):
            raise ValueError(f"a flag _suspect cannot scope: {pattern.pattern}")
        flags = "".join(letter for flag, letter in _FLAGS if pattern.flags & flag)
        alternatives.append(f"(?{flags}:{pattern.pattern.removeprefix(_START)})")
    return re.compile("|".join(alternatives))
