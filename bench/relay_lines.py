"""What splitting a relayed channel's stream into lines costs: one long event in small chunks,
against the same text split at once.

Anyone who can post to a smee.io channel can send an event of up to 26 MB, and the relay
splits it on `triad serve`'s event loop as its chunks arrive. Prints the median CPU per size
over interleaved rounds, and its ratio to `str.splitlines` over the whole text (the least any
splitter does); the relay's cost must grow with the size, not with its square.

    .venv/bin/python bench/relay_lines.py --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.relay import MAX_EVENT_CHARS, capped_lines

#: what an HTTPS read hands the relay at a time (TLS records are at most 16 kB)
CHUNK = 4096
SIZES = (1_000_000, 4_000_000, 16_000_000)


async def _chunks(text: str) -> AsyncIterator[str]:
    for start in range(0, len(text), CHUNK):
        yield text[start : start + CHUNK]


async def _relay_split(text: str) -> int:
    return sum([1 async for _ in capped_lines(_chunks(text), MAX_EVENT_CHARS)])


def cpu_ms(split: str, text: str) -> float:
    started = time.process_time()
    if split == "relay":
        asyncio.run(_relay_split(text))
    else:
        text.splitlines()
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    texts = {size: "data: " + "x" * size + "\n\n" for size in SIZES}
    samples: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):  # interleaved: each round runs every contender on every size
        for size, text in texts.items():
            for split in ("relay", "splitlines"):
                samples.setdefault((split, size), []).append(cpu_ms(split, text))
    print(f"{'characters':>11} {'relay CPU ms':>13} {'splitlines ms':>14} {'ratio':>7}")
    for size in SIZES:
        relay = statistics.median(samples["relay", size])
        baseline = statistics.median(samples["splitlines", size])
        print(f"{size:>11,} {relay:>13.1f} {baseline:>14.2f} {relay / baseline:>7.0f}")


if __name__ == "__main__":
    main()
