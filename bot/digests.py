"""SHA-256 digests of a webhook body that keep the GIL while they hash.

CPython's hashlib lets other threads run while it hashes 2048 bytes or more in one call
(HASHLIB_GIL_MINSIZE). In `triad serve` the other thread is the store's, mostly waiting for the
GIL: each body hashed whole handed it over and the event loop waited to get it back, a futex
and a context switch each way. Fed in smaller pieces the hash runs on the loop's thread without
letting go: per delivery 8 futex calls became 2.5 and the process's CPU fell by about a sixth
(`bench/harness.py`), for 1 µs of Python per 15 kB. The digests are the same.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

#: below HASHLIB_GIL_MINSIZE: a piece this long is hashed without releasing the GIL
PIECE = 2047


def sha256_hex(data: bytes) -> str:
    """`hashlib.sha256(data).hexdigest()`, on this thread."""
    return _hex(hashlib.sha256(), data)


def hmac_sha256_hex(key: bytes, data: bytes) -> str:
    """`hmac.new(key, data, hashlib.sha256).hexdigest()`, on this thread."""
    return _hex(hmac.new(key, digestmod=hashlib.sha256), data)


class _Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


def _hex(hasher: _Hasher, data: bytes) -> str:
    view = memoryview(data)
    for start in range(0, len(view), PIECE):
        hasher.update(view[start : start + PIECE])
    return hasher.hexdigest()
