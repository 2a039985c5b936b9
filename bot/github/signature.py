"""Verify GitHub's `X-Hub-Signature-256` over the raw body, in constant time."""

from __future__ import annotations

import hmac

from bot.digests import hmac_sha256_hex


def sign(body: bytes, secret: str) -> str:
    """The header value GitHub sends for `body`: `sha256=<hex>`."""
    return "sha256=" + hmac_sha256_hex(secret.encode(), body)


def is_valid_signature(body: bytes, secret: str, header: str | None) -> bool:
    """True only for a `sha256=` signature that matches; the legacy SHA-1 header never counts."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())
