"""Where each webhook delivery goes: one table for the web layer's queue-or-drop and for the
delivery job's interpretation (`bot.routing.router`), composed from one router per concern."""

from __future__ import annotations

from bot.routing import checkruns, ci, commands, edits, labels, lifecycle, pulls, push, reviews
from bot.routing.router import Admitted, Done, DoorFacts, Ignored, Routed, Router

ROUTER = Router(
    labels.router,
    edits.router,
    commands.router,
    pulls.router,
    ci.router,
    reviews.router,
    lifecycle.router,
    checkruns.router,
    push.router,
)

__all__ = ["ROUTER", "Admitted", "Done", "DoorFacts", "Ignored", "Routed", "Router"]
