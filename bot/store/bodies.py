"""How the SQLite store keeps a delivery's body: as an LZ4 frame.

A body is 3-26 KB of JSON, and every one is kept for the retention period (`triad deliveries
prune`). SQLite has no column compression, so it wrote each body whole twice (to the WAL, then
to the database file): the kernel writing those pages, a few per body, was the largest part
of a delivery's CPU. An LZ4 frame is about a fifth of the size and takes about 5 µs to make
(1.5 to read). PostgreSQL compresses the column itself (lz4 TOAST, its migration 0013);
compressing in Triad as well measured worse there, so its store keeps bodies as sent (README
"Benchmarks"). SQLite's migration 0013 marks the change: an older Triad refuses the file.

A frame starts with LZ4's magic number, whose first byte is 0x04. A body kept as sent
(stored by an earlier release, or pruned and so empty) is JSON text: a body that is not JSON
is answered 400 and never stored, and JSON text in any encoding `json.loads` reads (UTF-8,
-16 or -32, with or without a byte-order mark) never starts with that byte. So both read back.
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
