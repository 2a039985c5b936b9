"""SHA-256 digests of a webhook body that keep the GIL while they hash.

CPython's hashlib lets other threads run while it hashes 2048 bytes or more in one call
(HASHLIB_GIL_MINSIZE). In `triad serve` the other thread is the store's, mostly waiting for the
GIL: each body hashed whole handed it over and the event loop waited to get it back, a futex
and a context switch each way. Fed in smaller pieces the hash runs on the loop's thread without
letting go: per delivery 8 futex calls became 2.5 and the process's CPU fell by about a sixth
(`bench/harness.py`), for 1 µs of Python per 15 kB. The digests are the same.

The HMAC is RFC 2104's over hashlib's SHA-256, its padded key hashed once per key rather than
once per body, and each piece fed straight to hashlib's object: `hmac.new` set the key up
for every delivery and fed each piece through a Python method (together about 3% of the event
loop's time a delivery at full load, py-spy). `tests/test_digests.py` holds it to `hmac`'s.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Protocol

#: SHA-256's block: a key is padded (or first hashed) to this length
_BLOCK = 64
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))

#: below HASHLIB_GIL_MINSIZE: a piece this long is hashed without releasing the GIL
PIECE = 2047


def sha256_hex(data: bytes) -> str:
    """`hashlib.sha256(data).hexdigest()`, on this thread."""
    return _hex(hashlib.sha256(), data)


def hmac_sha256_hex(key: bytes, data: bytes) -> str:
    """`hmac.new(key, data, hashlib.sha256).hexdigest()`, on this thread (`key`: bytes, kept
    with its padded hashes for the next call)."""
    inner, outer = _padded(key)
    inner = inner.copy()
    _feed(inner, data)
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@functools.lru_cache(maxsize=8)
def _padded(key: bytes) -> tuple[_Hash, _Hash]:
    """SHA-256 having read the key XOR ipad, and the key XOR opad (RFC 2104): a process
    checks every delivery with its one webhook secret."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_INNER_PAD)), hashlib.sha256(key.translate(_OUTER_PAD))


class _Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Hash(_Hasher, Protocol):
    def copy(self) -> _Hash: ...

    def digest(self) -> bytes: ...


def _hex(hasher: _Hasher, data: bytes) -> str:
    _feed(hasher, data)
    return hasher.hexdigest()


def _feed(hasher: _Hasher, data: bytes) -> None:
    view = memoryview(data)
    update = hasher.update
    for start in range(0, len(view), PIECE):
        update(view[start : start + PIECE])
