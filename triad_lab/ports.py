"""Ports for servers the lab starts later (a subprocess, a server task) on loopback."""

from __future__ import annotations

import errno
import random
import socket
from pathlib import Path

_LOWEST, _HIGHEST = 10_000, 65_535
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: without /proc: below Linux's default start, which is below macOS's and Windows' (49152)
_DEFAULT_EPHEMERAL = (32_768, 65_535)
_pick = random.SystemRandom()  # tests that seed `random` would otherwise get the same ports
#: every port this process handed out: two picks in a row never give the same one
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now at `host`, outside the kernel's ephemeral range.

    A port the kernel hands out for port 0 is one it may hand to the next outgoing connection
    too (a database client, the simulator's webhook), which can take it before the server
    binds it ("Address already in use", seen once in CI); outside the range nothing takes it
    unasked. A port in use (or in TIME_WAIT: the probe asks for no reuse) is passed over."""
    ports = _outside_ephemeral()
    for _ in range(200):
        port = _pick.choice(ports)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise  # no such address here (IPv6 turned off): not a busy port
        _handed_out.add(port)
        return port
    raise OSError(f"no free port at {host} in 200 tries outside the ephemeral range")


def _outside_ephemeral() -> range | list[int]:
    first, last = _ephemeral_range()
    below, above = range(_LOWEST, max(first, _LOWEST)), range(max(last + 1, _LOWEST), _HIGHEST + 1)
    if below and above:
        return [*below, *above]
    # a range tuned to span every port leaves none outside it: any, as the kernel would
    return below or above or range(_LOWEST, _HIGHEST + 1)


def _ephemeral_range() -> tuple[int, int]:
    try:
        first, last = map(int, _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL
    return first, last
