"""The body's digests are hashlib's and hmac's, computed without letting another thread take
the GIL (the store's thread would take it from the event loop: `bot.digests`)."""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.digests import PIECE, _hex, hmac_sha256_hex, sha256_hex

SIZES = [0, 1, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 2 * PIECE + 1, 15_600, 100_003]


@pytest.mark.parametrize("size", SIZES)
def test_the_digests_are_hashlibs_and_hmacs(size: int) -> None:
    data = os.urandom(size)
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert hmac_sha256_hex(b"key", data) == hmac.new(b"key", data, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_the_hmac_is_hmacs_for_keys_of_any_length_and_again_for_the_same_key(length: int) -> None:
    """Keys shorter than SHA-256's block are padded, longer ones hashed first (RFC 2104); a
    key's padded hashes are kept, and a body hashed with them leaves them as they were."""
    key = os.urandom(length)
    for data in (b"", os.urandom(100), os.urandom(15_600), b"", os.urandom(3)):
        assert hmac_sha256_hex(key, data) == hmac.new(key, data, hashlib.sha256).hexdigest()


@pytest.fixture
def slow_switching() -> Iterator[None]:
    """No thread is made to give the GIL up during a test (CPython asks after this long)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)
    yield
    sys.setswitchinterval(interval)


def _steps_taken_meanwhile(hashing: Callable[[], object]) -> int:
    """How many times another thread, always waiting for the GIL, got it while `hashing` ran."""
    steps = 0
    stop = threading.Event()
    started = threading.Event()

    def step() -> None:
        nonlocal steps
        started.set()
        while not stop.is_set():
            steps += 1
            time.sleep(0)  # lets go of the GIL, then waits for it again

    other = threading.Thread(target=step)
    other.start()
    started.wait()
    before = steps
    hashing()
    during = steps - before
    stop.set()
    other.join()
    return during


class _Recording:
    """A hasher that records the size of every piece it is fed."""

    def __init__(self) -> None:
        self.pieces: list[int] = []

    def update(self, data: bytes | memoryview, /) -> None:
        self.pieces.append(len(data))

    def hexdigest(self) -> str:
        return ""


def test_no_piece_is_long_enough_for_hashlib_to_let_go_of_the_gil() -> None:
    hasher = _Recording()
    _hex(hasher, os.urandom(15_600))
    assert sum(hasher.pieces) == 15_600
    assert max(hasher.pieces) < 2048  # CPython's HASHLIB_GIL_MINSIZE


@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(), reason="a free-threaded Python has none"
)
@pytest.mark.usefixtures("slow_switching")
def test_hashing_a_body_keeps_the_gil() -> None:
    data = os.urandom(32 * 1024 * 1024)  # ~20 ms a hash: time for the other thread to run
    # hashed whole, the other thread runs meanwhile (a few tries: it must be scheduled)
    assert any(
        _steps_taken_meanwhile(lambda: hashlib.sha256(data).hexdigest()) > 0 for _ in range(5)
    )
    assert _steps_taken_meanwhile(lambda: sha256_hex(data)) == 0
    assert _steps_taken_meanwhile(lambda: hmac_sha256_hex(b"key", data)) == 0
