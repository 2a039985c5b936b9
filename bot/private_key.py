"""The App's private key as operators give it: PEM, PEM with `\\n` escapes, or base64 PEM.

`.env` files and `docker run --env-file` hold one line per variable, so a key often arrives
with literal `\\n` escapes, or base64-encoded (Probot accepts both). The key is parsed at start:
a value that is not an RSA private key stops the process, instead of every delivery failing
later when the first JWT is signed.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_PEM_START = "-----BEGIN"


class PrivateKeyError(ValueError):
    """The value is not a usable private key; the message says why (never the value)."""


def normalize_private_key(raw: str) -> str:
    """The key as plain PEM text, after checking that it parses as an RSA private key."""
    text = raw.strip().strip('"').strip("'").strip()
    if not text:
        raise PrivateKeyError("is empty")
    if _PEM_START not in text:
        text = _from_base64(text)
    if "\\n" in text:
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n")
    text = text.replace("\r\n", "\n").strip() + "\n"
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise PrivateKeyError("is encrypted with a passphrase; give the key without one") from None
    except (ValueError, binascii.Error):
        raise PrivateKeyError(
            "is not a readable PEM private key (give the .pem file GitHub generated: as PEM, "
            "PEM with \\n escapes, or base64)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PrivateKeyError("is not an RSA key; GitHub Apps sign their JWTs with RS256")
    return text


def _from_base64(text: str) -> str:
    try:
        decoded = base64.b64decode("".join(text.split()), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise PrivateKeyError(
            "is neither PEM ('-----BEGIN ... PRIVATE KEY-----') nor base64-encoded PEM"
        ) from None
    if _PEM_START not in decoded:
        raise PrivateKeyError("is base64, but what it encodes is not a PEM private key")
    return decoded
