"""uvicorn serving Triad's apps on sockets Triad opened, stopped by Triad's own signal handling.

Imported only by processes that serve HTTP: a `triad worker` without a metrics port never
loads FastAPI or uvicorn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from bot.settings import Settings

__all__ = ["WebServer", "web_config"]


class WebServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its own shutdown, which would kill the process before
    the workers drain; Triad handles the signals itself instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def web_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.drain_seconds),
    )
