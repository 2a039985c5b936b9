"""Assemble the FastAPI applications; routes live in their own modules.

The public app (webhooks, /healthz) and the admin app (admin page, /metrics, /healthz) are
served on separate ports, so the admin page and metrics never face the internet by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

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


def create_admin_app(context: AppContext) -> FastAPI:
    """The admin/metrics port: /admin (the operator's page), /metrics and /healthz."""
    app = FastAPI(title="Triad admin", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = context
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(admin_auth.router)
    app.include_router(admin.router)
    app.add_exception_handler(admin_auth.LoginRequired, admin_auth.login_required)
    return app
