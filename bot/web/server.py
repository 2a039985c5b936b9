"""uvicorn serving Triad's apps on sockets Triad opened, stopped by Triad's own signal handling.

Imported only by processes that serve HTTP: a `triad worker` without a metrics port never
loads FastAPI or uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from bot.settings import Settings

__all__ = ["WebServer", "run", "web_config"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on uvloop when it is installed (uvicorn[standard] brings it): its event
    loop and transports cost less CPU per request than asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


class WebServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its own shutdown, which would kill the process before
    the workers drain; Triad handles the signals itself instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def web_config(app: FastAPI, settings: Settings, *, proxy_headers: bool = True) -> uvicorn.Config:
    """`proxy_headers`: read the client's address and scheme from a trusted proxy's
    X-Forwarded-* headers (uvicorn trusts loopback, or FORWARDED_ALLOW_IPS; the admin page's
    cookie is Secure behind TLS). The public port's paths (the webhook, /healthz) read
    neither, so it goes without: each delivery from a trusted address (the relay, a proxy on
    the same host) took a pass over its headers, about 3% of the event loop's samples at full
    load (py-spy, `bench/harness.py`'s load from loopback), though within the noise of
    deliveries a second."""
    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        proxy_headers=proxy_headers,
        timeout_graceful_shutdown=int(settings.drain_seconds),
    )
