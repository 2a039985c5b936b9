"""The runtime's checks before anything starts: ports that can be listened on, and an admin
port that never listens beyond loopback unguarded."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.metrics import Metrics
from bot.runtime import listen, require_admin_guard, sweep_seconds, web_servers
from bot.settings import Settings
from bot.store import Store
from bot.web.context import AppContext


def test_a_port_this_process_already_listens_on_is_refused() -> None:
    first = listen("127.0.0.1", 0, "--port")
    try:
        port = first.getsockname()[1]
        with pytest.raises(ConfigError) as raised:
            listen("127.0.0.1", port, "--admin-port (TRIAD_ADMIN_PORT)").close()
    finally:
        first.close()
    assert str(raised.value) == (
        f"--admin-port (TRIAD_ADMIN_PORT) {port}: cannot listen on 127.0.0.1:{port}: "
        "Address already in use"
    )


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
@pytest.mark.parametrize("client", ["127.0.0.1", "::1"])
def test_listening_on_every_ipv6_address_also_accepts_ipv4(client: str) -> None:
    """fly's private network and `fly proxy` are IPv6 only; a local probe is often IPv4: "::"
    serves both, whatever the system's default for IPv6 sockets."""
    server = listen("::", 0, "--admin-port (TRIAD_ADMIN_PORT)")
    try:
        port = server.getsockname()[1]
        with socket.create_connection((client, port), timeout=5) as caller:
            accepted, _ = server.accept()
            with accepted:
                caller.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
    finally:
        server.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.1.2.3", "admin.example.com"])
def test_an_admin_port_beyond_loopback_needs_the_token(host: str) -> None:
    with pytest.raises(ConfigError, match=r"^TRIAD_ADMIN_HOST is .* TRIAD_ADMIN_TOKEN is not set"):
        require_admin_guard(Settings(admin_host=host))
    for weak, length in (("t0ken", 5), ("\u200b" * 16, 16)):
        with pytest.raises(ConfigError, match=rf"TRIAD_ADMIN_TOKEN is too weak \({length} char"):
            require_admin_guard(Settings(admin_host=host, admin_token=SecretStr(weak)))
    require_admin_guard(Settings(admin_host=host, admin_token=SecretStr("t0ken" * 4)))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_an_admin_port_on_loopback_may_go_without_the_token(host: str) -> None:
    require_admin_guard(Settings(admin_host=host))


def test_the_sweep_runs_a_few_times_a_lease_unless_set() -> None:
    assert sweep_seconds(Settings(job_lease_seconds=60)) == 20
    assert sweep_seconds(Settings(job_lease_seconds=1)) == 1
    assert sweep_seconds(Settings(job_lease_seconds=600)) == 30
    assert sweep_seconds(Settings(sweep_seconds=5)) == 5
    assert sweep_seconds(Settings(sweep_seconds=0)) == 0, "off"


def test_only_the_admin_port_reads_a_proxys_forwarded_headers(store: Store) -> None:
    """The admin page's cookie is Secure behind a TLS proxy (X-Forwarded-Proto); the webhook
    port's paths read neither the client's address nor the scheme, so it skips the pass."""
    settings = Settings(webhook_secret=SecretStr("s" * 32))
    context = AppContext(store=store, metrics=Metrics(), webhook_secret="s" * 32)
    webhooks, admin = web_servers(context, settings, admin=True)
    assert (webhooks.config.proxy_headers, admin.config.proxy_headers) == (False, True)
    assert len(web_servers(context, settings, admin=False)) == 1
