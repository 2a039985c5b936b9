"""The lab's ports for servers it starts later are ones no outgoing connection takes meanwhile."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from triad_lab import ports
from triad_lab.ports import _ephemeral_range, free_port


def test_a_free_port_is_outside_the_ephemeral_range_and_can_be_listened_on() -> None:
    first, last = _ephemeral_range()
    port = free_port()
    assert port >= 10_000 and not first <= port <= last
    with socket.create_server(("127.0.0.1", port)) as server:
        assert server.getsockname()[1] == port


class _Picks:
    """Stands in for the random choice: the ports to try, in order."""

    def __init__(self, *ports: int) -> None:
        self._ports = list(ports)

    def choice(self, ports: list[int]) -> int:
        port = self._ports.pop(0)
        assert port in ports
        return port


def test_a_port_something_listens_on_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", free_port())) as taken:
        held = taken.getsockname()[1]
        spare = free_port()
        monkeypatch.setattr(ports, "_handed_out", set())  # as if another process chose them
        monkeypatch.setattr(ports, "_pick", _Picks(held, spare))
        assert free_port() == spare


def test_a_port_is_handed_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    given = free_port()
    other = free_port()
    monkeypatch.setattr(ports, "_handed_out", {given})
    monkeypatch.setattr(ports, "_pick", _Picks(given, other))
    assert free_port() == other  # given is free again, but a caller may be about to bind it


@pytest.mark.skipif(
    Path("/proc/sys/net/ipv4/ip_nonlocal_bind").is_file()
    and Path("/proc/sys/net/ipv4/ip_nonlocal_bind").read_text().strip() == "1",
    reason="this machine binds any address (ip_nonlocal_bind)",
)
def test_an_address_this_machine_lacks_is_said_so_at_once() -> None:
    with pytest.raises(OSError) as raised:
        free_port("192.0.2.1")  # TEST-NET-1: never one of this machine's addresses
    assert "no free port" not in str(raised.value)


def test_seeding_random_does_not_repeat_the_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests seed `random` (the redaction fuzz does): the ports must not follow it, even in
    processes that have handed none out yet."""
    saved = random.getstate()
    try:
        chosen = set()
        for _ in range(4):
            monkeypatch.setattr(ports, "_handed_out", set())
            random.seed(7)
            chosen.add(free_port())
    finally:
        random.setstate(saved)
    assert len(chosen) > 1


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_an_ipv6_host_gets_a_port_there() -> None:
    port = free_port("::1")
    with socket.create_server(("::1", port), family=socket.AF_INET6) as server:
        assert server.getsockname()[1] == port


def test_a_range_spanning_every_port_still_leaves_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_ephemeral_range", lambda: (1024, 65_535))
    with socket.create_server(("127.0.0.1", free_port())) as server:
        assert server.getsockname()[1] >= 10_000
