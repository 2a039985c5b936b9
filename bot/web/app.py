"""Assemble the FastAPI applications; routes live in their own modules.

The public app (webhooks, /healthz) and the admin app (admin page, /metrics, /healthz) are
served on separate ports, so the admin page and metrics never face the internet by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from bot.settings import LOOPBACK_HOSTS
from bot.web import admin, admin_auth, health, metrics_route
from bot.web.context import AppContext
from bot.web.webhooks import WEBHOOK_PATH, WebhookEndpoint

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class PublicApp(FastAPI):
    """FastAPI, with the webhook path answered by its plain ASGI endpoint before FastAPI's
    own layers (every delivery is on it; /healthz and the rest go through FastAPI)."""

    webhook: WebhookEndpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH:
            await self.webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(context: AppContext, lifespan: Lifespan | None = None) -> PublicApp:
    app = PublicApp(
        title="Triad",
        summary="Architect, developer and two reviewers, with humans at every gate.",
        lifespan=lifespan,
        # the internet-facing port serves GitHub and health checks, no API documentation
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.context = context
    app.webhook = WebhookEndpoint(context)
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
