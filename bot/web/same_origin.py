"""Local pages that change things refuse what another site makes a browser send.

A page on any site can make a visitor's browser post a form to `http://127.0.0.1:3000` (CSRF),
and a name it controls can resolve to 127.0.0.1 (DNS rebinding). So a state-changing request
must name this very origin (`Origin`, else `Referer`; `Sec-Fetch-Site` when the browser sends
it), and every request must carry a `Host` the server expects.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.requests import Request

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def cross_site_refusal(request: Request) -> str | None:
    """Why a state-changing request is refused as coming from elsewhere, or None."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None and fetched_from not in {"same-origin", "none"}:
        return f"a {fetched_from} request is refused: use this page itself"
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return "the request names no origin: use this page itself"
    if urlsplit(origin).netloc != request.headers.get("host"):
        return "a request from another site is refused: use this page itself"
    return None


def expected_hosts(host: str, port: int) -> frozenset[str]:
    """The `Host` values a browser sends to a server listening on `host:port`: the address
    itself (unless it is a wildcard) and the loopback names."""
    names = list(LOOPBACK_NAMES)
    if host not in {"", "0.0.0.0", "::"}:
        names.append(f"[{host}]" if ":" in host else host)
    return frozenset(f"{name}:{port}" for name in names) | (
        frozenset(names) if port == 80 else frozenset()
    )


def host_is_expected(request: Request, hosts: Collection[str]) -> bool:
    """True when the request's `Host` is one of `hosts`."""
    return request.headers.get("host", "") in hosts


def is_loopback(host: str) -> bool:
    """True for an address (or `localhost`) only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
