"""Webhook ingest: Triad's real server on SQLite against a bare FastAPI endpoint, same run.

Starts each server as its own process on loopback (Triad's web process alone unless
--job-concurrency is given), then sends signed ~15 KB issues.labeled
deliveries: first at a fixed offered rate (latency: p50/p99 time to answer), then as fast as
`--concurrency` connections allow (throughput). The last line is Triad's share of the bare
endpoint's throughput.

    .venv/bin/python bench/webhook_ingest.py --deliveries 2000 --rate 200 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.github.signature import sign

SECRET = "bench-secret-of-32-characters-ok"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Figures:
    answered: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def payload(number: int, size: int = 15_000) -> bytes:
    """An issues.labeled delivery padded to about `size` bytes, as real ones are; each `number`
    makes another body (the same body twice would be a replay, answered 200 `duplicate`)."""
    user = {"login": "octocat", "id": 1, "type": "User", "site_admin": False}
    body: dict[str, Any] = {
        "action": "labeled",
        "issue": {
            "number": number,
            "title": "Found a bug",
            "body": "",
            "user": user,
            "labels": [{"name": "bug", "color": "d73a4a"}],
            "state": "open",
        },
        "label": {"name": "triad:design", "color": "5319e7"},
        "repository": {"id": 1, "name": "hello", "full_name": "octocat/hello", "owner": user},
        "sender": user,
        "installation": {"id": 7},
    }
    filler = size - len(json.dumps(body))
    body["issue"]["body"] = "x" * max(filler, 0)
    return json.dumps(body).encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(400):
            try:
                await client.post(f"{url}/api/github/webhooks", content=b"{}")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


async def send_all(
    url: str, first: int, count: int, concurrency: int, rate: float | None
) -> Figures:
    """Send `count` deliveries (numbered from `first`); with `rate`, start them on a fixed
    schedule (open loop)."""
    latencies: list[float] = []
    errors = 0
    bodies = [payload(n) for n in range(first, first + count)]
    signatures = [sign(body, SECRET) for body in bodies]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one(n: int, due: float) -> None:
            nonlocal errors
            if rate:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            async with gate:
                started = time.perf_counter()
                answer = await client.post(
                    "/api/github/webhooks",
                    content=bodies[n],
                    headers={
                        "X-GitHub-Event": "issues",
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": signatures[n],
                        "Content-Type": "application/json",
                    },
                )
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 202:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(one(n, began + n / rate if rate else 0) for n in range(count)))
        seconds = time.perf_counter() - began
    return Figures(count - errors, errors, seconds, latencies)


def report(name: str, latency: Figures, throughput: Figures) -> None:
    print(
        f"{name:<6} at {latency.per_second:6.1f}/s offered: p50 {latency.percentile(0.5):6.2f} ms"
        f"  p99 {latency.percentile(0.99):6.2f} ms  errors {latency.errors};"
        f"  saturated: {throughput.per_second:7.1f} deliveries/s"
        f"  (p50 {statistics.median(throughput.latencies_ms):.1f} ms, errors {throughput.errors})"
    )


async def measure(url: str, args: argparse.Namespace) -> tuple[Figures, Figures]:
    await wait_ready(url)
    await send_all(url, 0, 100, args.concurrency, None)  # warm-up
    latency = await send_all(url, 100, args.deliveries, args.concurrency, args.rate)
    throughput = await send_all(url, 100 + args.deliveries, args.deliveries, args.concurrency, None)
    return latency, throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="offered deliveries per second")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--job-concurrency",
        type=int,
        default=0,
        help="in-process workers of the Triad server (default 0: the web process alone, as when "
        "workers run in their own processes; with N > 0 they run each delivery's job too, and "
        "with no GitHub to reach here those jobs fail and retry: a measure of contention only)",
    )
    args = parser.parse_args()

    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            **os.environ,
            "TRIAD_APP_ID": "1",
            "TRIAD_PRIVATE_KEY_PATH": str(Path(scratch) / "key.pem"),
            "TRIAD_WEBHOOK_SECRET": SECRET,
            "TRIAD_DATABASE_URL": f"sqlite:///{scratch}/bench.db",
            "TRIAD_LOG_LEVEL": "WARNING",
        }
        Path(scratch, "key.pem").write_text(_throwaway_key())
        results = {}
        for name, command in (
            (
                "triad",
                [
                    python,
                    "-m",
                    "bot.cli",
                    "serve",
                    "--port",
                    "{port}",
                    "--job-concurrency",
                    str(args.job_concurrency),
                ],
            ),
            (
                "bare",
                [
                    python,
                    "-m",
                    "uvicorn",
                    "bench.bare_app:app",
                    "--port",
                    "{port}",
                    "--log-level",
                    "warning",
                ],
            ),
        ):
            port = free_port()
            process = start([part.format(port=port) for part in command], environment)
            try:
                results[name] = asyncio.run(measure(f"http://127.0.0.1:{port}", args))
            finally:
                process.terminate()
                process.wait(timeout=60)
            report(name, *results[name])
    ratio = results["triad"][1].per_second / results["bare"][1].per_second
    print(f"triad/bare throughput ratio: {ratio:.2f}")


def _throwaway_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


if __name__ == "__main__":
    main()
