"""The ingest benchmark's load generator, run as its own process: signed deliveries over
keep-alive HTTP/1.1, one JSON line of figures on stdout.

    python bench/loadgen.py --port 3000 --mode max --seconds 5 --connections 32
    python bench/loadgen.py --port 3000 --mode rate --rate 100 --seconds 10

`max`: `--connections` connections each send the next delivery as soon as the last is answered
(throughput). `rate`: open loop, delivery i is due at start + i/rate whatever came before; its
latency runs from that due time, so time spent waiting for a free connection (queueing) counts.
Every answer that is not 2xx, every timeout and every connection error is counted; none stops
the run. A small raw HTTP client keeps the generator's own CPU low (it shares the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import Template, signature, templates

PATH = "/api/github/webhooks"


@dataclass
class Tally:
    """What came back; a timeout or a connection error counts in the latencies at the timeout
    (a delivery that never got its answer is at least that late), so p50/p99 cannot look better
    by dropping them; `p99_at_least_timeout` says the p99 is a floor, not a measure."""

    timeout_ms: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    timeouts: int = 0
    connection_errors: int = 0

    def failed(self, timed_out: bool) -> None:
        if timed_out:
            self.timeouts += 1
        else:
            self.connection_errors += 1
        self.latencies.append(self.timeout_ms)

    def figures(self, seconds: float, sent: int) -> dict[str, object]:
        ordered = sorted(self.latencies)
        unanswered = self.timeouts + self.connection_errors

        def at(q: float) -> float | None:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None

        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return {
            "sent": sent,
            "ok": ok,
            "non_success": {str(s): n for s, n in self.statuses.items() if not 200 <= s < 300},
            "timeouts": self.timeouts,
            "connection_errors": self.connection_errors,
            "seconds": seconds,
            "per_second": ok / seconds,
            "p50_ms": at(0.50),
            "p99_ms": at(0.99),
            "max_ms": ordered[-1] if ordered else None,
            "p99_at_least_timeout": unanswered > 0.01 * max(len(ordered), 1),
        }


class Connection:
    """One keep-alive connection; reopened after an error or a `Connection: close`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, event: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "User-Agent: GitHub-Hookshot/bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-GitHub-Event: {event}\r\n"
            f"X-GitHub-Delivery: {uuid.uuid4()}\r\nX-Hub-Signature-256: "
        ).encode()
        self.writer.write(head + signature(body) + b"\r\n\r\n" + body)
        headers = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(headers.split(" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in headers.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and "close" in value:
                close = True
        if chunked:
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _one(
    connection: Connection,
    template: Template,
    sequence: int,
    due: float,
    timeout: float,
    tally: Tally,
) -> None:
    body = template.body(sequence)
    try:
        async with asyncio.timeout(timeout):
            status = await connection.post(template.event, body)
    except TimeoutError:
        tally.failed(timed_out=True)
        connection.close()
        return
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        tally.failed(timed_out=False)
        connection.close()
        return
    tally.statuses[status] += 1
    tally.latencies.append((time.perf_counter() - due) * 1000)


async def saturate(args: argparse.Namespace, chosen: list[Template]) -> dict[str, object]:
    tally = Tally(args.timeout * 1000)
    sequence = args.first
    began = time.perf_counter()
    end = began + args.seconds

    async def loop() -> None:
        nonlocal sequence
        connection = Connection(args.port)
        while time.perf_counter() < end:
            sequence += 1
            await _one(
                connection,
                chosen[sequence % len(chosen)],
                sequence,
                time.perf_counter(),
                args.timeout,
                tally,
            )
        connection.close()

    await asyncio.gather(*(loop() for _ in range(args.connections)))
    return tally.figures(time.perf_counter() - began, sequence - args.first)


async def offer(args: argparse.Namespace, chosen: list[Template]) -> dict[str, object]:
    tally = Tally(args.timeout * 1000)
    idle: list[Connection] = []
    count = int(args.rate * args.seconds)
    tasks: set[asyncio.Task[None]] = set()

    async def send(sequence: int, due: float) -> None:
        connection = idle.pop() if idle else Connection(args.port)
        await _one(connection, chosen[sequence % len(chosen)], sequence, due, args.timeout, tally)
        idle.append(connection)

    began = time.perf_counter()
    for n in range(count):
        due = began + n / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(args.first + n, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    seconds = time.perf_counter() - began
    for connection in idle:
        connection.close()
    return tally.figures(seconds, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("max", "rate"), required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32, help="max mode")
    parser.add_argument("--rate", type=float, default=100.0, help="rate mode: offered per second")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a timeout")
    parser.add_argument("--first", type=int, default=0, help="first sequence number (uniqueness)")
    parser.add_argument("--events", default="", help="comma-separated events to send (all)")
    args = parser.parse_args()
    chosen = [t for t in templates() if not args.events or t.event in args.events.split(",")]
    run = saturate if args.mode == "max" else offer
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    print(json.dumps(runner(run(args, chosen))))


if __name__ == "__main__":
    main()
