"""What the web layer needs from the process around it, and the FastAPI dependencies for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from bot.metrics import Metrics
from bot.store import Store
from bot.web.door import DoorLimits


@dataclass
class AppContext:
    """The process's shared parts (in-process workers hear of queued jobs from the store).

    `admin_token`, when set, guards the admin port's pages and /metrics; `github_web_url` is
    where the admin page links issues and pull requests.
    """

    store: Store
    metrics: Metrics
    webhook_secret: str
    admin_token: str | None = None
    github_web_url: str = "https://github.com"
    #: Triad's own bot login once known: its own events are dropped at the door
    own_login: str | None = None
    #: what unverified requests may hold on the webhook port
    door: DoorLimits = field(default_factory=DoorLimits)


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(_context)]
