"""Assemble the FastAPI application; routes live in their own modules."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from bot.web import health, webhooks
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
