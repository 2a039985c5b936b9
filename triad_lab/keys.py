"""Throwaway App keys for processes started in tests and benchmarks: Triad parses its private
key at start, so even a process that never asks GitHub anything needs a real one."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def throwaway_pem() -> str:
    """A fresh RSA private key (PKCS#8 PEM) that nobody holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
