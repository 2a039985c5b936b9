"""How the SQLite store keeps a delivery's body: as an LZ4 frame.

A body is 5-25 KB of JSON, and every one is kept for the retention period (`triad prune`).
SQLite has no column compression, so it wrote each body whole twice (to the WAL, then to the
database file), and the kernel copying those bytes was the largest part of a delivery's CPU.
An LZ4 frame is about a fifth of the size and takes about 5 µs to make. PostgreSQL compresses
the column itself (lz4 TOAST, migration 0013); compressing in Triad as well measured worse
there, so its store keeps bodies as sent (`bench/harness.py`, README "Benchmarks").

A frame starts with LZ4's magic number. A body kept as sent (stored before this, or pruned
and so empty) is JSON text, which never starts with that byte, so both read back.
"""

from __future__ import annotations

import lz4.frame

#: the first bytes of every LZ4 frame
MAGIC = b"\x04\x22\x4d\x18"


def packed(body: bytes) -> bytes:
    """`body` as kept: an LZ4 frame (an empty, pruned body stays empty)."""
    return lz4.frame.compress(body) if body else body


def unpacked(kept: bytes | memoryview) -> bytes:
    """The body as it was sent, from what `packed` kept (or a body kept as sent)."""
    data = bytes(kept)
    return lz4.frame.decompress(data) if data.startswith(MAGIC) else data
