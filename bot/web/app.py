"""Assemble the FastAPI applications; routes live in their own modules.

The public app (webhooks, /healthz) and the admin app (admin page, /metrics, /healthz) are
served on separate ports, so the admin page and metrics never face the internet by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from bot.settings import LOOPBACK_HOSTS
from bot.web import admin, admin_auth, health, metrics_route, webhooks
from bot.web.context import AppContext

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(context: AppContext, lifespan: Lifespan | None = None) -> FastAPI:
    app = FastAPI(
        title="Triad",
        summary="Architect, developer and two reviewers, with humans at every gate.",
        lifespan=lifespan,
    )
    app.state.context = context
    app.include_router(webhooks.router)
    app.include_router(health.router)
    return app


def create_admin_app(context: AppContext, allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> FastAPI:
    """The admin/metrics port: /admin (the operator's page), /metrics and /healthz, answering
    only requests that name one of `allowed_hosts` (TRIAD_ADMIN_ALLOWED_HOSTS)."""
    app = FastAPI(title="Triad admin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = context
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    admin_auth.guard(app, allowed_hosts)
    app.include_router(admin.router)
    return app
