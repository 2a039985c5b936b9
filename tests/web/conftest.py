"""A webhook client over the real app, on each store backend."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.github.signature import sign
from bot.metrics import Metrics
from bot.store import Store
from bot.web.app import PublicApp, create_app
from bot.web.context import AppContext

SECRET = "it's a secret to everybody"


class WebhookClient:
    """Sends deliveries the way GitHub does, signed with SECRET unless told otherwise."""

    def __init__(self, http: httpx.AsyncClient, context: AppContext, app: PublicApp) -> None:
        self.http = http
        self.context = context
        self.endpoint = app.webhook
        self.wakeups = 0

    async def send(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        delivery: str | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, secret),
            "Content-Type": "application/json",
        }
        sent.update(headers or {})
        return await self.http.post("/api/github/webhooks", content=body, headers=sent)


@pytest.fixture
async def webhooks(store: Store) -> AsyncIterator[WebhookClient]:
    context = AppContext(store=store, metrics=Metrics(), webhook_secret=SECRET)
    app = create_app(context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://triad.test") as http:
        client = WebhookClient(http, context, app)

        def wake(jobs: int) -> None:
            client.wakeups += jobs

        stop = store.wake_on_queued(wake)
        yield client
        stop()
    assert context.door.held == 0, "every body read gave its bytes back"


def labeled_issue(label: str = "triad:design", installation: bool = True) -> dict[str, Any]:
    user = {"login": "alice", "id": 1, "type": "User"}
    payload: dict[str, Any] = {
        "action": "labeled",
        "issue": {"number": 7, "title": "Add search", "body": "please", "user": user},
        "label": {"name": label, "color": "ededed"},
        "repository": {"id": 9, "name": "repo", "full_name": "octo/repo", "owner": user},
        "sender": user,
    }
    if installation:
        payload["installation"] = {"id": 42}
    return payload
