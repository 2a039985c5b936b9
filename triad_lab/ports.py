"""Ports for servers the lab starts later (a subprocess, a server task) on loopback."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 10_000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_DEFAULT_EPHEMERAL_START = 32_768  # Linux's default; macOS and Windows start at 49152
_pick = random.SystemRandom()  # tests that seed `random` would otherwise get the same ports


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now at `host`, chosen below the kernel's ephemeral range.

    A port the kernel hands out for port 0 is one it may hand to the next outgoing connection
    too (a database client, the simulator's webhook), which can take it before the server
    binds it ("Address already in use", seen once in CI); below the range nothing takes it
    unasked."""
    first = _ephemeral_start()
    for _ in range(200):
        port = _pick.randrange(_LOWEST, first) if first > _LOWEST else 0
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port at {host} between {_LOWEST} and {first}")


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _DEFAULT_EPHEMERAL_START
