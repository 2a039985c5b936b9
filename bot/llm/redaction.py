"""Secrets never reach a model: known values and token-shaped strings are blanked out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
#: shorter configured values are not matched literally: they would blank ordinary words
MIN_SECRET_LENGTH = 6

_PATTERNS = [
    re.compile(
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        re.DOTALL,
    ),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
]


class Redactor:
    """Replaces configured secret values and well-known token formats with `[REDACTED]`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {value.strip() for value in secrets if len(value.strip()) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(values, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def scrub(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value (messages, tool inputs)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(item) for item in value]
        return value
